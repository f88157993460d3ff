#include "pooling.h"

#include <algorithm>

namespace rnnkit {

template <typename T>
void time_pool_forward(PoolMode mode, index_t Tn, index_t B, index_t F, const T* x,
                       const std::int32_t* lengths, T* y, std::int32_t* argmax) {
  for (index_t b = 0; b < B; ++b) {
    const index_t L = lengths ? lengths[b] : Tn;
    T* o = y + b * F;
    std::int32_t* am = argmax ? argmax + b * F : nullptr;
    if (am) std::fill(am, am + F, -1);
    if (L == 0) { std::fill(o, o + F, T(0)); continue; }
    if (mode == PoolMode::Last) {
      const T* s = x + ((L - 1) * B + b) * F;
      std::copy(s, s + F, o);
    } else if (mode == PoolMode::Mean) {
      std::fill(o, o + F, T(0));
      for (index_t t = 0; t < L; ++t) {
        const T* s = x + (t * B + b) * F;
        for (index_t f = 0; f < F; ++f) o[f] += s[f];
      }
      const T len = static_cast<T>(L);
      for (index_t f = 0; f < F; ++f) o[f] /= len;
    } else {
      const T* s0 = x + b * F;
      std::copy(s0, s0 + F, o);
      if (am) std::fill(am, am + F, 0);
      for (index_t t = 1; t < L; ++t) {
        const T* s = x + (t * B + b) * F;
        for (index_t f = 0; f < F; ++f)
          if (s[f] > o[f]) { o[f] = s[f]; am[f] = static_cast<std::int32_t>(t); }
      }
    }
  }
}

template <typename T>
void time_pool_backward(PoolMode mode, index_t Tn, index_t B, index_t F, const T* dy,
                        const std::int32_t* lengths, const std::int32_t* argmax, T* dx) {
  for (index_t b = 0; b < B; ++b) {
    const index_t L = lengths ? lengths[b] : Tn;
    const T* g = dy + b * F;
    if (mode == PoolMode::Max) {
      const std::int32_t* am = argmax + b * F;
      for (index_t f = 0; f < F; ++f)
        if (am[f] >= 0) dx[(static_cast<index_t>(am[f]) * B + b) * F + f] += g[f];
      continue;
    }
    if (L == 0) continue;
    if (mode == PoolMode::Last) {
      T* d = dx + ((L - 1) * B + b) * F;
      for (index_t f = 0; f < F; ++f) d[f] += g[f];
    } else {
      const T len = static_cast<T>(L);
      for (index_t t = 0; t < L; ++t) {
        T* d = dx + (t * B + b) * F;
        for (index_t f = 0; f < F; ++f) d[f] += g[f] / len;
      }
    }
  }
}

#define RNNKIT_INSTANTIATE_POOLING(T)                                                              \
  template void time_pool_forward<T>(PoolMode, index_t, index_t, index_t, const T*,               \
                                     const std::int32_t*, T*, std::int32_t*);                     \
  template void time_pool_backward<T>(PoolMode, index_t, index_t, index_t, const T*,              \
                                      const std::int32_t*, const std::int32_t*, T*);
RNNKIT_INSTANTIATE_POOLING(float)
RNNKIT_INSTANTIATE_POOLING(double)

}  // namespace rnnkit
