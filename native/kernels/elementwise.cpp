#include "elementwise.h"

#include "cell_math.h"

namespace rnnkit {

template <typename T>
void axpby(index_t n, T a, const T* x, T b, T* y) {
  if (b == T(0)) {
    for (index_t i = 0; i < n; ++i) y[i] = a * x[i];
  } else {
    for (index_t i = 0; i < n; ++i) y[i] = a * x[i] + b * y[i];
  }
}

template <typename T>
void mul(index_t n, const T* x, const T* y, T* out) {
  for (index_t i = 0; i < n; ++i) out[i] = x[i] * y[i];
}

template <typename T>
void scale(index_t n, T alpha, T* x) {
  for (index_t i = 0; i < n; ++i) x[i] *= alpha;
}

template <typename T>
void activation_forward(ActKind kind, index_t n, const T* x, T* y) {
  switch (kind) {
    case ActKind::Tanh:
      for (index_t i = 0; i < n; ++i) y[i] = cellmath::tanh_(x[i]);
      break;
    case ActKind::Sigmoid:
      for (index_t i = 0; i < n; ++i) y[i] = cellmath::sigmoid(x[i]);
      break;
    case ActKind::Relu:
      for (index_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
      break;
    case ActKind::Identity:
      for (index_t i = 0; i < n; ++i) y[i] = x[i];
      break;
  }
}

template <typename T>
void activation_backward(ActKind kind, index_t n, const T* y, const T* dy, T* dx) {
  switch (kind) {
    case ActKind::Tanh:
      for (index_t i = 0; i < n; ++i) dx[i] += dy[i] * cellmath::activate_grad(Activation::Tanh, y[i]);
      break;
    case ActKind::Sigmoid:
      for (index_t i = 0; i < n; ++i) dx[i] += dy[i] * cellmath::activate_grad(Activation::Sigmoid, y[i]);
      break;
    case ActKind::Relu:
      for (index_t i = 0; i < n; ++i) dx[i] += y[i] > T(0) ? dy[i] : T(0);
      break;
    case ActKind::Identity:
      for (index_t i = 0; i < n; ++i) dx[i] += dy[i];
      break;
  }
}

#define RNNKIT_INSTANTIATE_ELEMENTWISE(T)                                    \
  template void axpby<T>(index_t, T, const T*, T, T*);                      \
  template void mul<T>(index_t, const T*, const T*, T*);                    \
  template void scale<T>(index_t, T, T*);                                   \
  template void activation_forward<T>(ActKind, index_t, const T*, T*);      \
  template void activation_backward<T>(ActKind, index_t, const T*, const T*, T*);
RNNKIT_INSTANTIATE_ELEMENTWISE(float)
RNNKIT_INSTANTIATE_ELEMENTWISE(double)

}  // namespace rnnkit
