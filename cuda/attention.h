// The attention core on the device (Luong dot score), as native/kernels/attention.cpp: scores,
// masked softmax over each sequence's source length, context, and the accumulated gradients.
// Every pointer is device memory; lengths (optional) were checked on the host to lie in [1, S].
#pragma once
#include <cstdint>

#include "common.cuh"

namespace rnnkit {
namespace cuda {

template <typename T>
void attention_forward(index_t Tn, index_t S, index_t B, index_t Hd, index_t He, const T* q, const T* keys,
                       const T* values, const std::int32_t* lengths, T* alpha, T* context);

// dq, dkeys, dvalues optional (null) and accumulated; dkeys and dvalues may be one buffer.
template <typename T>
void attention_backward(index_t Tn, index_t S, index_t B, index_t Hd, index_t He, const T* q, const T* keys,
                        const T* values, const std::int32_t* lengths, const T* alpha, const T* dcontext, T* dq,
                        T* dkeys, T* dvalues);

}  // namespace cuda
}  // namespace rnnkit
