// Row kernels on 2-D buffers: gather/scatter of rows, column blocks, halves of a bidirectional
// output, softmax, argmax and top-k of every row. The binding checks indices and sizes.
#pragma once
#include <cstdint>

#include "common.h"

namespace rnnkit {

// dst[n] = src[idx[n]].  src: [R,F]; idx: [N] in [0,R); dst: [N,F] overwritten.
template <typename T>
void gather_rows(index_t N, index_t F, const T* src, const std::int32_t* idx, T* dst);
// dst[idx[n]] += src[n] (idx may repeat).  src: [N,F]; idx: [N] in [0,R); dst: [R,F] accumulated.
template <typename T>
void scatter_add_rows(index_t N, index_t F, const T* src, const std::int32_t* idx, T* dst);

// dst[n, dst_off + j] = (or +=, accumulate) src[n, src_off + j] for j < width.
// src: [N,src_F]; dst: [N,dst_F]; the column block is overwritten or accumulated, the rest of
// dst is untouched.
template <typename T>
void copy_cols(index_t N, index_t width, const T* src, index_t src_F, index_t src_off, T* dst,
               index_t dst_F, index_t dst_off, bool accumulate);

// y = x[:, :H] + x[:, H:], times 0.5 when mean.  x: [N,2H]; y: [N,H] overwritten.
template <typename T>
void merge_halves(index_t N, index_t H, bool mean, const T* x, T* y);
// Backward of merge_halves: dx[:, :H] += k dy, dx[:, H:] += k dy (k = 1 or 0.5).
// dy: [N,H]; dx: [N,2H] accumulated.
template <typename T>
void split_halves_backward(index_t N, index_t H, bool mean, const T* dy, T* dx);

// Max-subtracted softmax / log-softmax of every row.  x: [N,C]; y: [N,C] overwritten.
template <typename T>
void softmax_rows(index_t N, index_t C, const T* x, T* y);
template <typename T>
void log_softmax_rows(index_t N, index_t C, const T* x, T* y);

// out[n] = the first c with the largest x[n,c] (comparisons as `>`, so a NaN never wins over
// column 0).  x: [N,C]; out: [N] overwritten.
template <typename T>
void argmax_rows(index_t N, index_t C, const T* x, std::int32_t* out);

// The k largest entries of every row, by value descending, ties by the lower column.
// x: [N,C]; values: [N,k] and indices: [N,k] overwritten; 1 <= k <= C.
template <typename T>
void topk_rows(index_t N, index_t C, index_t k, const T* x, T* values, std::int32_t* indices);

}  // namespace rnnkit
