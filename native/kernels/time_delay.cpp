#include "time_delay.h"

#include <algorithm>
#include <cstring>

namespace rnnkit {

template <typename T>
void time_delay_forward(index_t Tn, index_t B, index_t F, index_t K, const std::int32_t* taps,
                        index_t D, const T* x, const std::int32_t* lengths, const T* history, T* y) {
  for (index_t t = 0; t < Tn; ++t)
    for (index_t b = 0; b < B; ++b) {
      T* o = y + (t * B + b) * K * F;
      if (lengths && t >= lengths[b]) { std::fill(o, o + K * F, T(0)); continue; }
      for (index_t k = 0; k < K; ++k) {
        const index_t s = t - taps[k];
        T* ok = o + k * F;
        if (s >= 0) std::memcpy(ok, x + (s * B + b) * F, sizeof(T) * F);
        else if (history) std::memcpy(ok, history + ((D + s) * B + b) * F, sizeof(T) * F);
        else std::fill(ok, ok + F, T(0));
      }
    }
}

template <typename T>
void time_delay_backward(index_t Tn, index_t B, index_t F, index_t K, const std::int32_t* taps,
                         index_t D, const std::int32_t* lengths, const T* dy, T* dx, T* dhistory) {
  for (index_t t = 0; t < Tn; ++t)
    for (index_t b = 0; b < B; ++b) {
      if (lengths && t >= lengths[b]) continue;
      const T* g = dy + (t * B + b) * K * F;
      for (index_t k = 0; k < K; ++k) {
        const index_t s = t - taps[k];
        T* d = s >= 0 ? (dx ? dx + (s * B + b) * F : nullptr)
                      : (dhistory ? dhistory + ((D + s) * B + b) * F : nullptr);
        if (!d) continue;
        const T* gk = g + k * F;
        for (index_t f = 0; f < F; ++f) d[f] += gk[f];
      }
    }
}

#define RNNKIT_INSTANTIATE_TIME_DELAY(T)                                                           \
  template void time_delay_forward<T>(index_t, index_t, index_t, index_t, const std::int32_t*,    \
                                      index_t, const T*, const std::int32_t*, const T*, T*);      \
  template void time_delay_backward<T>(index_t, index_t, index_t, index_t, const std::int32_t*,   \
                                       index_t, const std::int32_t*, const T*, T*, T*);
RNNKIT_INSTANTIATE_TIME_DELAY(float)
RNNKIT_INSTANTIATE_TIME_DELAY(double)

}  // namespace rnnkit
