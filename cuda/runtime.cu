#include "runtime.h"

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <vector>

#ifndef RNNKIT_CUDA_EMU
#include <dlfcn.h>
#endif

namespace rnnkit {
namespace cuda {

namespace {

// cuBLAS is loaded at run time: no cuBLAS headers exist on the build machines, so the few
// entry points are declared here (v2 API, column-major).
typedef int cublasStatus_t;
typedef struct cublasContext* cublasHandle_t;
typedef cublasStatus_t (*CreateFn)(cublasHandle_t*);
typedef cublasStatus_t (*SetStreamFn)(cublasHandle_t, cudaStream_t);
typedef cublasStatus_t (*SgemmFn)(cublasHandle_t, int, int, int, int, int, const float*, const float*, int,
                                  const float*, int, const float*, float*, int);
typedef cublasStatus_t (*DgemmFn)(cublasHandle_t, int, int, int, int, int, const double*, const double*, int,
                                  const double*, int, const double*, double*, int);
struct Cublas {
  cublasHandle_t handle = nullptr;
  SgemmFn sgemm = nullptr;
  DgemmFn dgemm = nullptr;
};
Cublas g_cublas;
cudaStream_t g_stream = nullptr;
std::atomic<double> g_allocated{0};

#ifndef RNNKIT_CUDA_EMU
// The usual places, newest first; RNNKIT_CUBLAS_DIR names another directory.
std::string load_cublas(Cublas& cb) {
  std::vector<std::string> tried;
  std::vector<std::string> names = {"libcublas.so.13", "libcublas.so.12"};
  std::vector<std::string> dirs;
  if (const char* d = std::getenv("RNNKIT_CUBLAS_DIR")) dirs.push_back(d);
  dirs.push_back("");  // the loader's own search path (LD_LIBRARY_PATH, ld.so.cache)
  dirs.push_back("/usr/local/cuda/lib64");
  dirs.push_back("/usr/local/cuda/targets/x86_64-linux/lib");
  dirs.push_back("/usr/lib/x86_64-linux-gnu");
  for (const auto& dir : dirs) {
    for (const auto& name : names) {
      std::string path = dir.empty() ? name : dir + "/" + name;
      void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!h) {
        tried.push_back(path);
        continue;
      }
      auto create = reinterpret_cast<CreateFn>(dlsym(h, "cublasCreate_v2"));
      auto set_stream = reinterpret_cast<SetStreamFn>(dlsym(h, "cublasSetStream_v2"));
      cb.sgemm = reinterpret_cast<SgemmFn>(dlsym(h, "cublasSgemm_v2"));
      cb.dgemm = reinterpret_cast<DgemmFn>(dlsym(h, "cublasDgemm_v2"));
      if (!create || !set_stream || !cb.sgemm || !cb.dgemm) return path + ": missing cuBLAS entry points";
      if (create(&cb.handle) != 0) return path + ": cublasCreate_v2 failed";
      if (set_stream(cb.handle, g_stream) != 0) return path + ": cublasSetStream_v2 failed";
      return path;
    }
  }
  std::string s = "not found (tried";
  for (const auto& t : tried) s += " " + t;
  return s + ")";
}
#endif

DeviceInfo init() {
  DeviceInfo d;
#ifdef RNNKIT_CUDA_EMU
  d.available = true;
  d.emulated = true;
  d.name = "host emulation of the CUDA kernels";
  d.count = 1;
  d.gemm = "builtin";
  d.cublas_path = "not used (emulation)";
  return d;
#else
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    d.reason = std::string("cudaGetDeviceCount failed: ") + cudaGetErrorString(e) + " (" + cudaGetErrorName(e) +
               ")" +
               (e == cudaErrorInsufficientDriver || e == cudaErrorNoDevice
                    ? "; an NVIDIA driver and GPU are needed (nvidia-smi should list the GPU)"
                    : "");
    return d;
  }
  if (n == 0) {
    d.reason = "no CUDA device is visible (cudaGetDeviceCount returned 0)";
    return d;
  }
  d.count = n;
  try {
    check(cudaSetDevice(0), "cudaSetDevice");
    cudaDeviceProp p;
    check(cudaGetDeviceProperties(&p, 0), "cudaGetDeviceProperties");
    d.name = p.name;
    d.major = p.major;
    d.minor = p.minor;
    size_t fr = 0, tot = 0;
    check(cudaMemGetInfo(&fr, &tot), "cudaMemGetInfo");
    d.free_bytes = static_cast<double>(fr);
    d.total_bytes = static_cast<double>(tot);
    check(cudaStreamCreateWithFlags(&g_stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
  } catch (const CudaError& err) {
    d.reason = err.what();
    return d;
  }
  std::string path = load_cublas(g_cublas);
  d.cublas_path = path;
  d.gemm = g_cublas.handle ? "cublas" : "builtin";
  d.available = true;
  return d;
#endif
}

}  // namespace

const DeviceInfo& device_info() {
  static const DeviceInfo info = init();
  return info;
}

void require_device() {
  const DeviceInfo& d = device_info();
  if (!d.available) throw CudaError("CUDA device unavailable: " + d.reason);
}

cudaStream_t stream() { return g_stream; }

void* device_alloc(std::size_t bytes) {
  require_device();
  void* p = nullptr;
  cudaError_t e = cudaMalloc(&p, bytes ? bytes : 1);
  if (e != cudaSuccess) {
    cudaGetLastError();  // clear the sticky-free error so later calls work
    throw CudaError("cudaMalloc of " + std::to_string(bytes) + " bytes failed: " + cudaGetErrorString(e) + " (" +
                    cudaGetErrorName(e) + ")");
  }
  g_allocated = g_allocated + static_cast<double>(bytes);
  return p;
}
void device_free(void* p) {
  if (p) cudaFree(p);  // a finalizer may run this at exit, when errors no longer matter
}
void note_freed(std::size_t bytes) { g_allocated = g_allocated - static_cast<double>(bytes); }
double allocated_bytes() { return g_allocated; }

void to_device(void* dst, const void* src, std::size_t bytes) {
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, g_stream), "cudaMemcpyAsync (host to device)");
  synchronize();  // the host buffer belongs to JavaScript: it may change as soon as we return
}
void to_host(void* dst, const void* src, std::size_t bytes) {
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, g_stream), "cudaMemcpyAsync (device to host)");
  synchronize();
}
void device_copy(void* dst, const void* src, std::size_t bytes) {
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, g_stream), "cudaMemcpyAsync (device to device)");
}
void device_zero(void* dst, std::size_t bytes) { check(cudaMemsetAsync(dst, 0, bytes, g_stream), "cudaMemsetAsync"); }
void synchronize() { check(cudaStreamSynchronize(g_stream), "cudaStreamSynchronize"); }

namespace {
#ifndef RNNKIT_CUDA_EMU
// Our own GEMM when cuBLAS is absent: 32x32 tiles through shared memory, row-major.
template <typename T>
__global__ void gemm_tiled(bool ta, bool tb, index_t m, index_t n, index_t k, T alpha, const T* A, index_t lda,
                           const T* B, index_t ldb, T beta, T* C, index_t ldc) {
  constexpr int TS = 32;
  __shared__ T As[TS][TS + 1];
  __shared__ T Bs[TS][TS + 1];
  const index_t row = blockIdx.y * TS + threadIdx.y, col = blockIdx.x * TS + threadIdx.x;
  T acc = T(0);
  for (index_t k0 = 0; k0 < k; k0 += TS) {
    const index_t ka = k0 + threadIdx.x, kb = k0 + threadIdx.y;
    As[threadIdx.y][threadIdx.x] =
        (row < m && ka < k) ? (ta ? A[ka * lda + row] : A[row * lda + ka]) : T(0);
    Bs[threadIdx.y][threadIdx.x] =
        (kb < k && col < n) ? (tb ? B[col * ldb + kb] : B[kb * ldb + col]) : T(0);
    __syncthreads();
#pragma unroll
    for (int q = 0; q < TS; ++q) acc += As[threadIdx.y][q] * Bs[q][threadIdx.x];
    __syncthreads();
  }
  if (row < m && col < n) C[row * ldc + col] = alpha * acc + (beta == T(0) ? T(0) : beta * C[row * ldc + col]);
}
#endif

template <typename T>
void gemm_builtin(bool ta, bool tb, index_t m, index_t n, index_t k, T alpha, const T* A, index_t lda, const T* B,
                  index_t ldb, T beta, T* C, index_t ldc) {
#ifdef RNNKIT_CUDA_EMU
  // The emulation runs the reference form: one output element per thread.
  for_each(
      m * n,
      [=] RNNKIT_LAMBDA(index_t e) {
        const index_t r = e / n, c = e % n;
        T acc = T(0);
        for (index_t q = 0; q < k; ++q) acc += (ta ? A[q * lda + r] : A[r * lda + q]) * (tb ? B[c * ldb + q] : B[q * ldb + c]);
        C[r * ldc + c] = alpha * acc + (beta == T(0) ? T(0) : beta * C[r * ldc + c]);
      },
      "gemm");
#else
  dim3 block(32, 32), grid(static_cast<unsigned>((n + 31) / 32), static_cast<unsigned>((m + 31) / 32));
  gemm_tiled<T><<<grid, block, 0, stream()>>>(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
  check_launch("gemm_tiled");
#endif
}
}  // namespace

template <typename T>
void gemm(bool ta, bool tb, index_t m, index_t n, index_t k, T alpha, const T* A, index_t lda, const T* B, index_t ldb,
          T beta, T* C, index_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {  // C = beta C
    for_each(
        m * n, [=] RNNKIT_LAMBDA(index_t e) {
          T* p = C + (e / n) * ldc + e % n;
          *p = beta == T(0) ? T(0) : beta * *p;
        },
        "gemm_scale");
    return;
  }
  if (g_cublas.handle) {
    // Row-major C = op(A) op(B) is column-major Cᵀ = op(B)ᵀ op(A)ᵀ.
    const int opA = tb ? 1 : 0, opB = ta ? 1 : 0;
    cublasStatus_t st;
    if constexpr (sizeof(T) == 4)
      st = g_cublas.sgemm(g_cublas.handle, opA, opB, (int)n, (int)m, (int)k, (const float*)&alpha, (const float*)B,
                          (int)ldb, (const float*)A, (int)lda, (const float*)&beta, (float*)C, (int)ldc);
    else
      st = g_cublas.dgemm(g_cublas.handle, opA, opB, (int)n, (int)m, (int)k, (const double*)&alpha, (const double*)B,
                          (int)ldb, (const double*)A, (int)lda, (const double*)&beta, (double*)C, (int)ldc);
    if (st != 0) throw CudaError("cublas" + std::string(sizeof(T) == 4 ? "S" : "D") + "gemm_v2 failed: status " + std::to_string(st));
    return;
  }
  gemm_builtin<T>(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

template void gemm<float>(bool, bool, index_t, index_t, index_t, float, const float*, index_t, const float*, index_t,
                          float, float*, index_t);
template void gemm<double>(bool, bool, index_t, index_t, index_t, double, const double*, index_t, const double*,
                           index_t, double, double*, index_t);

}  // namespace cuda
}  // namespace rnnkit
