#include "attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "threads.h"

namespace rnnkit {

namespace {
// Eight independent partial sums: the loop vectorizes and its additions no longer wait on one
// another (the order of the sum differs from a plain loop's by rounding only).
template <typename T>
T dot(const T* a, const T* b, index_t n) {
  T p[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  index_t k = 0;
  for (; k + 8 <= n; k += 8)
    for (int u = 0; u < 8; ++u) p[u] += a[k + u] * b[k + u];
  T s = ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
  for (; k < n; ++k) s += a[k] * b[k];
  return s;
}
}  // namespace

template <typename T>
void attention_forward(index_t Tn, index_t S, index_t B, index_t Hd, index_t He, const T* q,
                       const T* keys, const T* values, const std::int32_t* lengths, T* alpha,
                       T* context) {
  // Rows (t, b) are independent: large batches (beam search over many sources) split over the
  // pool, in chunks of about 64k multiply-adds.
  const long rows = static_cast<long>(Tn * B);
  const long grain = std::max<long>(1, static_cast<long>((1 << 16) / std::max<index_t>(1, S * (Hd + He))));
  parallel_for(rows, grain, [&](long r0, long r1) {
    for (long r = r0; r < r1; ++r) {
      const index_t b = static_cast<index_t>(r) % B;
      const index_t L = lengths ? lengths[b] : S;
      const T* h = q + r * Hd;
      T* a = alpha + r * S;
      T* c = context + r * He;
      T m = T(0);
      for (index_t j = 0; j < L; ++j) {
        const T sc = dot(h, keys + (j * B + b) * Hd, Hd);
        a[j] = sc;
        m = j == 0 ? sc : std::max(m, sc);
      }
      T sum = 0;
      for (index_t j = 0; j < L; ++j) { a[j] = std::exp(a[j] - m); sum += a[j]; }
      for (index_t j = 0; j < L; ++j) a[j] /= sum;
      std::fill(a + L, a + S, T(0));
      std::fill(c, c + He, T(0));
      for (index_t j = 0; j < L; ++j) {
        const T w = a[j];
        const T* v = values + (j * B + b) * He;
        for (index_t k = 0; k < He; ++k) c[k] += w * v[k];
      }
    }
  });
}

template <typename T>
void attention_backward(index_t Tn, index_t S, index_t B, index_t Hd, index_t He, const T* q,
                        const T* keys, const T* values, const std::int32_t* lengths, const T* alpha,
                        const T* dcontext, T* dq, T* dkeys, T* dvalues) {
  std::vector<T> dalpha(static_cast<std::size_t>(S));
  for (index_t t = 0; t < Tn; ++t)
    for (index_t b = 0; b < B; ++b) {
      const index_t L = lengths ? lengths[b] : S;
      const T* h = q + (t * B + b) * Hd;
      const T* a = alpha + (t * B + b) * S;
      const T* dc = dcontext + (t * B + b) * He;
      T dot = 0;
      for (index_t j = 0; j < L; ++j) {
        const T* v = values + (j * B + b) * He;
        T g = 0;
        for (index_t k = 0; k < He; ++k) g += dc[k] * v[k];
        if (dvalues) {
          T* dv = dvalues + (j * B + b) * He;
          for (index_t k = 0; k < He; ++k) dv[k] += a[j] * dc[k];
        }
        dalpha[static_cast<std::size_t>(j)] = g;
        dot += a[j] * g;
      }
      for (index_t j = 0; j < L; ++j) {
        const T ds = a[j] * (dalpha[static_cast<std::size_t>(j)] - dot);
        const T* e = keys + (j * B + b) * Hd;
        if (dq) {
          T* d = dq + (t * B + b) * Hd;
          for (index_t k = 0; k < Hd; ++k) d[k] += ds * e[k];
        }
        if (dkeys) {
          T* dk = dkeys + (j * B + b) * Hd;
          for (index_t k = 0; k < Hd; ++k) dk[k] += ds * h[k];
        }
      }
    }
}

#define RNNKIT_INSTANTIATE_ATTENTION(T)                                                              \
  template void attention_forward<T>(index_t, index_t, index_t, index_t, index_t, const T*,         \
                                     const T*, const T*, const std::int32_t*, T*, T*);              \
  template void attention_backward<T>(index_t, index_t, index_t, index_t, index_t, const T*,        \
                                      const T*, const T*, const std::int32_t*, const T*, const T*,  \
                                      T*, T*, T*);
RNNKIT_INSTANTIATE_ATTENTION(float)
RNNKIT_INSTANTIATE_ATTENTION(double)

}  // namespace rnnkit
