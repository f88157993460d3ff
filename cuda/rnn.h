// A recurrent layer (one direction) over a whole sequence on the device: one GEMM for the input
// projection of every step, one recurrent GEMM and one fused gate kernel per step (haste's
// shape), and BPTT with the weight gradients as GEMMs over all steps. Same arguments, reserve
// layout and results as the CPU kernels (native/kernels/rnn.h); every pointer is device memory.
#pragma once
#include "../native/kernels/rnn.h"
#include "common.cuh"

namespace rnnkit {
namespace cuda {

index_t reserve_size(const RnnShape& s);

template <typename T>
void rnn_forward(const RnnShape& s, const T* x, const T* h0, const T* c0, const std::int32_t* lengths, const T* w_ih,
                 const T* w_hh, const T* b_ih, const T* b_hh, T* y, T* h_n, T* c_n, T* reserve);

template <typename T>
void rnn_backward(const RnnShape& s, const T* x, const std::int32_t* lengths, const T* w_ih, const T* w_hh,
                  const T* reserve, const T* dy, const T* dh_n, const T* dc_n, T* dx, T* dh0, T* dc0, T* dw_ih,
                  T* dw_hh, T* db_ih, T* db_hh);

}  // namespace cuda
}  // namespace rnnkit
