// Element-wise ops on device buffers (cuda/elementwise.cu); same results as the CPU kernels.
#pragma once
#include <cstdint>

#include "common.cuh"

namespace rnnkit {
namespace cuda {

template <typename T> void fill(index_t n, T value, T* x);
template <typename T> void axpby(index_t n, T a, const T* x, T b, T* y);  // y = a x + b y
template <typename T> void mul(index_t n, const T* x, const T* y, T* out);
template <typename T> void scale(index_t n, T alpha, T* x);
// kind: 0 tanh, 1 sigmoid, 2 relu, 3 identity
template <typename T> void activation_forward(int kind, index_t n, const T* x, T* y);
template <typename T> void activation_backward(int kind, index_t n, const T* y, const T* dy, T* dx);
template <typename T> double l2_norm(index_t n, const T* x);
template <typename T> bool all_finite(index_t n, const T* x);
template <typename T> void dropout_mask(index_t n, double p, std::uint64_t seed, T* mask);

}  // namespace cuda
}  // namespace rnnkit
