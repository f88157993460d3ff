// Per-element gate math shared by the CPU kernels and the CUDA kernels (__host__ __device__).
// float uses branch-free approximations (Cephes polynomials, ~2 ulp) that vectorize; double
// uses the exact library functions so float64 gradient checks see the true math.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include "common.h"

namespace rnnkit {
namespace cellmath {

RNNKIT_HD float bits_to_float(std::int32_t i) {
#if defined(__CUDA_ARCH__)
  return __int_as_float(i);
#else
  float f;
  std::memcpy(&f, &i, sizeof f);
  return f;
#endif
}

// exp(x) for float: Cephes expf. Rounding through the 1.5*2^23 trick keeps it vectorizable
// without SSE4.1's roundps.
RNNKIT_HD float fast_exp(float x) {
  x = x < -87.33654f ? -87.33654f : x;
  x = x > 88.37626f ? 88.37626f : x;
  const float magic = 12582912.0f;
  float fx = (x * 1.44269504088896341f + magic) - magic;
  x = x - fx * 0.693359375f;
  x = x - fx * -2.12194440e-4f;
  float z = x * x;
  float y = 1.9875691500E-4f;
  y = y * x + 1.3981999507E-3f;
  y = y * x + 8.3334519073E-3f;
  y = y * x + 4.1665795894E-2f;
  y = y * x + 1.6666665459E-1f;
  y = y * x + 5.0000001201E-1f;
  y = y * z + x + 1.0f;
  std::int32_t n = static_cast<std::int32_t>(fx);
  return y * bits_to_float((n + 127) << 23);
}

RNNKIT_HD float sigmoid(float x) { return 1.0f / (1.0f + fast_exp(-x)); }
RNNKIT_HD double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// tanh for float: odd polynomial near 0 (keeps relative accuracy), 1 - 2/(e^{2|x|}+1) beyond.
RNNKIT_HD float tanh_(float x) {
  float ax = x < 0.0f ? -x : x;
  float z = x * x;
  float p = -5.70498872745E-3f;
  p = p * z + 2.06390887954E-2f;
  p = p * z - 5.37397155531E-2f;
  p = p * z + 1.33314422036E-1f;
  p = p * z - 3.33332819422E-1f;
  float small = x + x * z * p;
  float big = 1.0f - 2.0f / (fast_exp(2.0f * ax) + 1.0f);
  big = x < 0.0f ? -big : big;
  return ax < 0.625f ? small : big;
}
RNNKIT_HD double tanh_(double x) { return std::tanh(x); }

template <typename T>
RNNKIT_HD T activate(Activation a, T x) {
  if (a == Activation::Tanh) return tanh_(x);
  if (a == Activation::Sigmoid) return sigmoid(x);
  return x > T(0) ? x : T(0);
}
// Derivative expressed through the activation's output y = f(x).
template <typename T>
RNNKIT_HD T activate_grad(Activation a, T y) {
  if (a == Activation::Tanh) return T(1) - y * y;
  if (a == Activation::Sigmoid) return y * (T(1) - y);
  return y > T(0) ? T(1) : T(0);
}

// ---- LSTM (gate order i, f, g, o) ----
// The activations are applied separately (sigmoid on i, f, o; tanh_ on g and on c), so the CPU
// can run them as flat vector loops; these functions hold the rest of the cell's math.
template <typename T>
RNNKIT_HD T lstm_cell_state(T i, T f, T g, T c_prev) { return f * c_prev + i * g; }
// tc = tanh(c) of this step. dh, dc: gradients w.r.t. this step's h and c.
// Out: pre-activation gate gradients and the gradient w.r.t. c_prev.
template <typename T>
RNNKIT_HD void lstm_backward(T i, T f, T g, T o, T c_prev, T tc, T dh, T dc, T& dpi, T& dpf,
                             T& dpg, T& dpo, T& dc_prev) {
  T dct = dc + dh * o * (T(1) - tc * tc);
  dpo = dh * tc * o * (T(1) - o);
  dpi = dct * g * i * (T(1) - i);
  dpg = dct * i * (T(1) - g * g);
  dpf = dct * c_prev * f * (T(1) - f);
  dc_prev = dct * f;
}

// ---- GRU (gate order r, z, n) ----
// pytorch variant: n = tanh(xn + r * hn), hn = W_hn h + b_hn.
// original variant: n = tanh(xn + hn), hn = W_hn (r h) + b_hn. Same formula once hn is known.
// r = sigmoid(.), z = sigmoid(.), n = tanh_(gru_n_preact(...)), h = gru_state(...).
template <typename T>
RNNKIT_HD T gru_n_preact(T xn, T hn, T r, bool reset_after) { return reset_after ? xn + r * hn : xn + hn; }
template <typename T>
RNNKIT_HD T gru_state(T z, T n, T h_prev) { return (T(1) - z) * n + z * h_prev; }
// Out: dpz, dpn (w.r.t. the tanh argument), dh_direct (the z*dh path to h_prev).
// For reset_after, also dpr and dhn = dpn * r (gradient w.r.t. W_hn h + b_hn).
template <typename T>
RNNKIT_HD void gru_backward(T r, T z, T n, T hn, T h_prev, T dh, bool reset_after, T& dpr, T& dpz,
                            T& dpn, T& dhn, T& dh_direct) {
  T dn = dh * (T(1) - z);
  T dz = dh * (h_prev - n);
  dh_direct = dh * z;
  dpn = dn * (T(1) - n * n);
  dpz = dz * z * (T(1) - z);
  if (reset_after) {
    dpr = dpn * hn * r * (T(1) - r);
    dhn = dpn * r;
  } else {
    dpr = T(0);  // computed after d(r h) is known, see gru_backward_reset_before
    dhn = dpn;
  }
}
// original variant: drh = gradient w.r.t. (r h); gives dpr and adds to dh_direct.
template <typename T>
RNNKIT_HD void gru_backward_reset_before(T r, T h_prev, T drh, T& dpr, T& dh_direct) {
  dpr = drh * h_prev * r * (T(1) - r);
  dh_direct += drh * r;
}

}  // namespace cellmath
}  // namespace rnnkit
