// Row-major general matrix product, C = alpha * op(A) * op(B) + beta * C, where op(A) is
// [M,K] and op(B) is [K,N]. Routed to OpenBLAS when it was found at build time, else to the
// built-in cache-blocked kernel (AVX2/FMA chosen at run time, portable code otherwise).
#pragma once
#include "common.h"

namespace rnnkit {

template <typename T>
void gemm(bool trans_a, bool trans_b, index_t M, index_t N, index_t K, T alpha,
          const T* A, index_t lda,  // A: [M,K] (or [K,M] when trans_a)
          const T* B, index_t ldb,  // B: [K,N] (or [N,K] when trans_b)
          T beta, T* C, index_t ldc);  // C: [M,N]

// Which GEMM runs: "openblas" or "builtin".
const char* gemm_name();
// SIMD level of the built-in kernels chosen at run time: "avx512", "avx2" or "generic".
const char* simd_name();
// Forces the built-in GEMM even when OpenBLAS is linked (tests compare the two paths).
void set_force_builtin_gemm(bool force);
// Turns the small-M dot-product kernel off (benchmarks and tests compare it with the GEMM).
void set_small_tb_gemm(bool on);
bool small_tb_enabled();

namespace builtin {
// Largest M the small-M kernel (gemm_small_tb) takes.
constexpr index_t kSmallM = 8;
// The built-in kernel, compiled three times: with AVX-512 (namespace avx512), with -mavx2 -mfma
// (namespace avx2) and portable (namespace generic). All split work over the rnnkit thread pool.
namespace avx512 {
template <typename T>
void gemm(bool ta, bool tb, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda,
          const T* B, index_t ldb, T beta, T* C, index_t ldc);
template <typename T>
void gemm_small_tb(index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda, const T* B,
                   index_t ldb, T beta, T* C, index_t ldc);
}
namespace avx2 {
template <typename T>
void gemm(bool ta, bool tb, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda,
          const T* B, index_t ldb, T beta, T* C, index_t ldc);
template <typename T>
void gemm_small_tb(index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda, const T* B,
                   index_t ldb, T beta, T* C, index_t ldc);
}
namespace generic {
template <typename T>
void gemm(bool ta, bool tb, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda,
          const T* B, index_t ldb, T beta, T* C, index_t ldc);
template <typename T>
void gemm_small_tb(index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda, const T* B,
                   index_t ldb, T beta, T* C, index_t ldc);
}
}  // namespace builtin

}  // namespace rnnkit
