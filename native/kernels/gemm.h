// Row-major general matrix product, C = alpha * op(A) * op(B) + beta * C, where op(A) is
// [M,K] and op(B) is [K,N]. Routed to OpenBLAS when it was found at build time, else to the
// built-in cache-blocked kernel (AVX2/FMA chosen at run time, portable code otherwise).
#pragma once
#include "common.h"

#include <cstddef>
#include <memory>

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
// RNNKIT_DIRECT_A=off: the built-in kernel packs a small op(A) again instead of reading it in
// place (A/B runs).
bool direct_a_enabled();

// Float weights packed once for the products A op(W) that the built-in kernel computes
// (pack_weights): op(W) = W^T with W [N,K] (trans), or W itself, [K,N]; row stride ldw. While a
// PackedWeightsScope on the calling thread lists them, gemm(false, trans, M, N, K, ..., W, ldw,
// ...) reads the packed panels instead of packing W again: the same panels, so the same results
// bit for bit. A decoder plan packs its weights once for all its steps, a layer's forward its
// W_hh once for all T steps (h W_hh^T) and its backward once more (dg W_hh). The packed copy is
// what W held when it was packed.
// Hands panel memory back to a small process-wide cache (fresh pages cost a fault each).
struct PanelRelease {
  std::size_t n = 0;
  void operator()(float* p) const;
};
struct PackedWeights {
  const float* w = nullptr;
  index_t N = 0, K = 0, ldw = 0;
  bool trans = true;
  int simd = -1;  // the built-in kernel the panels are laid out for
  // From the cache, not zero-filled: pack_b writes every element.
  std::unique_ptr<float[], PanelRelease> panels;
};
// Whether gemm<float>(false, trans, M, ...) runs the built-in packed kernel here (and so whether
// packing W once pays): M >= 2, not the small-M kernel, and the built-in GEMM in use for M.
bool builtin_packs(index_t M, bool trans = true);
void pack_weights(PackedWeights& p, const float* w, index_t N, index_t K, index_t ldw, bool trans = true);
class PackedWeightsScope {
 public:
  // list: n entries, each alive until the scope ends. The innermost scope is the one consulted.
  PackedWeightsScope(const PackedWeights* const* list, int n);
  ~PackedWeightsScope();
  PackedWeightsScope(const PackedWeightsScope&) = delete;
  PackedWeightsScope& operator=(const PackedWeightsScope&) = delete;

 private:
  const PackedWeights* const* prev_list_;
  int prev_n_;
};

// The kernel gemm<float>(false, true, M, N, K, 1, A, lda, W, ldw, 0, C, ldc) would run for a
// recurrent step's h W^T, resolved on the calling thread (its PackedWeightsScope included), so
// that pool threads can each compute a block of the product with gemm's bits: the small-M
// kernel, or the built-in kernel on packed panels. Empty (false) where gemm would run anything
// else (OpenBLAS, the built-in kernel packing as it goes): the caller keeps gemm.
struct ColumnProduct {
  int kind = 0;  // 0 none, 1 small-M kernel, 2 packed panels
  int simd = 0;
  index_t M = 0, N = 0, K = 0, ldw = 0;
  const float* w = nullptr;
  const float* panels = nullptr;
  index_t align = 1;  // column blocks start at multiples of this
  explicit operator bool() const { return kind != 0; }
  // C[i0:i1, j0:j1) = A[i0:i1, :] op(W)[:, j0:j1) on the calling thread (A and C: all M rows,
  // strides lda and ldc); j0 a multiple of align.
  void run(const float* A, index_t lda, float* C, index_t ldc, index_t i0, index_t i1, index_t j0,
           index_t j1) const;
};
ColumnProduct column_product(index_t M, index_t N, index_t K, const float* w, index_t ldw);

namespace builtin {
// Largest M the small-M kernel (gemm_small_tb) takes.
constexpr index_t kSmallM = 8;
// The built-in kernel, compiled three times: with AVX-512 (namespace avx512), with -mavx2 -mfma
// (namespace avx2) and portable (namespace generic). All split work over the rnnkit thread pool.
#define RNNKIT_BUILTIN_DECLS                                                                                 \
template <typename T>                                                                                        \
index_t packed_b_size(index_t N, index_t K);                                                                 \
template <typename T>                                                                                        \
void pack_b(bool tb, index_t N, index_t K, const T* B, index_t ldb, T* dst);                                 \
template <typename T>                                                                                        \
void gemm_packed(bool tb, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda, const T* B,     \
                 index_t ldb, const T* packed, T beta, T* C, index_t ldc);                                   \
template <typename T>                                                                                        \
void gemm(bool ta, bool tb, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda,               \
          const T* B, index_t ldb, T beta, T* C, index_t ldc);                                               \
template <typename T>                                                                                        \
void gemm_small_tb(index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda, const T* B,            \
                   index_t ldb, T beta, T* C, index_t ldc);                                                  \
template <typename T>                                                                                        \
void gemm_packed_block(bool tb, index_t M, index_t N, index_t K, const T* A, index_t lda, const T* B,        \
                       index_t ldb, const T* packed, T* C, index_t ldc, index_t i0, index_t i1, index_t j0,  \
                       index_t j1);                                                                          \
template <typename T>                                                                                        \
void gemm_small_tb_block(index_t M, index_t K, const T* A, index_t lda, const T* B, index_t ldb, T* C,       \
                         index_t ldc, index_t j0, index_t j1);
namespace avx512 {
RNNKIT_BUILTIN_DECLS
}
namespace avx2 {
RNNKIT_BUILTIN_DECLS
}
namespace generic {
RNNKIT_BUILTIN_DECLS
}
#undef RNNKIT_BUILTIN_DECLS
}  // namespace builtin

}  // namespace rnnkit
