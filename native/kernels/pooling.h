// Pooling over time of a padded, time-major batch (the TimePooling layer).
#pragma once
#include <cstdint>

#include "common.h"

namespace rnnkit {

enum class PoolMode : int { Last = 0, Mean = 1, Max = 2 };

// For every batch row b with L = lengths[b] (T when lengths is null) valid steps:
//   last: y[b] = x[L-1, b];  mean: y[b] = (Σ_{t<L} x[t,b]) / L;  max: y[b,f] = max_{t<L} x[t,b,f]
//   (ties pick the earliest step; argmax[b,f] = that step).
// A zero-length row pools to 0 and its argmax is -1; argmax is -1 everywhere for last/mean.
// x: [T,B,F]; lengths: [B] in [0,T] or null; y: [B,F] overwritten; argmax: [B,F] overwritten or
// null (required for max).
template <typename T>
void time_pool_forward(PoolMode mode, index_t Tn, index_t B, index_t F, const T* x,
                       const std::int32_t* lengths, T* y, std::int32_t* argmax);

// dx += the gradient of the pooling: last: dx[L-1,b] += dy[b]; mean: dx[t,b] += dy[b] / L for
// t < L; max: dx[argmax[b,f], b, f] += dy[b,f] (skipped where argmax is -1).
// dy: [B,F]; lengths: [B] or null; argmax: [B,F] from the forward (max only); dx: [T,B,F] accumulated.
template <typename T>
void time_pool_backward(PoolMode mode, index_t Tn, index_t B, index_t F, const T* dy,
                        const std::int32_t* lengths, const std::int32_t* argmax, T* dx);

}  // namespace rnnkit
