// Shared by every file of the CUDA backend. Compiled two ways from the same sources:
//   nvcc (the GPU addon, rnnkit_cuda.node): kernels launched on the device's stream;
//   g++ with RNNKIT_CUDA_EMU (rnnkit_cuda_emu.node): the CUDA runtime replaced by host memory and
//   every launch run as a loop, so CI machines without a GPU execute the kernels' code and the
//   device layer above them against the CPU backend. Nothing here includes napi.h.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#ifdef RNNKIT_CUDA_EMU
#include "emu/cuda_emu.h"
#else
#include <cuda_runtime.h>
#endif

#include "../native/kernels/common.h"  // RNNKIT_HD, index_t, the cell enums

// A __host__ __device__ lambda (nvcc --extended-lambda); a plain lambda in the emulation.
#ifdef RNNKIT_CUDA_EMU
#define RNNKIT_LAMBDA
#else
#define RNNKIT_LAMBDA __host__ __device__
#endif

namespace rnnkit {
namespace cuda {

// A failed CUDA call, named: "cudaMalloc: out of memory (cudaErrorMemoryAllocation)".
struct CudaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline void check(cudaError_t e, const char* call) {
  if (e == cudaSuccess) return;
  throw CudaError(std::string(call) + " failed: " + cudaGetErrorString(e) + " (" + cudaGetErrorName(e) + ")");
}

// The stream every op of the device runs on (one per process: ops of one device are ordered).
cudaStream_t stream();

// After each launch: a bad configuration shows here, a fault at the next synchronization.
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

// Kernels and launches: only in the files nvcc compiles (and in the emulation build); the
// binding's host-compiled files see the declarations above.
#if defined(__CUDACC__) || defined(RNNKIT_CUDA_EMU)
#ifndef RNNKIT_CUDA_EMU
template <typename F>
__global__ void each_kernel(index_t n, F f) {
  for (index_t i = blockIdx.x * static_cast<index_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<index_t>(blockDim.x) * gridDim.x)
    f(i);
}
#endif

// f(i) for i in [0, n): one thread per element (a grid-stride loop), f a __host__ __device__
// functor. The per-element bodies are the whole of most kernels, so the emulation build runs them.
template <typename F>
void for_each(index_t n, F f, const char* name) {
  if (n <= 0) return;
#ifdef RNNKIT_CUDA_EMU
  for (index_t i = 0; i < n; ++i) f(i);
  (void)name;
#else
  const int block = 256;
  index_t grid = (n + block - 1) / block;
  if (grid > 65535 * 8) grid = 65535 * 8;
  each_kernel<<<static_cast<unsigned>(grid), block, 0, stream()>>>(n, f);
  check_launch(name);
#endif
}
#endif  // __CUDACC__ || RNNKIT_CUDA_EMU

}  // namespace cuda
}  // namespace rnnkit
