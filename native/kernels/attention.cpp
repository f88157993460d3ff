#include "attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace rnnkit {

template <typename T>
void attention_forward(index_t Tn, index_t S, index_t B, index_t Hd, index_t He, const T* q,
                       const T* keys, const T* values, const std::int32_t* lengths, T* alpha,
                       T* context) {
  for (index_t t = 0; t < Tn; ++t)
    for (index_t b = 0; b < B; ++b) {
      const index_t L = lengths ? lengths[b] : S;
      const T* h = q + (t * B + b) * Hd;
      T* a = alpha + (t * B + b) * S;
      T* c = context + (t * B + b) * He;
      T m = T(0);
      for (index_t j = 0; j < L; ++j) {
        const T* e = keys + (j * B + b) * Hd;
        T sc = 0;
        for (index_t k = 0; k < Hd; ++k) sc += h[k] * e[k];
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
