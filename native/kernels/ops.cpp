#include "ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <vector>

#include "cell_math.h"
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

namespace {
// exp over a row of logits: float uses the gate kernels' branch-free polynomial (~2 ulp), which
// vectorizes (the library's expf kept the loss of a char-LM batch at 4 ms); float64, the dtype
// of the gradient checks, keeps the library's exp.
inline float row_exp(float x) { return cellmath::fast_exp(x); }
inline double row_exp(double x) { return std::exp(x); }

template <typename T>
void exp_shifted(index_t C, const T* __restrict z, T m, T* __restrict e) {
  for (index_t c = 0; c < C; ++c) e[c] = row_exp(z[c] - m);
}

template <typename T>
double sum_as_double(index_t n, const T* v) {  // eight partial sums: vectorizes without reassociation
  double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  index_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int u = 0; u < 8; ++u) part[u] += static_cast<double>(v[i + u]);
  double s = ((part[0] + part[4]) + (part[1] + part[5])) + ((part[2] + part[6]) + (part[3] + part[7]));
  for (; i < n; ++i) s += static_cast<double>(v[i]);
  return s;
}

template <typename T>
T row_max(index_t n, const T* v) {  // eight running maxima: a serial max chain does not vectorize
  if (n < 8) {
    T m = v[0];
    for (index_t i = 1; i < n; ++i) m = std::max(m, v[i]);
    return m;
  }
  T part[8];
  for (int u = 0; u < 8; ++u) part[u] = v[u];
  index_t i = 8;
  for (; i + 8 <= n; i += 8)
    for (int u = 0; u < 8; ++u) part[u] = v[i + u] > part[u] ? v[i + u] : part[u];
  T m = part[0];
  for (int u = 1; u < 8; ++u) m = std::max(m, part[u]);
  for (; i < n; ++i) m = std::max(m, v[i]);
  return m;
}

// Rows per block of the loss: blocks' sums are added in block order, so the loss does not
// depend on how many threads ran them.
constexpr index_t kLossRows = 64;
}  // namespace

template <typename T>
double softmax_cross_entropy(index_t N, index_t C, const T* logits, const std::int32_t* targets,
                             const T* weights, std::int32_t ignore_index, const std::uint8_t* mask,
                             T scale, T* dlogits) {
  auto counted = [&](index_t n) {
    return targets[n] != ignore_index && (!mask || mask[n]);
  };
  double denom = 0;
  for (index_t n = 0; n < N; ++n)
    if (counted(n)) denom += weights ? static_cast<double>(weights[targets[n]]) : 1.0;
  const long blocks = static_cast<long>((N + kLossRows - 1) / kLossRows);
  std::vector<double> part(static_cast<std::size_t>(blocks), 0.0);
  const long grain = std::max<long>(1, static_cast<long>(32768 / (kLossRows * C + 1)));
  parallel_for(blocks, grain, [&](long b0, long b1) {
    std::vector<T> row(dlogits ? 0 : static_cast<std::size_t>(C));
    for (long bk = b0; bk < b1; ++bk) {
      double total = 0;
      const index_t n1 = std::min<index_t>(N, (bk + 1) * kLossRows);
      for (index_t n = bk * kLossRows; n < n1; ++n) {
        T* e = dlogits ? dlogits + n * C : row.data();
        if (!counted(n) || denom <= 0) {
          if (dlogits) std::fill(e, e + C, T(0));
          continue;
        }
        const T* z = logits + n * C;
        const T m = row_max(C, z);
        exp_shifted(C, z, m, e);
        const double s = sum_as_double(C, e);
        const double wy = weights ? static_cast<double>(weights[targets[n]]) : 1.0;
        total += wy * (static_cast<double>(m) + std::log(s) - static_cast<double>(z[targets[n]]));
        if (dlogits) {
          const double k = static_cast<double>(scale) * wy / denom;
          const T f = static_cast<T>(k / s);
          for (index_t c = 0; c < C; ++c) e[c] *= f;
          e[targets[n]] -= static_cast<T>(k);
        }
      }
      part[static_cast<std::size_t>(bk)] = total;
    }
  });
  double total = 0;
  for (double v : part) total += v;
  return denom > 0 ? total / denom : 0.0;
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
