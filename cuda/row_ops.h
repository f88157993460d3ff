// Row ops and pooling over time on device buffers (cuda/row_ops.cu), with the CPU kernels' results
// (native/kernels/rows.h, pooling.h): the same loops per output element, in the same order, so
// sums match the CPU's rounding. Index arrays are checked by the binding before these run.
#pragma once
#include <cstdint>

#include "common.cuh"

namespace rnnkit {
namespace cuda {

// dst[n] = src[idx[n]].  src [R,F], idx [N] (device), dst [N,F] overwritten.
template <typename T> void gather_rows(index_t N, index_t F, const T* src, const std::int32_t* idx, T* dst);
// dst[idx[n]] += src[n] in the order of n, as the CPU adds them. host_idx: the same ids on the
// host (the binding copied them to check them), from which the per-row source lists are built.
template <typename T>
void scatter_add_rows(index_t R, index_t N, index_t F, const T* src, const std::int32_t* host_idx, T* dst);
template <typename T>
void copy_cols(index_t N, index_t width, const T* src, index_t src_F, index_t src_off, T* dst, index_t dst_F,
               index_t dst_off, bool accumulate);
template <typename T> void merge_halves(index_t N, index_t H, bool mean, const T* x, T* y);
template <typename T> void split_halves_backward(index_t N, index_t H, bool mean, const T* dy, T* dx);
template <typename T> void softmax_rows(index_t N, index_t C, const T* x, T* y);
template <typename T> void log_softmax_rows(index_t N, index_t C, const T* x, T* y);
template <typename T> void argmax_rows(index_t N, index_t C, const T* x, std::int32_t* out);
template <typename T> void topk_rows(index_t N, index_t C, index_t k, const T* x, T* values, std::int32_t* indices);

// mode: 0 last, 1 mean, 2 max (PoolMode's order). lengths may be null (every row T steps);
// argmax may be null except for max.
template <typename T>
void time_pool_forward(int mode, index_t Tn, index_t B, index_t F, const T* x, const std::int32_t* lengths, T* y,
                       std::int32_t* argmax);
template <typename T>
void time_pool_backward(int mode, index_t Tn, index_t B, index_t F, const T* dy, const std::int32_t* lengths,
                        const std::int32_t* argmax, T* dx);

// How many of x[0, n) are NaN or infinite (waits for the stream): the binding's require_finite.
template <typename T> double count_nonfinite(index_t n, const T* x);

}  // namespace cuda
}  // namespace rnnkit
