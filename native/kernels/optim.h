// Optimizer steps over one flat parameter buffer, with PyTorch's update rules (torch.optim,
// single-tensor code paths) so a run matches PyTorch step for step.
#pragma once
#include "common.h"

namespace rnnkit {

enum class OptimKind : int { SGD = 0, Adam = 1, AdamW = 2, RMSprop = 3, Adagrad = 4 };

struct OptimHyper {
  double lr = 1e-3;
  double weight_decay = 0;  // L2 added to the gradient; decoupled (p *= 1 - lr*wd) for AdamW
  // SGD / RMSprop
  double momentum = 0, dampening = 0;
  bool nesterov = false;
  // Adam / AdamW
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  // RMSprop
  double alpha = 0.99;
  bool centered = false;
  // Adagrad
  double lr_decay = 0;
};

// Number of state buffers of n elements each kind needs (SGD 1, Adam/AdamW 2, RMSprop 3,
// Adagrad 1). State starts zeroed, except Adagrad's sum which starts at
// initial_accumulator_value (set by the caller).
int optim_state_count(OptimKind k);

// One update. p, g: [n]; state: optim_state_count(k) buffers of [n]; step: 1 on the first call.
template <typename T>
void optim_step(OptimKind k, const OptimHyper& h, long step, index_t n, T* p, const T* g,
                T* const* state);

}  // namespace rnnkit
