// The time-delay gather (TDNN unfold) and its scatter-add backward on the device, as
// native/kernels/time_delay.cpp. taps is a device int32 buffer [K]; D (the largest tap) was
// read on the host, which sizes history and dhistory [D,B,F].
#pragma once
#include <cstdint>

#include "common.cuh"

namespace rnnkit {
namespace cuda {

template <typename T>
void time_delay_forward(index_t Tn, index_t B, index_t F, index_t K, const std::int32_t* taps, index_t D, const T* x,
                        const std::int32_t* lengths, const T* history, T* y);

// dx, dhistory optional (null) and accumulated.
template <typename T>
void time_delay_backward(index_t Tn, index_t B, index_t F, index_t K, const std::int32_t* taps, index_t D,
                         const std::int32_t* lengths, const T* dy, T* dx, T* dhistory);

}  // namespace cuda
}  // namespace rnnkit
