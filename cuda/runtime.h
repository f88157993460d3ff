// The device, its stream, its memory and its matrix products (cuBLAS when it loads, else our
// own kernel). Every call is checked; failures throw CudaError naming the call.
#pragma once
#include <string>

#include "common.cuh"

namespace rnnkit {
namespace cuda {

struct DeviceInfo {
  bool available = false;
  std::string reason;  // why not, when !available
  std::string name;
  int major = 0, minor = 0, count = 0;
  double total_bytes = 0, free_bytes = 0;
  std::string gemm;          // "cublas" or "builtin"
  std::string cublas_path;   // the library that loaded, or why none did
  bool emulated = false;
};

// Initializes on first use (device 0); never throws: a missing driver is reported in reason.
const DeviceInfo& device_info();
// Throws CudaError with device_info().reason when there is no usable device.
void require_device();

// Device memory; an out-of-memory names the bytes asked for.
void* device_alloc(std::size_t bytes);
void device_free(void* p);
void note_freed(std::size_t bytes);  // bookkeeping of allocated_bytes()
void to_device(void* dst, const void* src, std::size_t bytes);
void to_host(void* dst, const void* src, std::size_t bytes);  // waits for the stream
void device_copy(void* dst, const void* src, std::size_t bytes);
void device_zero(void* dst, std::size_t bytes);
void synchronize();
double allocated_bytes();

// Row-major C[m,n] = alpha op(A)[m,k] op(B)[k,n] + beta C, as the CPU gemm (native/kernels/gemm.h).
template <typename T>
void gemm(bool trans_a, bool trans_b, index_t m, index_t n, index_t k, T alpha, const T* A, index_t lda,
          const T* B, index_t ldb, T beta, T* C, index_t ldc);

}  // namespace cuda
}  // namespace rnnkit
