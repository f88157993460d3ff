// Gradient tools on the flat gradient buffer: clipping, a finiteness flag, the L1 term.
#pragma once
#include "common.h"

namespace rnnkit {

// x = clamp(x, -value, value) in place (NaN stays NaN).  x: [n]; value >= 0.
template <typename T>
void clip_by_value(index_t n, T* x, T value);

// torch.nn.utils.clip_grad_norm_: norm = sqrt(Σx²) accumulated in double,
// coef = max_norm / (norm + 1e-6); x *= coef in place only when coef < 1.  x: [n].
// Returns the norm before clipping (NaN/Inf when x holds them; x is then left as it is).
template <typename T>
double clip_by_norm(index_t n, T* x, double max_norm);

// True when every element of x is finite.  x: [n].
template <typename T>
bool all_finite(index_t n, const T* x);

// g += alpha * sign(p) (sign(0) = 0): the gradient of alpha * Σ|p|.  p: [n]; g: [n] accumulated.
template <typename T>
void add_sign(index_t n, T alpha, const T* p, T* g);

}  // namespace rnnkit
