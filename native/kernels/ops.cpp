#include "ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "gemm.h"
#include "threads.h"

namespace rnnkit {

template <typename T>
void linear_forward(index_t N, index_t I, index_t O, const T* x, const T* w, const T* b, T* y) {
  if (b) {
    for (index_t n = 0; n < N; ++n) std::memcpy(y + n * O, b, sizeof(T) * O);
  }
  gemm<T>(false, true, N, O, I, T(1), x, I, w, I, b ? T(1) : T(0), y, O);
}

template <typename T>
void linear_backward(index_t N, index_t I, index_t O, const T* x, const T* w, const T* dy, T* dx,
                     T* dw, T* db) {
  gemm<T>(true, false, O, I, N, T(1), dy, O, x, I, T(1), dw, I);
  if (db)
    for (index_t n = 0; n < N; ++n)
      for (index_t o = 0; o < O; ++o) db[o] += dy[n * O + o];
  if (dx) gemm<T>(false, false, N, I, O, T(1), dy, O, w, I, T(1), dx, I);
}

template <typename T>
void embedding_forward(index_t N, index_t E, const std::int32_t* ids, const T* w, T* y) {
  for (index_t n = 0; n < N; ++n) std::memcpy(y + n * E, w + static_cast<index_t>(ids[n]) * E, sizeof(T) * E);
}

template <typename T>
void embedding_backward(index_t N, index_t E, const std::int32_t* ids, std::int32_t padding_idx,
                        const T* dy, T* dw) {
  for (index_t n = 0; n < N; ++n) {
    if (ids[n] == padding_idx) continue;
    T* row = dw + static_cast<index_t>(ids[n]) * E;
    const T* d = dy + n * E;
    for (index_t e = 0; e < E; ++e) row[e] += d[e];
  }
}

template <typename T>
double softmax_cross_entropy(index_t N, index_t C, const T* logits, const std::int32_t* targets,
                             const T* weights, std::int32_t ignore_index, const std::uint8_t* mask,
                             T scale, T* dlogits) {
  double total = 0, denom = 0;
  auto counted = [&](index_t n) {
    return targets[n] != ignore_index && (!mask || mask[n]);
  };
  for (index_t n = 0; n < N; ++n) {
    if (!counted(n)) continue;
    const T* z = logits + n * C;
    T m = z[0];
    for (index_t c = 1; c < C; ++c) m = std::max(m, z[c]);
    double s = 0;
    for (index_t c = 0; c < C; ++c) s += std::exp(static_cast<double>(z[c] - m));
    const double lse = static_cast<double>(m) + std::log(s);
    const double wy = weights ? static_cast<double>(weights[targets[n]]) : 1.0;
    total += wy * (lse - static_cast<double>(z[targets[n]]));
    denom += wy;
  }
  const double loss = denom > 0 ? total / denom : 0.0;
  if (dlogits) {
    for (index_t n = 0; n < N; ++n) {
      T* d = dlogits + n * C;
      if (!counted(n) || denom <= 0) { std::fill(d, d + C, T(0)); continue; }
      const T* z = logits + n * C;
      T m = z[0];
      for (index_t c = 1; c < C; ++c) m = std::max(m, z[c]);
      T s = 0;
      for (index_t c = 0; c < C; ++c) { d[c] = std::exp(z[c] - m); s += d[c]; }
      const T wy = weights ? weights[targets[n]] : T(1);
      const T k = static_cast<T>(scale * wy / denom);
      for (index_t c = 0; c < C; ++c) d[c] = d[c] / s * k;
      d[targets[n]] -= k;
    }
  }
  return loss;
}

template <typename T>
double mse_loss(index_t n, const T* pred, const T* target, T scale, T* dpred) {
  if (n == 0) return 0.0;
  double s = 0;
  for (index_t i = 0; i < n; ++i) {
    double d = static_cast<double>(pred[i]) - static_cast<double>(target[i]);
    s += d * d;
  }
  if (dpred) {
    const T k = static_cast<T>(2.0 * static_cast<double>(scale) / static_cast<double>(n));
    for (index_t i = 0; i < n; ++i) dpred[i] = k * (pred[i] - target[i]);
  }
  return s / static_cast<double>(n);
}

namespace {
// splitmix64 finalizer of (seed, counter): a counter-based generator with no state.
inline std::uint64_t mix(std::uint64_t seed, std::uint64_t i) {
  std::uint64_t z = seed * 0x9E3779B97F4A7C15ull + i + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
}  // namespace

template <typename T>
void dropout_mask(index_t n, double p, std::uint64_t seed, T* mask) {
  const T keep = p < 1.0 ? static_cast<T>(1.0 / (1.0 - p)) : T(0);
  for (index_t i = 0; i < n; ++i) {
    const double u = static_cast<double>(mix(seed, static_cast<std::uint64_t>(i)) >> 11) * 0x1.0p-53;
    mask[i] = u < p ? T(0) : keep;
  }
}

template <typename T>
double l2_norm(index_t n, const T* g) {
  // Eight independent partial sums: the loop vectorizes without reassociation flags.
  double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  index_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int u = 0; u < 8; ++u) part[u] += static_cast<double>(g[i + u]) * static_cast<double>(g[i + u]);
  double s = ((part[0] + part[4]) + (part[1] + part[5])) + ((part[2] + part[6]) + (part[3] + part[7]));
  for (; i < n; ++i) s += static_cast<double>(g[i]) * static_cast<double>(g[i]);
  return std::sqrt(s);
}

#define RNNKIT_INSTANTIATE_OPS(T)                                                                \
  template void linear_forward<T>(index_t, index_t, index_t, const T*, const T*, const T*, T*);  \
  template void linear_backward<T>(index_t, index_t, index_t, const T*, const T*, const T*, T*,  \
                                   T*, T*);                                                      \
  template void embedding_forward<T>(index_t, index_t, const std::int32_t*, const T*, T*);       \
  template void embedding_backward<T>(index_t, index_t, const std::int32_t*, std::int32_t,       \
                                      const T*, T*);                                             \
  template double softmax_cross_entropy<T>(index_t, index_t, const T*, const std::int32_t*,      \
                                           const T*, std::int32_t, const std::uint8_t*, T, T*);  \
  template double mse_loss<T>(index_t, const T*, const T*, T, T*);                               \
  template void dropout_mask<T>(index_t, double, std::uint64_t, T*);                             \
  template double l2_norm<T>(index_t, const T*);
RNNKIT_INSTANTIATE_OPS(float)
RNNKIT_INSTANTIATE_OPS(double)

}  // namespace rnnkit
