// The training core on device buffers (cuda/train_ops.cu): linear and embedding layers, the
// losses and metrics, the optimizer steps and the gradient tools, with the CPU kernels' results
// (native/kernels/ops.cpp, losses.cpp, optim.cpp, grad_tools.cpp).
#pragma once
#include <cstdint>

#include "common.cuh"

namespace rnnkit {
namespace cuda {

template <typename T> void linear_forward(index_t N, index_t I, index_t O, const T* x, const T* w, const T* b, T* y);
// dWeight += dy^T x, dBias += sum of dy's rows, dx += dy w (dx, db may be null).
template <typename T>
void linear_backward(index_t N, index_t I, index_t O, const T* x, const T* w, const T* dy, T* dx, T* dw, T* db);

// ids: device [N], already checked to lie in [0, V).
template <typename T> void embedding_forward(index_t N, index_t E, const std::int32_t* ids, const T* w, T* y);
// host_ids: the ids copied to the host (the binding validated them there); rows equal to
// padding_idx get no gradient. Deterministic: each row of dw sums its sources in order.
template <typename T>
void embedding_backward(index_t N, index_t E, const std::int32_t* host_ids, std::int32_t padding_idx, const T* dy, T* dw);

// The losses return the mean loss, or a non-finite value when an input holds a non-finite
// element anywhere (masked rows included): the binding then names the element as the CPU does.
template <typename T>
double softmax_cross_entropy(index_t N, index_t C, const T* logits, const std::int32_t* targets, const T* weights,
                             std::int32_t ignore_index, const std::uint8_t* mask, T scale, T* dlogits);
template <typename T> double mse_loss(index_t n, const T* pred, const T* target, T scale, T* dpred);
template <typename T>
double masked_mse(index_t N, index_t F, const T* pred, const T* target, const std::uint8_t* mask, double scale, T* dpred);
template <typename T>
double sigmoid_bce(index_t N, index_t F, const T* logits, const T* targets, const std::uint8_t* mask, double scale,
                   T* dlogits);
template <typename T>
std::int64_t count_correct(index_t N, index_t C, const T* logits, const std::int32_t* targets, std::int32_t ignore_index,
                           const std::uint8_t* mask, std::int64_t* total);
template <typename T>
std::int64_t count_correct_multilabel(index_t N, index_t F, const T* logits, const T* targets, const std::uint8_t* mask,
                                      std::int64_t* total);

// kind: 0 sgd, 1 adam, 2 adamw, 3 rmsprop, 4 adagrad (OptimKind's order).
struct OptimHyperParams {
  double lr = 1e-3, weight_decay = 0, momentum = 0, dampening = 0;
  bool nesterov = false;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, alpha = 0.99;
  bool centered = false;
  double lr_decay = 0;
};
int optim_state_buffers(int kind);
template <typename T>
void optim_step(int kind, const OptimHyperParams& h, long step, index_t n, T* p, const T* g, T* const* state);

template <typename T> void clip_by_value(index_t n, T* x, T value);
template <typename T> double clip_by_norm(index_t n, T* x, double max_norm);  // the norm before clipping
template <typename T> void add_sign(index_t n, T alpha, const T* p, T* g);

// The first non-finite element of x (copied to the host: only on an error path), or -1.
template <typename T> index_t first_non_finite(index_t n, const T* x, double* value);

}  // namespace cuda
}  // namespace rnnkit
