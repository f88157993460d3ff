#include "rows.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

namespace rnnkit {

template <typename T>
void gather_rows(index_t N, index_t F, const T* src, const std::int32_t* idx, T* dst) {
  for (index_t n = 0; n < N; ++n) std::memcpy(dst + n * F, src + static_cast<index_t>(idx[n]) * F, sizeof(T) * F);
}

template <typename T>
void scatter_add_rows(index_t N, index_t F, const T* src, const std::int32_t* idx, T* dst) {
  for (index_t n = 0; n < N; ++n) {
    T* d = dst + static_cast<index_t>(idx[n]) * F;
    const T* s = src + n * F;
    for (index_t f = 0; f < F; ++f) d[f] += s[f];
  }
}

template <typename T>
void copy_cols(index_t N, index_t width, const T* src, index_t src_F, index_t src_off, T* dst,
               index_t dst_F, index_t dst_off, bool accumulate) {
  for (index_t n = 0; n < N; ++n) {
    const T* s = src + n * src_F + src_off;
    T* d = dst + n * dst_F + dst_off;
    if (accumulate) {
      for (index_t j = 0; j < width; ++j) d[j] += s[j];
    } else {
      std::memcpy(d, s, sizeof(T) * width);
    }
  }
}

template <typename T>
void merge_halves(index_t N, index_t H, bool mean, const T* x, T* y) {
  for (index_t n = 0; n < N; ++n) {
    const T* a = x + n * 2 * H;
    const T* b = a + H;
    T* o = y + n * H;
    if (mean) {
      for (index_t j = 0; j < H; ++j) o[j] = (a[j] + b[j]) * T(0.5);
    } else {
      for (index_t j = 0; j < H; ++j) o[j] = a[j] + b[j];
    }
  }
}

template <typename T>
void split_halves_backward(index_t N, index_t H, bool mean, const T* dy, T* dx) {
  const T k = mean ? T(0.5) : T(1);
  for (index_t n = 0; n < N; ++n) {
    const T* g = dy + n * H;
    T* a = dx + n * 2 * H;
    T* b = a + H;
    for (index_t j = 0; j < H; ++j) {
      a[j] += k * g[j];
      b[j] += k * g[j];
    }
  }
}

template <typename T>
void softmax_rows(index_t N, index_t C, const T* x, T* y) {
  for (index_t n = 0; n < N; ++n) {
    const T* z = x + n * C;
    T* o = y + n * C;
    T m = z[0];
    for (index_t c = 1; c < C; ++c) m = std::max(m, z[c]);
    T s = 0;
    for (index_t c = 0; c < C; ++c) { o[c] = std::exp(z[c] - m); s += o[c]; }
    for (index_t c = 0; c < C; ++c) o[c] /= s;
  }
}

template <typename T>
void log_softmax_rows(index_t N, index_t C, const T* x, T* y) {
  for (index_t n = 0; n < N; ++n) {
    const T* z = x + n * C;
    T* o = y + n * C;
    T m = z[0];
    for (index_t c = 1; c < C; ++c) m = std::max(m, z[c]);
    double s = 0;
    for (index_t c = 0; c < C; ++c) s += std::exp(static_cast<double>(z[c] - m));
    const T lse = static_cast<T>(std::log(s));
    for (index_t c = 0; c < C; ++c) o[c] = (z[c] - m) - lse;
  }
}

template <typename T>
void argmax_rows(index_t N, index_t C, const T* x, std::int32_t* out) {
  for (index_t n = 0; n < N; ++n) {
    const T* z = x + n * C;
    index_t best = 0;
    for (index_t c = 1; c < C; ++c)
      if (z[c] > z[best]) best = c;
    out[n] = static_cast<std::int32_t>(best);
  }
}

template <typename T>
void topk_rows(index_t N, index_t C, index_t k, const T* x, T* values, std::int32_t* indices) {
  std::vector<std::int32_t> order(static_cast<std::size_t>(C));
  for (index_t n = 0; n < N; ++n) {
    const T* z = x + n * C;
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [z](std::int32_t a, std::int32_t b) {
      return z[a] > z[b] || (z[a] == z[b] && a < b);
    });
    for (index_t j = 0; j < k; ++j) {
      indices[n * k + j] = order[static_cast<std::size_t>(j)];
      values[n * k + j] = z[order[static_cast<std::size_t>(j)]];
    }
  }
}

#define RNNKIT_INSTANTIATE_ROWS(T)                                                                   \
  template void gather_rows<T>(index_t, index_t, const T*, const std::int32_t*, T*);                \
  template void scatter_add_rows<T>(index_t, index_t, const T*, const std::int32_t*, T*);           \
  template void copy_cols<T>(index_t, index_t, const T*, index_t, index_t, T*, index_t, index_t, bool); \
  template void merge_halves<T>(index_t, index_t, bool, const T*, T*);                              \
  template void split_halves_backward<T>(index_t, index_t, bool, const T*, T*);                     \
  template void softmax_rows<T>(index_t, index_t, const T*, T*);                                    \
  template void log_softmax_rows<T>(index_t, index_t, const T*, T*);                                \
  template void argmax_rows<T>(index_t, index_t, const T*, std::int32_t*);                          \
  template void topk_rows<T>(index_t, index_t, index_t, const T*, T*, std::int32_t*);
RNNKIT_INSTANTIATE_ROWS(float)
RNNKIT_INSTANTIATE_ROWS(double)

}  // namespace rnnkit
