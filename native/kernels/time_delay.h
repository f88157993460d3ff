// The gather of a time-delay (TDNN) layer: every output step sees the input K taps back.
#pragma once
#include <cstdint>

#include "common.h"

namespace rnnkit {

// y[t,b,k*F+f] = x[t-taps[k], b, f]            when t - taps[k] >= 0,
//              = history[D + t - taps[k], b, f] when it is < 0 and history is given,
//              = 0                              otherwise, and for padding steps t >= lengths[b].
// D = max tap (history row D-1 is the step just before t = 0).
// taps: [K] in [0,D]; x: [T,B,F]; lengths: [B] in [0,T] or null; history: [D,B,F] or null;
// y: [T,B,K*F] overwritten.
template <typename T>
void time_delay_forward(index_t Tn, index_t B, index_t F, index_t K, const std::int32_t* taps,
                        index_t D, const T* x, const std::int32_t* lengths, const T* history, T* y);

// The transpose: dx[t-taps[k],b] += dy[t,b,k] and dHistory[D+t-taps[k],b] += dy[t,b,k] for valid t.
// dy: [T,B,K*F]; dx: [T,B,F] accumulated or null; dHistory: [D,B,F] accumulated or null.
template <typename T>
void time_delay_backward(index_t Tn, index_t B, index_t F, index_t K, const std::int32_t* taps,
                         index_t D, const std::int32_t* lengths, const T* dy, T* dx, T* dhistory);

}  // namespace rnnkit
