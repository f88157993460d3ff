// Losses and metrics with row masks (the multilabel and regression heads, accuracy counts).
// The softmax cross-entropy and the unmasked MSE live in ops.h.
#pragma once
#include <cstdint>

#include "common.h"

namespace rnnkit {

// Mean binary cross-entropy on logits over the counted elements (rows with mask[n] != 0, every
// row when mask is null; n = counted rows * F):
//   loss = Σ max(z,0) - z t + log1p(exp(-|z|)) / n
// dlogits: [N,F] overwritten with scale * (sigmoid(z) - t) / n, 0 for masked rows, or null.
// When nothing counts the loss is 0 and dlogits 0.  logits, targets: [N,F]; mask: [N] or null.
template <typename T>
double sigmoid_bce(index_t N, index_t F, const T* logits, const T* targets, const std::uint8_t* mask,
                   double scale, T* dlogits);

// Mean squared error over the counted elements of rows with mask[n] != 0 (n = counted rows * F);
// dpred: [N,F] overwritten with scale * 2 (pred - target) / n, 0 for masked rows, or null.
// Nothing counted: loss 0, dpred 0.  pred, target: [N,F]; mask: [N].
template <typename T>
double masked_mse(index_t N, index_t F, const T* pred, const T* target, const std::uint8_t* mask,
                  double scale, T* dpred);

// Rows whose first-max argmax equals the target, skipping targets equal to ignore_index and
// masked rows; *total gets the number of rows that counted.
// logits: [N,C]; targets: [N] in [0,C) or ignore_index; mask: [N] or null.
template <typename T>
std::int64_t count_correct(index_t N, index_t C, const T* logits, const std::int32_t* targets,
                           std::int32_t ignore_index, const std::uint8_t* mask, std::int64_t* total);

// Rows where every label agrees: (logit > 0) == (target > 0.5); masked rows skipped.
// logits, targets: [N,F]; mask: [N] or null; *total gets the counted rows.
template <typename T>
std::int64_t count_correct_multilabel(index_t N, index_t F, const T* logits, const T* targets,
                                      const std::uint8_t* mask, std::int64_t* total);

}  // namespace rnnkit
