// Built-in cache-blocked GEMM (Goto/BLIS structure), written once and compiled three times:
// gemm_builtin_avx512.cpp (RNNKIT_SIMD_NS=avx512, -mavx512f ...), gemm_builtin_avx2.cpp
// (avx2, -mavx2 -mfma) and gemm_builtin_generic.cpp (generic, no extra flags). The micro-kernel
// uses GCC/Clang vector extensions, so the same source becomes 512-bit, 256-bit FMA or 128-bit
// SSE2 (or NEON) code.
//
// Loop nest per thread (C sub-block rows [i0,i1), cols [j0,j1)):
//   jc (NC cols) -> pc (KC depth) -> [pack B: KC x NC] -> ic (MC rows) -> pack A: MC x KC
//     -> jr (NR cols, B micro-panel in L1) -> ir (MR rows, A micro-panel from L2) -> micro-kernel
// When the thread's rows fit one MC block (the small-M RNN step), B is packed one micro-panel
// at a time right before use, so the packed copy never leaves L1.
#pragma once
#ifndef RNNKIT_SIMD_NS
#error "define RNNKIT_SIMD_NS (avx512, avx2 or generic) before including gemm_builtin_impl.h"
#endif

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>

#include "gemm.h"
#include "threads.h"

#if (defined(__FMA__) && defined(__AVX__)) || defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace rnnkit {
namespace builtin {
namespace RNNKIT_SIMD_NS {
namespace detail {

#if defined(__AVX512F__)
#define RNNKIT_VBYTES 64
#elif defined(__AVX__)
#define RNNKIT_VBYTES 32
#else
#define RNNKIT_VBYTES 16
#endif

template <typename T> struct Vec;
template <> struct Vec<float> {
  typedef float type __attribute__((vector_size(RNNKIT_VBYTES)));
  typedef std::int32_t mask __attribute__((vector_size(RNNKIT_VBYTES)));  // shuffle indices
};
template <> struct Vec<double> {
  typedef double type __attribute__((vector_size(RNNKIT_VBYTES)));
  typedef std::int64_t mask __attribute__((vector_size(RNNKIT_VBYTES)));
};

// Two-input lane shuffle with literal indices (GCC and Clang spell it differently).
#if defined(__clang__)
#define RNNKIT_SHUF(M, a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define RNNKIT_SHUF(M, a, b, ...) __builtin_shuffle(a, b, M{__VA_ARGS__})
#endif

// In-place transpose of a VL x VL block held as VL vectors (r[j][k] -> r[k][j]), by the usual
// unpack / 2-lane / 4-lane interleave stages; the index patterns map onto vunpck*, vshufps and
// vperm2f128 under AVX.
template <typename T, int VL> struct Transpose;
// 16 lanes (float under AVX-512): four stages, each swapping one bit of the row index with the
// same bit of the lane index (the off-diagonal s x s blocks of every 2s x 2s block trade places).
template <typename T> struct Transpose<T, 16> {
  template <typename V> static void run(V* r) {
    typedef typename Vec<T>::mask M;
#define RNNKIT_T16_STAGE(S, LO, HI)                                  \
  for (int i = 0; i < 16; ++i)                                       \
    if (!(i & S)) {                                                  \
      const V a = r[i], b = r[i + S];                                \
      r[i] = RNNKIT_SHUF(M, a, b, LO);                               \
      r[i + S] = RNNKIT_SHUF(M, a, b, HI);                           \
    }
#define RNNKIT_L(...) __VA_ARGS__
    RNNKIT_T16_STAGE(8, RNNKIT_L(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23),
                     RNNKIT_L(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31))
    RNNKIT_T16_STAGE(4, RNNKIT_L(0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27),
                     RNNKIT_L(4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31))
    RNNKIT_T16_STAGE(2, RNNKIT_L(0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29),
                     RNNKIT_L(2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31))
    RNNKIT_T16_STAGE(1, RNNKIT_L(0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30),
                     RNNKIT_L(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31))
#undef RNNKIT_L
#undef RNNKIT_T16_STAGE
  }
};
template <typename T> struct Transpose<T, 8> {
  template <typename V> static void run(V* r) {
    typedef typename Vec<T>::mask M;
    V t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
      t[i] = RNNKIT_SHUF(M, r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
      t[i + 1] = RNNKIT_SHUF(M, r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int i = 0; i < 8; i += 4)
      for (int h = 0; h < 2; ++h) {
        u[i + h * 2] = RNNKIT_SHUF(M, t[i + h], t[i + h + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        u[i + h * 2 + 1] = RNNKIT_SHUF(M, t[i + h], t[i + h + 2], 2, 3, 10, 11, 6, 7, 14, 15);
      }
    for (int i = 0; i < 4; ++i) {
      r[i] = RNNKIT_SHUF(M, u[i], u[i + 4], 0, 1, 2, 3, 8, 9, 10, 11);
      r[i + 4] = RNNKIT_SHUF(M, u[i], u[i + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
  }
};
template <typename T> struct Transpose<T, 4> {
  template <typename V> static void run(V* r) {
    typedef typename Vec<T>::mask M;
    const V t0 = RNNKIT_SHUF(M, r[0], r[1], 0, 4, 2, 6), t1 = RNNKIT_SHUF(M, r[0], r[1], 1, 5, 3, 7);
    const V t2 = RNNKIT_SHUF(M, r[2], r[3], 0, 4, 2, 6), t3 = RNNKIT_SHUF(M, r[2], r[3], 1, 5, 3, 7);
    r[0] = RNNKIT_SHUF(M, t0, t2, 0, 1, 4, 5);
    r[1] = RNNKIT_SHUF(M, t1, t3, 0, 1, 4, 5);
    r[2] = RNNKIT_SHUF(M, t0, t2, 2, 3, 6, 7);
    r[3] = RNNKIT_SHUF(M, t1, t3, 2, 3, 6, 7);
  }
};
template <typename T> struct Transpose<T, 2> {
  template <typename V> static void run(V* r) {
    typedef typename Vec<T>::mask M;
    const V t0 = RNNKIT_SHUF(M, r[0], r[1], 0, 2), t1 = RNNKIT_SHUF(M, r[0], r[1], 1, 3);
    r[0] = t0, r[1] = t1;
  }
};

// Blocking. MR x NR accumulators = 12 vector registers (+2 for B, +1 broadcast) of the 16 that
// both SSE2 and AVX2 have. AVX-512 keeps 6 x 32 floats: 12 rows (24 accumulators) measured
// slower on every shape (Sapphire Rapids, 2 cores), likely from the larger A panel per step. KC*NR*sizeof(T) = 16 KiB (AVX2; 32 KiB AVX-512) keeps the B micro-panel in L1; an MC x KC
// A block (144 KiB float) sits in L2; KC x NC of packed B sits in L2/L3.
template <typename T> struct Cfg {
  static constexpr int VL = RNNKIT_VBYTES / int(sizeof(T));  // lanes per vector
  static constexpr int NV = 2;                                // vectors per tile row
  static constexpr int MR = 6, NR = NV * VL;
  static constexpr index_t KC = 256;
  static constexpr index_t MC = 144;                                // multiple of MR
  static constexpr index_t NC = (index_t(2) << 20) / (KC * sizeof(T));  // 2 MiB of packed B
};

template <typename V, typename T> inline V loadu(const T* p) { V v; std::memcpy(&v, p, sizeof v); return v; }
template <typename V, typename T> inline void storeu(T* p, V v) { std::memcpy(p, &v, sizeof v); }
// Broadcast. x - 0 == x for every x (unlike x + 0 for x = -0), so GCC folds the subtraction
// away and emits a plain broadcast.
template <typename V, typename T> inline V splat(T x) { return x - V{}; }

// a*b + c. GCC contracts this to FMA under -mfma anyway; the explicit forms make it independent
// of -ffp-contract.
template <typename V> inline V fmadd(V a, V b, V c) { return a * b + c; }
#if defined(__AVX512F__)
template <> inline Vec<float>::type fmadd(Vec<float>::type a, Vec<float>::type b, Vec<float>::type c) {
  return (Vec<float>::type)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
}
template <> inline Vec<double>::type fmadd(Vec<double>::type a, Vec<double>::type b, Vec<double>::type c) {
  return (Vec<double>::type)_mm512_fmadd_pd((__m512d)a, (__m512d)b, (__m512d)c);
}
#elif defined(__FMA__) && defined(__AVX__)
template <> inline Vec<float>::type fmadd(Vec<float>::type a, Vec<float>::type b, Vec<float>::type c) {
  return (Vec<float>::type)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
}
template <> inline Vec<double>::type fmadd(Vec<double>::type a, Vec<double>::type b, Vec<double>::type c) {
  return (Vec<double>::type)_mm256_fmadd_pd((__m256d)a, (__m256d)b, (__m256d)c);
}
#endif

// One 64-byte aligned growable buffer per (thread, type, slot); never shrinks, freed at thread exit.
template <typename T, int Slot> T* tls_buffer(size_t n) {
  struct Buf {
    T* p = nullptr;
    size_t cap = 0;
    ~Buf() { std::free(p); }
  };
  thread_local Buf b;
  if (n > b.cap) {
    std::free(b.p);
    size_t bytes = (n * sizeof(T) + 63) / 64 * 64;
    b.p = static_cast<T*>(std::aligned_alloc(64, bytes));
    if (!b.p) { b.cap = 0; throw std::bad_alloc(); }
    b.cap = n;
  }
  return b.p;
}

template <typename T> struct Args {
  bool ta, tb;
  index_t M, N, K;
  T alpha, beta;
  const T* A; index_t lda;
  const T* B; index_t ldb;
  T* C; index_t ldc;
  bool split_n;  // parallel split over N column blocks (else over M row blocks)
  // op(B) packed whole by pack_b (panel q of NR columns at q*K*NR, k-major), or null: the
  // panels pack_b_panel would make, so the products are the same bit for bit.
  const T* packed_b = nullptr;
};

// Packs rows [i0, i0+mc) x depth [p0, p0+kc) of op(A) into MR-row micro-panels laid out
// k-major (panel[k*MR + i]); the last panel is zero-padded to MR rows.
template <typename T> void pack_a(const Args<T>& g, index_t i0, index_t mc, index_t p0, index_t kc, T* dst) {
  constexpr int MR = Cfg<T>::MR;
  for (index_t ir = 0; ir < mc; ir += MR, dst += MR * kc) {
    const int rows = int(std::min<index_t>(MR, mc - ir));
    if (g.ta) {  // op(A)(i,k) = A[k*lda + i]: MR contiguous values per k
      const T* s = g.A + (p0)*g.lda + i0 + ir;
      if (rows == MR) {
        for (index_t k = 0; k < kc; ++k, s += g.lda)
          for (int i = 0; i < MR; ++i) dst[k * MR + i] = s[i];
      } else {
        for (index_t k = 0; k < kc; ++k, s += g.lda)
          for (int i = 0; i < MR; ++i) dst[k * MR + i] = i < rows ? s[i] : T(0);
      }
    } else {  // op(A)(i,k) = A[i*lda + k]: interleave MR rows
      const T* r[MR];
      for (int i = 0; i < MR; ++i) r[i] = g.A + (i0 + ir + std::min(i, rows - 1)) * g.lda + p0;
      if (rows == MR) {
        for (index_t k = 0; k < kc; ++k)
          for (int i = 0; i < MR; ++i) dst[k * MR + i] = r[i][k];
      } else {
        for (index_t k = 0; k < kc; ++k)
          for (int i = 0; i < MR; ++i) dst[k * MR + i] = i < rows ? r[i][k] : T(0);
      }
    }
  }
}

// Packs one NR-column micro-panel of op(B): depth [p0, p0+kc), cols [j0, j0+cols), k-major
// (panel[k*NR + j]), zero-padded to NR columns.
template <typename T> void pack_b_panel(const Args<T>& g, index_t p0, index_t kc, index_t j0, int cols, T* dst) {
  constexpr int NR = Cfg<T>::NR;
  if (!g.tb) {  // op(B)(k,j) = B[k*ldb + j]: a contiguous row segment per k
    const T* s = g.B + p0 * g.ldb + j0;
    if (cols == NR) {
      for (index_t k = 0; k < kc; ++k, s += g.ldb) std::memcpy(dst + k * NR, s, NR * sizeof(T));
    } else {
      for (index_t k = 0; k < kc; ++k, s += g.ldb)
        for (int j = 0; j < NR; ++j) dst[k * NR + j] = j < cols ? s[j] : T(0);
    }
  } else {  // op(B)(k,j) = B[j*ldb + k]: transpose VL x VL blocks in registers. This is the
            // RNN forward step (h * W^T with W stored [G*H, H]), so it has to be cheap.
    using V = typename Vec<T>::type;
    constexpr int VL = Cfg<T>::VL;
    const T* r[NR];
    for (int j = 0; j < NR; ++j) r[j] = g.B + (j0 + std::min(j, cols - 1)) * g.ldb + p0;
    index_t k = 0;
    if (cols == NR) {
      for (; k + VL <= kc; k += VL)
        for (int h = 0; h < NR; h += VL) {
          V v[VL];
          for (int j = 0; j < VL; ++j) v[j] = loadu<V>(r[h + j] + k);
          Transpose<T, VL>::run(v);
          for (int kk = 0; kk < VL; ++kk) storeu(dst + (k + kk) * NR + h, v[kk]);
        }
    }
    for (; k < kc; ++k)
      for (int j = 0; j < NR; ++j) dst[k * NR + j] = j < cols ? r[j][k] : T(0);
  }
}

// The register-blocked kernel: C[0:R, 0:n] = alpha * Apanel * Bpanel + beta * C (beta == 0:
// C is not read). R <= MR rows are live (edge tiles skip the dead rows' FMAs); n < NR columns
// go through a small stack tile. lda == 0: a is a packed MR-row panel (a[k*MR + i]); else a
// points at op(A)'s rows themselves (a[i*lda + k]), read unpacked: the same values in the same
// order, so the same results.
template <typename T, int R, bool Direct>
void micro(index_t kc, const T* __restrict a, index_t lda, const T* __restrict b, T* __restrict c,
           index_t ldc, int n, T alpha, T beta) {
  using V = typename Vec<T>::type;
  constexpr int MR = Cfg<T>::MR, NR = Cfg<T>::NR, NV = Cfg<T>::NV, VL = Cfg<T>::VL;
  static_assert(NV == 2, "kernel written for two vectors per row");
  V acc[R][NV];
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) acc[i][0] = acc[i][1] = V{};
  for (int i = 0; i < R; ++i) __builtin_prefetch(c + i * ldc, 1), __builtin_prefetch(c + i * ldc + NR - 1, 1);

  if constexpr (Direct) {
    const T* ar[R];
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) ar[i] = a + i * lda;
#pragma GCC unroll 2
    for (index_t k = 0; k < kc; ++k) {
      const V b0 = loadu<V>(b), b1 = loadu<V>(b + VL);
#pragma GCC unroll 8
      for (int i = 0; i < R; ++i) {
        const V ai = splat<V>(ar[i][k]);
        acc[i][0] = fmadd(ai, b0, acc[i][0]);
        acc[i][1] = fmadd(ai, b1, acc[i][1]);
      }
      b += NR;
    }
  } else {
#pragma GCC unroll 2
    for (index_t k = 0; k < kc; ++k) {
      const V b0 = loadu<V>(b), b1 = loadu<V>(b + VL);
#pragma GCC unroll 8
      for (int i = 0; i < R; ++i) {
        const V ai = splat<V>(a[i]);
        acc[i][0] = fmadd(ai, b0, acc[i][0]);
        acc[i][1] = fmadd(ai, b1, acc[i][1]);
      }
      a += MR;
      b += NR;
    }
  }

  const V va = splat<V>(alpha), vb = splat<V>(beta);
  if (n == NR) {
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) {
        T* p = c + i * ldc + v * VL;
        V r = va * acc[i][v];
        if (beta != T(0)) r = fmadd(vb, loadu<V>(p), r);
        storeu(p, r);
      }
    }
  } else {
    alignas(64) T tile[R * NR];
    for (int i = 0; i < R; ++i)
      for (int v = 0; v < NV; ++v) storeu(tile + i * NR + v * VL, acc[i][v]);
    for (int i = 0; i < R; ++i)
      for (int j = 0; j < n; ++j) {
        T* p = c + i * ldc + j;
        *p = beta != T(0) ? alpha * tile[i * NR + j] + beta * *p : alpha * tile[i * NR + j];
      }
  }
}

// rows in [1, MR]: the kernel specialized for that many live rows.
template <typename T, int R, bool Direct>
inline void micro_rows(int rows, index_t kc, const T* a, index_t lda, const T* b, T* c, index_t ldc, int n,
                       T alpha, T beta) {
  if constexpr (R > 1) {
    if (rows < R) return micro_rows<T, R - 1, Direct>(rows, kc, a, lda, b, c, ldc, n, alpha, beta);
  }
  micro<T, R, Direct>(kc, a, lda, b, c, ldc, n, alpha, beta);
}
// lda == 0: a is a packed panel; else op(A)'s rows, row stride lda (see micro).
template <typename T>
inline void micro_dispatch(int rows, index_t kc, const T* a, index_t lda, const T* b, T* c, index_t ldc, int n,
                           T alpha, T beta) {
  if (lda) micro_rows<T, Cfg<T>::MR, true>(rows, kc, a, lda, b, c, ldc, n, alpha, beta);
  else micro_rows<T, Cfg<T>::MR, false>(rows, kc, a, 0, b, c, ldc, n, alpha, beta);
}

// Computes C[i0:i1, j0:j1] on the calling thread.
template <typename T> void serial(const Args<T>& g, index_t i0, index_t i1, index_t j0, index_t j1) {
  using Cf = Cfg<T>;
  constexpr int MR = Cf::MR, NR = Cf::NR;
  const index_t m = i1 - i0;
  const bool jit_b = m <= Cf::MC;  // one A block: B panels are used once each, pack them in L1
  // One A block of op(A) = A (the recurrent steps' h W^T and dg W): the kernel reads A's rows
  // in place. Packing them cost as much as the products when a thread's share of N is a few
  // panels (11% of a small LSTM's backward).
  const bool direct_a = jit_b && !g.ta && g.lda > 0 && direct_a_enabled();
  const index_t nc_max = std::min<index_t>(Cf::NC, (j1 - j0 + NR - 1) / NR * NR);
  const index_t kc_max = std::min<index_t>(Cf::KC, g.K);
  const index_t mc_max = std::min<index_t>(Cf::MC, (m + MR - 1) / MR * MR);
  T* abuf = direct_a ? nullptr : tls_buffer<T, 0>(size_t(mc_max * kc_max));
  const T* pre = g.packed_b;
  T* bbuf = pre ? nullptr : tls_buffer<T, 1>(size_t((jit_b ? NR : nc_max) * kc_max));

  for (index_t jc = j0; jc < j1; jc += Cf::NC) {
    const index_t nc = std::min<index_t>(Cf::NC, j1 - jc);
    for (index_t pc = 0; pc < g.K; pc += Cf::KC) {
      const index_t kc = std::min<index_t>(Cf::KC, g.K - pc);
      const T beta = pc == 0 ? g.beta : T(1);  // later depth blocks accumulate
      if (!jit_b && !pre)
        for (index_t jr = 0; jr < nc; jr += NR)
          pack_b_panel(g, pc, kc, jc + jr, int(std::min<index_t>(NR, nc - jr)), bbuf + jr * kc);
      for (index_t ic = i0; ic < i1; ic += Cf::MC) {
        const index_t mc = std::min<index_t>(Cf::MC, i1 - ic);
        if (!direct_a) pack_a(g, ic, mc, pc, kc, abuf);
        for (index_t jr = 0; jr < nc; jr += NR) {
          const int cols = int(std::min<index_t>(NR, nc - jr));
          const T* bp = pre ? pre + (jc + jr) / NR * (g.K * NR) + pc * NR : bbuf + jr * kc;
          if (jit_b && !pre) pack_b_panel(g, pc, kc, jc + jr, cols, bbuf), bp = bbuf;
          for (index_t ir = 0; ir < mc; ir += MR)
            micro_dispatch<T>(int(std::min<index_t>(MR, mc - ir)), kc,
                              direct_a ? g.A + (ic + ir) * g.lda + pc : abuf + ir * kc, direct_a ? g.lda : 0, bp,
                              g.C + (ic + ir) * g.ldc + jc + jr, g.ldc, cols, g.alpha, beta);
        }
      }
    }
  }
}

// Sum of a vector's lanes by halving: log2 steps of extract-and-add instead of VL - 1 serial
// adds. Plain vector extensions (the compiler emits vextract*); GCC 12 warns about the
// undefined temporaries inside _mm512_reduce_add_ps and the cast intrinsics.
template <typename T, int Bytes> struct Fold {
  typedef T W __attribute__((vector_size(Bytes)));
  typedef T H __attribute__((vector_size(Bytes / 2)));
  static T run(W v) {
    H lo, hi;
    std::memcpy(&lo, &v, Bytes / 2);
    std::memcpy(&hi, reinterpret_cast<const char*>(&v) + Bytes / 2, Bytes / 2);
    return Fold<T, Bytes / 2>::run(lo + hi);
  }
};
template <typename T> struct Fold<T, sizeof(T)> {
  typedef T W __attribute__((vector_size(sizeof(T))));
  static T run(W v) { return v[0]; }
};
template <typename T> inline T hsum(typename Vec<T>::type v) { return Fold<T, RNNKIT_VBYTES>::run(v); }

// Small-M product against a transposed B (B: [N,K], C[m,n] = a_m . B_n): the recurrent step's
// h W^T at batch 1 to 8, beam search's few hypotheses. Every weight row is read once, straight
// from memory, for all M rows of A, with R rows of B at a time so the M*R vector accumulators
// hide the FMA latency; no packing (packing copies the whole of W at every step). Summation
// order per output depends only on K, not on the partition: results are the same for any
// number of threads.
template <typename T, int M, int R>
void dot_rows(index_t n0, index_t n1, index_t K, T alpha, const T* A, index_t lda, const T* B,
              index_t ldb, T beta, T* C, index_t ldc) {
  typedef typename Vec<T>::type V;
  constexpr int VL = Cfg<T>::VL;
  const index_t kv = K / VL * VL;
  auto finish = [&](V acc, index_t m, index_t n, const T* row) {
    T s = hsum<T>(acc);
    for (index_t k = kv; k < K; ++k) s += A[m * lda + k] * row[k];
    T* c = C + m * ldc + n;
    *c = alpha * s + (beta == T(0) ? T(0) : beta * *c);
  };
  index_t n = n0;
  for (; n + R <= n1; n += R) {
    V acc[M][R];
    for (int m = 0; m < M; ++m)
      for (int r = 0; r < R; ++r) acc[m][r] = V{};
    for (index_t k = 0; k < kv; k += VL) {
      V b[R];
      for (int r = 0; r < R; ++r) b[r] = loadu<V>(B + (n + r) * ldb + k);
      for (int m = 0; m < M; ++m) {
        const V a = loadu<V>(A + m * lda + k);
        for (int r = 0; r < R; ++r) acc[m][r] = fmadd(a, b[r], acc[m][r]);
      }
    }
    for (int m = 0; m < M; ++m)
      for (int r = 0; r < R; ++r) finish(acc[m][r], m, n + r, B + (n + r) * ldb);
  }
  for (; n < n1; ++n) {  // the last rows, one at a time
    const T* row = B + n * ldb;
    V acc[M];
    for (int m = 0; m < M; ++m) acc[m] = V{};
    for (index_t k = 0; k < kv; k += VL) {
      const V b = loadu<V>(row + k);
      for (int m = 0; m < M; ++m) acc[m] = fmadd(loadu<V>(A + m * lda + k), b, acc[m]);
    }
    for (int m = 0; m < M; ++m) finish(acc[m], m, n, row);
  }
}

// R per M: M*R accumulators + R loads within the 16 (SSE2/AVX2) or 32 (AVX-512) vector registers.
template <typename T, int M>
void dot_rows_m(index_t n0, index_t n1, index_t K, T alpha, const T* A, index_t lda, const T* B,
                index_t ldb, T beta, T* C, index_t ldc) {
#if defined(__AVX512F__)
  constexpr int R = M == 1 ? 8 : M == 2 ? 6 : M <= 4 ? 4 : 2;
#else
  constexpr int R = M == 1 ? 8 : M == 2 ? 4 : M <= 4 ? 2 : 1;
#endif
  dot_rows<T, M, R>(n0, n1, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

// The small-M kernel for M rows, 1 <= M <= kSmallM.
template <typename T>
using SmallFn = void (*)(index_t, index_t, index_t, T, const T*, index_t, const T*, index_t, T, T*, index_t);
template <typename T>
SmallFn<T> small_fn(index_t M) {
  static constexpr SmallFn<T> fns[kSmallM] = {dot_rows_m<T, 1>, dot_rows_m<T, 2>, dot_rows_m<T, 3>,
                                              dot_rows_m<T, 4>, dot_rows_m<T, 5>, dot_rows_m<T, 6>,
                                              dot_rows_m<T, 7>, dot_rows_m<T, 8>};
  return fns[M - 1];
}

}  // namespace detail

// C = alpha * A B^T + beta * C for 1 <= M <= kSmallM (A: [M,K] rows of stride lda, B: [N,K]).
// Output columns are split over the pool in contiguous blocks: the same thread reads the same
// weight rows at every step, so each core's slice stays in its own cache.
template <typename T>
void gemm_small_tb(index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda, const T* B,
                   index_t ldb, T beta, T* C, index_t ldc) {
  using namespace detail;
  const SmallFn<T> fn = small_fn<T>(M);
  const double flops = 2.0 * double(M) * double(N) * double(K);
  // Below ~128 kFLOP per thread waking the pool costs more than it saves.
  const long grain = std::max<long>(1, long(128e3 / (2.0 * double(M) * double(K) * 16 + 1)));
  if (num_threads() <= 1 || flops < 256e3) {
    fn(0, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  parallel_for(long((N + 15) / 16), grain, [&](long b0, long b1) {
    const index_t n0 = b0 * 16, n1 = std::min<index_t>(N, b1 * 16);
    if (n1 > n0) fn(n0, n1, K, alpha, A, lda, B, ldb, beta, C, ldc);
  });
}

// One-row product c = alpha * a op(B) + beta * c (batch-1 recurrent steps): no packing, the
// weights stream through once; columns are split over the pool. a has stride inca.
template <typename T>
void gemv_row(index_t inca, bool tb, index_t N, index_t K, T alpha, const T* a, const T* B,
              index_t ldb, T beta, T* c) {
  const long blocks = static_cast<long>((N + 63) / 64);
  const long grain = std::max<long>(1, static_cast<long>(65536 / (64 * K + 1)));
  parallel_for(blocks, grain, [&](long b0, long b1) {
    const index_t n0 = b0 * 64, n1 = std::min<index_t>(N, b1 * 64);
    if (tb) {  // B: [N,K], one dot product per output
      for (index_t n = n0; n < n1; ++n) {
        const T* row = B + n * ldb;
        T part[8] = {};
        index_t k = 0;
        if (inca == 1)
          for (; k + 8 <= K; k += 8)
            for (int u = 0; u < 8; ++u) part[u] += a[k + u] * row[k + u];
        T acc = ((part[0] + part[4]) + (part[1] + part[5])) + ((part[2] + part[6]) + (part[3] + part[7]));
        for (; k < K; ++k) acc += a[k * inca] * row[k];
        c[n] = alpha * acc + (beta == T(0) ? T(0) : beta * c[n]);
      }
    } else {  // B: [K,N], accumulate scaled rows into a local block of 64 columns
      for (index_t m0 = n0; m0 < n1; m0 += 64) {
        T acc[64];
        const index_t w = std::min<index_t>(64, n1 - m0);
        for (index_t j = 0; j < w; ++j) acc[j] = T(0);
        for (index_t k = 0; k < K; ++k) {
          const T ak = a[k * inca];
          const T* row = B + k * ldb + m0;
          for (index_t j = 0; j < w; ++j) acc[j] += ak * row[j];
        }
        for (index_t j = 0; j < w; ++j) c[m0 + j] = alpha * acc[j] + (beta == T(0) ? T(0) : beta * c[m0 + j]);
      }
    }
  });
}

namespace detail {
template <typename T>
void gemm_with(bool ta, bool tb, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda,
               const T* B, index_t ldb, T beta, T* C, index_t ldc, const T* packed_b);
}

template <typename T>
void gemm(bool ta, bool tb, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda,
          const T* B, index_t ldb, T beta, T* C, index_t ldc) {
  detail::gemm_with(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, static_cast<const T*>(nullptr));
}

// Elements of op(B) ([K,N]) packed by pack_b.
template <typename T>
index_t packed_b_size(index_t N, index_t K) {
  constexpr int NR = detail::Cfg<T>::NR;
  return (N + NR - 1) / NR * NR * K;
}
// Packs op(B) whole (tb: W^T with W [N,K]; else W itself, [K,N]; row stride ldb): the panels
// gemm's blocks would pack.
template <typename T>
void pack_b(bool tb, index_t N, index_t K, const T* B, index_t ldb, T* dst) {
  using namespace detail;
  constexpr int NR = Cfg<T>::NR;
  Args<T> g{false, tb, 0, N, K, T(1), T(0), nullptr, 0, B, ldb, nullptr, 0, true};
  const long panels = long((N + NR - 1) / NR);
  const long grain = std::max<long>(1, long(65536 / (K * NR + 1)));  // ~256 KiB per chunk
  parallel_for(panels, grain, [&](long q0, long q1) {
    for (long q = q0; q < q1; ++q) {
      const index_t j = index_t(q) * NR;
      pack_b_panel(g, 0, K, j, int(std::min<index_t>(NR, N - j)), dst + j / NR * (K * NR));
    }
  });
}
// gemm(false, tb, ...) with op(B) already packed by pack_b(tb, N, K, B, ldb, packed).
template <typename T>
void gemm_packed(bool tb, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda, const T* B,
                 index_t ldb, const T* packed, T beta, T* C, index_t ldc) {
  detail::gemm_with(false, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, packed);
}

// Rows [i0, i1) x columns [j0, j1) of C = A op(B) on the calling thread, op(B) packed by
// pack_b (j0 a multiple of NR): one thread's block of a fused recurrent step (rnn_fused.cpp).
// The panels and the loop nest are gemm_packed's, so every element has gemm_packed's bits.
template <typename T>
void gemm_packed_block(bool tb, index_t M, index_t N, index_t K, const T* A, index_t lda, const T* B,
                       index_t ldb, const T* packed, T* C, index_t ldc, index_t i0, index_t i1, index_t j0,
                       index_t j1) {
  using namespace detail;
  Args<T> g{false, tb, M, N, K, T(1), T(0), A, lda, B, ldb, C, ldc, true};
  g.packed_b = packed;
  if (i1 > i0 && j1 > j0) serial(g, i0, i1, j0, j1);
}
// Columns [j0, j1) of gemm_small_tb's C = A B^T (1 <= M <= kSmallM rows of A) on the calling
// thread; each element is summed as gemm_small_tb sums it at any M.
template <typename T>
void gemm_small_tb_block(index_t M, index_t K, const T* A, index_t lda, const T* B, index_t ldb, T* C,
                         index_t ldc, index_t j0, index_t j1) {
  using namespace detail;
  if (M > 0 && j1 > j0) small_fn<T>(M)(j0, j1, K, T(1), A, lda, B, ldb, T(0), C, ldc);
}

namespace detail {
template <typename T>
void gemm_with(bool ta, bool tb, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda,
               const T* B, index_t ldb, T beta, T* C, index_t ldc, const T* packed_b) {
  if (M <= 0 || N <= 0) return;
  // C = beta*C only (BLAS semantics: A and B are not read when alpha == 0). beta == 0
  // overwrites, since C may hold NaN garbage.
  if (K <= 0 || alpha == T(0)) {
    for (index_t i = 0; i < M; ++i) {
      T* c = C + i * ldc;
      if (beta == T(0)) std::fill(c, c + N, T(0));
      else if (beta != T(1)) for (index_t j = 0; j < N; ++j) c[j] *= beta;
    }
    return;
  }
  if (M == 1) { gemv_row(ta ? lda : 1, tb, N, K, alpha, A, B, ldb, beta, C); return; }
  constexpr int MR = Cfg<T>::MR, NR = Cfg<T>::NR;
  Args<T> g{ta, tb, M, N, K, alpha, beta, A, lda, B, ldb, C, ldc, true};
  g.packed_b = packed_b;

  // Below ~256 kFLOP per thread the fork/join costs more than it saves.
  constexpr double kMinFlopsPerThread = 256e3;
  const double flops = 2.0 * double(M) * double(N) * double(K);
  const int nt = num_threads();
  if (nt <= 1 || flops < 2 * kMinFlopsPerThread) { serial(g, 0, M, 0, N); return; }

  // Every thread packs the whole of the operand it does not split; split the dimension that
  // makes that duplicated packing smaller (M <= N: split N, each thread packs all of A).
  g.split_n = M <= N;
  if (g.split_n && N < NR * nt && M >= MR * nt) g.split_n = false;
  if (!g.split_n && M < MR * nt && N >= NR * nt) g.split_n = true;
  const long blocks = long(g.split_n ? (N + NR - 1) / NR : (M + MR - 1) / MR);
  const double block_flops = 2.0 * double(K) * double(g.split_n ? M * NR : N * MR);
  const long grain = std::max<long>(1, long(kMinFlopsPerThread / block_flops));
  const Args<T>* gp = &g;  // capture one pointer: std::function stores it without allocating
  parallel_for(blocks, grain, [gp](long b, long e) {
    const Args<T>& a = *gp;
    if (a.split_n) serial(a, 0, a.M, b * NR, std::min<index_t>(e * NR, a.N));
    else serial(a, b * MR, std::min<index_t>(e * MR, a.M), 0, a.N);
  });
}
}  // namespace detail

}  // namespace RNNKIT_SIMD_NS
}  // namespace builtin
}  // namespace rnnkit
