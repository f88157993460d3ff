// The time-delay gather (native/kernels/time_delay.cpp) on the device: the forward is one thread
// per output element; the backward is a scatter-add with repeated targets (every tap reads the
// same x rows), so it runs the other way round: one thread per dx (or dhistory) element sums the
// K output elements that copied it, with no atomics and a deterministic order.
#include "time_delay.h"

namespace rnnkit {
namespace cuda {

namespace {
RNNKIT_HD bool step_valid(const std::int32_t* lengths, index_t b, index_t t) { return !lengths || t < lengths[b]; }
}  // namespace

template <typename T>
void time_delay_forward(index_t Tn, index_t B, index_t F, index_t K, const std::int32_t* taps, index_t D, const T* x,
                        const std::int32_t* lengths, const T* history, T* y) {
  for_each(
      Tn * B * K * F,
      [=] RNNKIT_LAMBDA(index_t e) {
        const index_t f = e % F, k = (e / F) % K, r = e / (F * K), b = r % B, t = r / B;
        if (!step_valid(lengths, b, t)) {
          y[e] = T(0);
          return;
        }
        const index_t s = t - taps[k];
        y[e] = s >= 0 ? x[(s * B + b) * F + f] : history ? history[((D + s) * B + b) * F + f] : T(0);
      },
      "time_delay_forward");
}

template <typename T>
void time_delay_backward(index_t Tn, index_t B, index_t F, index_t K, const std::int32_t* taps, index_t D,
                         const std::int32_t* lengths, const T* dy, T* dx, T* dhistory) {
  // Source step s (negative: history row D + s) was copied to output step t = s + taps[k].
  if (dx)
    for_each(
        Tn * B * F,
        [=] RNNKIT_LAMBDA(index_t e) {
          const index_t f = e % F, r = e / F, b = r % B, s = r / B;
          T acc = dx[e];
          for (index_t k = 0; k < K; ++k) {
            const index_t t = s + taps[k];
            if (t < Tn && step_valid(lengths, b, t)) acc += dy[((t * B + b) * K + k) * F + f];
          }
          dx[e] = acc;
        },
        "time_delay_backward_dx");
  if (dhistory)
    for_each(
        D * B * F,
        [=] RNNKIT_LAMBDA(index_t e) {
          const index_t f = e % F, r = e / F, b = r % B, s = r / B - D;
          T acc = dhistory[e];
          for (index_t k = 0; k < K; ++k) {
            const index_t t = s + taps[k];
            if (t >= 0 && t < Tn && step_valid(lengths, b, t)) acc += dy[((t * B + b) * K + k) * F + f];
          }
          dhistory[e] = acc;
        },
        "time_delay_backward_dhistory");
}

#define RNNKIT_CUDA_TIME_DELAY(T)                                                                               \
  template void time_delay_forward<T>(index_t, index_t, index_t, index_t, const std::int32_t*, index_t, const T*, \
                                      const std::int32_t*, const T*, T*);                                       \
  template void time_delay_backward<T>(index_t, index_t, index_t, index_t, const std::int32_t*, index_t,         \
                                       const std::int32_t*, const T*, T*, T*);
RNNKIT_CUDA_TIME_DELAY(float)
RNNKIT_CUDA_TIME_DELAY(double)

}  // namespace cuda
}  // namespace rnnkit
