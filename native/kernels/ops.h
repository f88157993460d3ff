// Non-recurrent kernels: linear, embedding, losses, dropout masks, gradient norm.
#pragma once
#include <cstdint>

#include "common.h"

namespace rnnkit {

// y = x W^T + b.  x: [N,I], w: [O,I], b: [O] or null, y: [N,O] (overwritten).
template <typename T>
void linear_forward(index_t N, index_t I, index_t O, const T* x, const T* w, const T* b, T* y);
// dx: [N,I] (+=, or null), dw: [O,I] (+=), db: [O] (+=, or null).
template <typename T>
void linear_backward(index_t N, index_t I, index_t O, const T* x, const T* w, const T* dy, T* dx,
                     T* dw, T* db);

// y[n] = w[ids[n]].  ids: [N] in [0,V) (checked by the caller), w: [V,E], y: [N,E].
template <typename T>
void embedding_forward(index_t N, index_t E, const std::int32_t* ids, const T* w, T* y);
// dw[ids[n]] += dy[n], except for ids equal to padding_idx (-1: none).
template <typename T>
void embedding_backward(index_t N, index_t E, const std::int32_t* ids, std::int32_t padding_idx,
                        const T* dy, T* dw);

// Mean softmax cross-entropy as PyTorch's F.cross_entropy(reduction='mean'): rows whose target
// equals ignore_index or whose mask is 0 are skipped; with class weights the mean divides by
// the summed weights of the counted rows. When no row counts, the loss is 0 and dlogits 0.
// logits: [N,C]; targets: [N]; weights: [C] or null; mask: [N] or null;
// dlogits: [N,C] overwritten with scale * dloss/dlogits, or null. Returns the loss.
template <typename T>
double softmax_cross_entropy(index_t N, index_t C, const T* logits, const std::int32_t* targets,
                             const T* weights, std::int32_t ignore_index, const std::uint8_t* mask,
                             T scale, T* dlogits);

// mean((pred - target)^2) over n elements; dpred: [n] overwritten with scale * gradient, or null.
template <typename T>
double mse_loss(index_t n, const T* pred, const T* target, T scale, T* dpred);

// Inverted-dropout mask: each element is 0 with probability p, else 1/(1-p). Counter-based
// (element i of seed s is the same on every run, thread count and backend).  mask: [n].
template <typename T>
void dropout_mask(index_t n, double p, std::uint64_t seed, T* mask);

// sqrt(sum g^2), accumulated in double.  g: [n].
template <typename T>
double l2_norm(index_t n, const T* g);

}  // namespace rnnkit
