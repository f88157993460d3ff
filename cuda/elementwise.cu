// Element-wise ops over flat buffers, as native/kernels/elementwise.cpp and ops.cpp compute
// them: fill, axpby, mul, scale, the activations, the L2 norm, the finiteness flag, dropout masks.
#include "elementwise.h"

#include <cmath>

#include "../native/kernels/cell_math.h"
#include "reduce.cuh"

namespace rnnkit {
namespace cuda {

template <typename T>
void fill(index_t n, T value, T* x) {
  for_each(n, [=] RNNKIT_LAMBDA(index_t i) { x[i] = value; }, "fill");
}

template <typename T>
void axpby(index_t n, T a, const T* x, T b, T* y) {
  // b = 0 writes y without reading it (y may hold NaN), as on the CPU.
  for_each(n, [=] RNNKIT_LAMBDA(index_t i) { y[i] = b == T(0) ? a * x[i] : a * x[i] + b * y[i]; }, "axpby");
}

template <typename T>
void mul(index_t n, const T* x, const T* y, T* out) {
  for_each(n, [=] RNNKIT_LAMBDA(index_t i) { out[i] = x[i] * y[i]; }, "mul");
}

template <typename T>
void scale(index_t n, T alpha, T* x) {
  for_each(n, [=] RNNKIT_LAMBDA(index_t i) { x[i] *= alpha; }, "scale");
}

// kind: 0 tanh, 1 sigmoid, 2 relu, 3 identity (ActivationKind's order in lib/native.ts).
template <typename T>
void activation_forward(int kind, index_t n, const T* x, T* y) {
  for_each(
      n,
      [=] RNNKIT_LAMBDA(index_t i) {
        const T v = x[i];
        y[i] = kind == 0   ? cellmath::tanh_(v)
               : kind == 1 ? cellmath::sigmoid(v)
               : kind == 2 ? (v > T(0) ? v : T(0))
                           : v;
      },
      "activation_forward");
}

template <typename T>
void activation_backward(int kind, index_t n, const T* y, const T* dy, T* dx) {
  for_each(
      n,
      [=] RNNKIT_LAMBDA(index_t i) {
        const T v = y[i];
        const T g = kind == 0 ? T(1) - v * v : kind == 1 ? v * (T(1) - v) : kind == 2 ? (v > T(0) ? T(1) : T(0)) : T(1);
        dx[i] += dy[i] * g;
      },
      "activation_backward");
}

template <typename T>
double l2_norm(index_t n, const T* x) {
  return std::sqrt(sum_to_host(
      n, [=] RNNKIT_LAMBDA(index_t i) { return static_cast<double>(x[i]) * static_cast<double>(x[i]); }, "l2_norm"));
}

template <typename T>
bool all_finite(index_t n, const T* x) {
  const double bad = sum_to_host(
      n,
      [=] RNNKIT_LAMBDA(index_t i) {
        const T v = x[i];
        return (v - v == T(0)) ? 0.0 : 1.0;  // inf - inf and NaN - NaN are NaN
      },
      "all_finite");
  return bad == 0.0;
}

// The CPU's counter-based generator (native/kernels/ops.cpp): the mask of element i depends on
// (seed, i) only, so the GPU draws the same masks.
RNNKIT_HD std::uint64_t mix(std::uint64_t seed, std::uint64_t i) {
  std::uint64_t z = seed * 0x9E3779B97F4A7C15ULL + i + 0x632BE59BD9B4E019ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

template <typename T>
void dropout_mask(index_t n, double p, std::uint64_t seed, T* mask) {
  const T keep = p < 1.0 ? static_cast<T>(1.0 / (1.0 - p)) : T(0);
  for_each(
      n,
      [=] RNNKIT_LAMBDA(index_t i) {
        const double u = static_cast<double>(mix(seed, static_cast<std::uint64_t>(i)) >> 11) * 0x1.0p-53;
        mask[i] = u < p ? T(0) : keep;
      },
      "dropout_mask");
}

#define RNNKIT_CUDA_ELEMENTWISE(T)                                            \
  template void fill<T>(index_t, T, T*);                                      \
  template void axpby<T>(index_t, T, const T*, T, T*);                        \
  template void mul<T>(index_t, const T*, const T*, T*);                      \
  template void scale<T>(index_t, T, T*);                                     \
  template void activation_forward<T>(int, index_t, const T*, T*);            \
  template void activation_backward<T>(int, index_t, const T*, const T*, T*); \
  template double l2_norm<T>(index_t, const T*);                              \
  template bool all_finite<T>(index_t, const T*);                             \
  template void dropout_mask<T>(index_t, double, std::uint64_t, T*);
RNNKIT_CUDA_ELEMENTWISE(float)
RNNKIT_CUDA_ELEMENTWISE(double)
template void fill<std::int32_t>(index_t, std::int32_t, std::int32_t*);
template void fill<std::uint8_t>(index_t, std::uint8_t, std::uint8_t*);

}  // namespace cuda
}  // namespace rnnkit
