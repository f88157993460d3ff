// Shared definitions of the compute kernels. Nothing here knows about Node-API.
#pragma once
#include <cstddef>
#include <cstdint>

#if defined(__CUDACC__)
#define RNNKIT_HD __host__ __device__ __forceinline__
#else
#define RNNKIT_HD inline
#endif

namespace rnnkit {

using index_t = std::int64_t;

// The cells themselves (gates, states, kernels) are described in cell_table.h.
enum class CellType : int { Elman = 0, LSTM = 1, GRU = 2 };
enum class Activation : int { Tanh = 0, Relu = 1, Sigmoid = 2 };
enum class GruVariant : int { PyTorch = 0, Original = 1 };


}  // namespace rnnkit
