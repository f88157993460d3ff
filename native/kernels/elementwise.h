// Element-wise kernels on flat buffers: axpby, mul, scale, activations and their gradients.
// Every buffer is [n]. Nothing here checks its inputs (the binding does).
#pragma once
#include "common.h"

namespace rnnkit {

// y = a*x + b*y in place.  x: [n], y: [n] (read, then overwritten). When b is 0, y is only
// written (BLAS convention: NaN already in y does not propagate).
template <typename T>
void axpby(index_t n, T a, const T* x, T b, T* y);

// out = x ⊙ y.  x, y: [n]; out: [n] overwritten.
template <typename T>
void mul(index_t n, const T* x, const T* y, T* out);

// x *= alpha in place.  x: [n].
template <typename T>
void scale(index_t n, T alpha, T* x);

// Point-wise activation of a layer (the order is the JS option order).
enum class ActKind : int { Tanh = 0, Sigmoid = 1, Relu = 2, Identity = 3 };

// y = f(x).  x: [n]; y: [n] overwritten. float uses the gate kernels' tanh/sigmoid (cell_math.h).
template <typename T>
void activation_forward(ActKind kind, index_t n, const T* x, T* y);
// dx += dy ⊙ f'(x), f' computed from the forward output y.  y, dy: [n]; dx: [n] accumulated.
template <typename T>
void activation_backward(ActKind kind, index_t n, const T* y, const T* dy, T* dx);

}  // namespace rnnkit
