// Sums over n elements in double precision, returned to the host (a loss, a norm, a count):
// on the GPU each block reduces in shared memory and adds its partial to one double with
// atomicAdd; the emulation sums in order. Only in files nvcc (or the emulation) compiles.
#pragma once
#include "common.cuh"
#include "runtime.h"
#include "workspace.h"

namespace rnnkit {
namespace cuda {

#ifndef RNNKIT_CUDA_EMU
template <typename F>
__global__ void sum_kernel(index_t n, F f, double* out) {
  __shared__ double part[256];
  double acc = 0;
  for (index_t i = blockIdx.x * static_cast<index_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<index_t>(blockDim.x) * gridDim.x)
    acc += f(i);
  part[threadIdx.x] = acc;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) part[threadIdx.x] += part[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) atomicAdd(out, part[0]);
}
#endif

// sum over i in [0, n) of f(i) (a __host__ __device__ functor returning double); waits for it.
template <typename F>
double sum_to_host(index_t n, F f, const char* name) {
  // Scratch of its own even in the emulation: ops that hold Ops scratch call this, and the
  // emulation then checks that the nested workspace leaves theirs alone.
  Workspace ws(Workspace::Ops);
  double* out = ws.take<double>(1);
#ifdef RNNKIT_CUDA_EMU
  *out = 0;
  for (index_t i = 0; i < n; ++i) *out += f(i);
  (void)name;
  return *out;
#else
  device_zero(out, sizeof(double));
  if (n > 0) {
    index_t grid = (n + 255) / 256;
    if (grid > 1024) grid = 1024;
    sum_kernel<<<static_cast<unsigned>(grid), 256, 0, stream()>>>(n, f, out);
    check_launch(name);
  }
  double r = 0;
  to_host(&r, out, sizeof r);
  return r;
#endif
}

}  // namespace cuda
}  // namespace rnnkit
