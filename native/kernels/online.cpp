#include "online.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "gemm.h"

namespace rnnkit {

namespace {

// Calls f(q, p) for the n parameters unit j owns: q its index in the unit's block, p the index in
// the layer's flat parameters (w_ih, w_hh, b_ih, b_hh), gate block by gate block.
template <typename F>
inline void for_own(const SnapLayout& L, index_t j, F&& f) {
  const index_t G = L.G, H = L.H, I = L.I, GH = G * H, w = I + H + 2;
  for (index_t g = 0; g < G; ++g) {
    const index_t r = g * H + j, q0 = g * w;
    const index_t pih = r * I, phh = GH * I + r * H;
    for (index_t i = 0; i < I; ++i) f(q0 + i, pih + i);
    for (index_t i = 0; i < H; ++i) f(q0 + I + i, phh + i);
    f(q0 + I + H, GH * (I + H) + r);
    f(q0 + I + H + 1, GH * (I + H + 1) + r);
  }
}

// block ← src[i][own] + D · block for one unit; src[i]: the [Pl] row of state row i, D: [K,K].
// Arithmetic in double (as the JavaScript it replaced), rounded once to T.
template <typename T>
inline void snap_block(const SnapLayout& L, index_t j, const T* const* src, const double (*D)[2], T* block) {
  const index_t n = L.n();
  if (L.K == 1) {
    const double d = D[0][0];
    const T* s0 = src[0];
    for_own(L, j, [&](index_t q, index_t p) { block[q] = static_cast<T>(static_cast<double>(s0[p]) + d * static_cast<double>(block[q])); });
  } else {
    T* b0 = block;
    T* b1 = block + n;
    const T* s0 = src[0];
    const T* s1 = src[1];
    for_own(L, j, [&](index_t q, index_t p) {
      const double o0 = b0[q], o1 = b1[q];
      b0[q] = static_cast<T>(static_cast<double>(s0[p]) + D[0][0] * o0 + D[0][1] * o1);
      b1[q] = static_cast<T>(static_cast<double>(s1[p]) + D[1][0] * o0 + D[1][1] * o1);
    });
  }
}

// xoshiro128** (lib/rng.ts nextU32).
inline std::uint32_t rotl(std::uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }
inline std::uint32_t next_u32(std::uint32_t* s) {
  const std::uint32_t result = rotl(s[1] * 5u, 7) * 9u;
  const std::uint32_t t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 11);
  return result;
}

template <typename T>
double norm2(index_t n, const T* a) {
  double q = 0;
  for (index_t k = 0; k < n; ++k) q += static_cast<double>(a[k]) * static_cast<double>(a[k]);
  return std::sqrt(q);
}

}  // namespace

template <typename T>
void rtrl_update(index_t S, index_t P, index_t I, index_t Pl, index_t offset, const T* jss,
                 const T* jsx, const T* prev, const T* below, const T* jth, T* out) {
  gemm<T>(false, false, S, P, S, T(1), jss, S, prev, P, T(0), out, P);
  if (below) gemm<T>(false, false, S, P, I, T(1), jsx, I, below, P, T(1), out, P);
  for (index_t k = 0; k < S; ++k) {
    T* o = out + k * P + offset;
    const T* r = jth + k * Pl;
    for (index_t j = 0; j < Pl; ++j) o[j] += r[j];
  }
}

template <typename T>
void snap1_update_rows(const SnapLayout& L, const T* jss, const T* jth, T* sens) {
  const index_t H = L.H, K = L.K, S = K * H, Pl = L.layer_params(), n = L.n();
  for (index_t j = 0; j < H; ++j) {
    const index_t ks[2] = {j, H + j};
    const T* src[2] = {jth + ks[0] * Pl, K > 1 ? jth + ks[1] * Pl : nullptr};
    double D[2][2] = {{0, 0}, {0, 0}};
    for (index_t i = 0; i < K; ++i)
      for (index_t i2 = 0; i2 < K; ++i2) D[i][i2] = jss[ks[i] * S + ks[i2]];
    snap_block(L, j, src, D, sens + j * K * n);
  }
}

template <typename T>
void snap1_update_local(const SnapLayout& L, const T* w_hh, const T* g, const T* dh0, const T* dc0,
                        T* sens) {
  const index_t G = L.G, H = L.H, I = L.I, K = L.K, GH = G * H, Pl = L.layer_params(), n = L.n();
  const index_t obhh = GH * (I + H + 1);
  // The W_hh path of dh0 mixes units: mixed_i = db_hh,i · W_hh; what is left is the direct part.
  std::vector<T> mixed(static_cast<std::size_t>(K * H));
  for (index_t i = 0; i < K; ++i)
    gemm<T>(false, false, 1, H, GH, T(1), g + i * Pl + obhh, GH, w_hh, H, T(0), mixed.data() + i * H, H);
  for (index_t j = 0; j < H; ++j) {
    const T* src[2] = {g, K > 1 ? g + Pl : nullptr};
    double D[2][2] = {{0, 0}, {0, 0}};
    for (index_t i = 0; i < K; ++i) {
      const T* dbhh = g + i * Pl + obhh;
      double self = 0;
      for (index_t gg = 0; gg < G; ++gg) self += static_cast<double>(dbhh[gg * H + j]) * static_cast<double>(w_hh[(gg * H + j) * H + j]);
      D[i][0] = static_cast<double>(dh0[i * H + j]) - static_cast<double>(mixed[i * H + j]) + self;
      if (K > 1) D[i][1] = dc0[i * H + j];
    }
    snap_block(L, j, src, D, sens + j * K * n);
  }
}

template <typename T>
void snap1_accumulate(const SnapLayout& L, const T* dh, const T* sens, T* grads) {
  const index_t K = L.K, n = L.n();
  for (index_t j = 0; j < L.H; ++j) {
    const double d = dh[j];
    if (d == 0) continue;
    const T* row = sens + j * K * n;  // h_j is the first state row of the block
    for_own(L, j, [&](index_t q, index_t p) { grads[p] = static_cast<T>(static_cast<double>(grads[p]) + d * static_cast<double>(row[q])); });
  }
}

template <typename T>
void uoro_signs(std::uint32_t* state, index_t S, T* nu) {
  for (index_t k = 0; k < S; ++k) {
    // Rng.next() = ((u1 >>> 5) * 2^26 + (u2 >>> 6)) / 2^53 is below 1/2 exactly when u1's top bit is 0.
    const std::uint32_t u1 = next_u32(state);
    next_u32(state);
    nu[k] = (u1 >> 31) ? T(1) : T(-1);
  }
}

template <typename T>
void uoro_update(index_t S, index_t P, const T* js, const T* nu, const T* nuI, double* s_tilde,
                 double* th_tilde, T* s_model) {
  const double eps = 1e-7;
  const double rho0 = std::sqrt((norm2(P, th_tilde) + eps) / (norm2(S, js) + eps));
  const double rho1 = std::sqrt((norm2(P, nuI) + eps) / (norm2(S, nu) + eps));
  for (index_t k = 0; k < S; ++k) s_tilde[k] = rho0 * static_cast<double>(js[k]) + rho1 * static_cast<double>(nu[k]);
  for (index_t p = 0; p < P; ++p) th_tilde[p] = th_tilde[p] / rho0 + static_cast<double>(nuI[p]) / rho1;
  if (s_model)
    for (index_t k = 0; k < S; ++k) s_model[k] = static_cast<T>(s_tilde[k]);
}

template <typename T>
void uoro_accumulate(index_t H, index_t row, index_t P, const T* dh, const double* s_tilde,
                     const double* th_tilde, T* grads) {
  double k = 0;
  for (index_t j = 0; j < H; ++j) k += static_cast<double>(dh[j]) * s_tilde[row + j];
  for (index_t p = 0; p < P; ++p) grads[p] = static_cast<T>(static_cast<double>(grads[p]) + k * th_tilde[p]);
}

#define RNNKIT_INSTANTIATE_ONLINE(T)                                                              \
  template void rtrl_update<T>(index_t, index_t, index_t, index_t, index_t, const T*, const T*, \
                               const T*, const T*, const T*, T*);                               \
  template void snap1_update_rows<T>(const SnapLayout&, const T*, const T*, T*);                \
  template void snap1_update_local<T>(const SnapLayout&, const T*, const T*, const T*,          \
                                      const T*, T*);                                            \
  template void snap1_accumulate<T>(const SnapLayout&, const T*, const T*, T*);                 \
  template void uoro_signs<T>(std::uint32_t*, index_t, T*);                                     \
  template void uoro_update<T>(index_t, index_t, const T*, const T*, const T*, double*, double*, \
                               T*);                                                             \
  template void uoro_accumulate<T>(index_t, index_t, index_t, const T*, const double*,          \
                                   const double*, T*);
RNNKIT_INSTANTIATE_ONLINE(float)
RNNKIT_INSTANTIATE_ONLINE(double)

}  // namespace rnnkit
