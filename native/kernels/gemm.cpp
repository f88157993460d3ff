#include "gemm.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <type_traits>
#include <utility>
#include <vector>

#include "cpu_features.h"
#include "threads.h"

#ifdef RNNKIT_OPENBLAS
#include <cblas.h>
#endif

namespace rnnkit {

namespace {
std::atomic<bool> g_force_builtin{false};
// RNNKIT_SMALL_GEMM=off turns the small-M kernel off, for A/B benchmarks in one build.
std::atomic<bool> g_small_tb{[] {
  const char* env = std::getenv("RNNKIT_SMALL_GEMM");
  return !(env && std::strcmp(env, "off") == 0);
}()};

// RNNKIT_PACK_ONCE=off: weights are packed at every product again (A/B runs, the parity test).
const bool g_pack_once = [] {
  const char* env = std::getenv("RNNKIT_PACK_ONCE");
  return !(env && std::strcmp(env, "off") == 0);
}();
// RNNKIT_STEP_GEMM=openblas: on an AVX2 CPU with OpenBLAS linked, the recurrent products (those
// whose weights a PackedWeightsScope lists) go to OpenBLAS instead of the built-in kernel (A/B
// runs). AVX-512 CPUs always keep them on the built-in kernel.
const bool g_step_builtin_avx2 = [] {
  const char* env = std::getenv("RNNKIT_STEP_GEMM");
  return !(env && std::strcmp(env, "openblas") == 0);
}();
// RNNKIT_THIN_GEMM=openblas: on an AVX2 CPU with OpenBLAS linked, products against a transposed
// matrix of small depth (K <= 256) stay on OpenBLAS instead of the built-in kernel (A/B runs).
const bool g_thin_builtin_avx2 = [] {
  const char* env = std::getenv("RNNKIT_THIN_GEMM");
  return !(env && std::strcmp(env, "openblas") == 0);
}();
const bool g_direct_a = [] {
  const char* env = std::getenv("RNNKIT_DIRECT_A");
  return !(env && std::strcmp(env, "off") == 0);
}();

#ifdef RNNKIT_OPENBLAS
inline void blas(bool ta, bool tb, index_t M, index_t N, index_t K, float alpha, const float* A,
                 index_t lda, const float* B, index_t ldb, float beta, float* C, index_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N,
              K, alpha, A, lda, B, ldb, beta, C, ldc);
}
// y = alpha * op(B) x + beta * y for a one-row product (batch-1 recurrent steps): GEMV reads
// the weights once without packing them.
inline void gemv(bool tb, index_t N, index_t K, float alpha, const float* B, index_t ldb,
                 const float* x, index_t incx, float beta, float* y) {
  if (tb) cblas_sgemv(CblasRowMajor, CblasNoTrans, N, K, alpha, B, ldb, x, incx, beta, y, 1);
  else cblas_sgemv(CblasRowMajor, CblasTrans, K, N, alpha, B, ldb, x, incx, beta, y, 1);
}
inline void gemv(bool tb, index_t N, index_t K, double alpha, const double* B, index_t ldb,
                 const double* x, index_t incx, double beta, double* y) {
  if (tb) cblas_dgemv(CblasRowMajor, CblasNoTrans, N, K, alpha, B, ldb, x, incx, beta, y, 1);
  else cblas_dgemv(CblasRowMajor, CblasTrans, K, N, alpha, B, ldb, x, incx, beta, y, 1);
}
inline void blas(bool ta, bool tb, index_t M, index_t N, index_t K, double alpha, const double* A,
                 index_t lda, const double* B, index_t ldb, double beta, double* C, index_t ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N,
              K, alpha, A, lda, B, ldb, beta, C, ldc);
}

// OpenBLAS runs single-threaded; rnnkit's own pool splits the product into column or row
// blocks, so exactly one pool ever spins on the cores. Set on first use, not in a static
// initializer: a statically linked OpenBLAS may not have run its own constructor yet then.
std::once_flag g_openblas_once;

template <typename T>
void openblas_gemm(bool ta, bool tb, index_t M, index_t N, index_t K, T alpha, const T* A,
                   index_t lda, const T* B, index_t ldb, T beta, T* C, index_t ldc) {
  std::call_once(g_openblas_once, [] { openblas_set_num_threads(1); });
  const double flops = 2.0 * M * N * K;
  const int parts = num_threads();
  if (M == 1 && K > 0) {
    const index_t incx = ta ? lda : 1;  // op(A) is one row: contiguous, or a column of A
    if (parts <= 1 || flops < 2.0e5) {
      gemv(tb, N, K, alpha, B, ldb, A, incx, beta, C);
      return;
    }
    const long blocks = (N + 63) / 64;
    parallel_for(blocks, 1, [&](long b0, long b1) {
      index_t n0 = b0 * 64, n1 = std::min<index_t>(N, b1 * 64);
      if (n1 > n0) gemv(tb, n1 - n0, K, alpha, tb ? B + n0 * ldb : B + n0, ldb, A, incx, beta, C + n0);
    });
    return;
  }
  if (parts <= 1 || flops < 2.0e6) {
    blas(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  if (N >= M) {  // split columns of C (and of op(B)) in multiples of 16
    const long blocks = (N + 15) / 16;
    parallel_for(blocks, 1, [&](long b0, long b1) {
      index_t n0 = b0 * 16, n1 = std::min<index_t>(N, b1 * 16);
      if (n1 <= n0) return;
      blas(ta, tb, M, n1 - n0, K, alpha, A, lda, tb ? B + n0 * ldb : B + n0, ldb, beta, C + n0, ldc);
    });
  } else {  // split rows of C (and of op(A))
    const long blocks = (M + 7) / 8;
    parallel_for(blocks, 1, [&](long b0, long b1) {
      index_t m0 = b0 * 8, m1 = std::min<index_t>(M, b1 * 8);
      if (m1 <= m0) return;
      blas(ta, tb, m1 - m0, N, K, alpha, ta ? A + m0 : A + m0 * lda, lda, B, ldb, beta, C + m0 * ldc, ldc);
    });
  }
}
#endif
}  // namespace

namespace {
// The packed weights the calling thread's PackedWeightsScope lists (none: n = 0).
thread_local const PackedWeights* const* t_packed = nullptr;
thread_local int t_packed_n = 0;

int simd_level() { return use_avx512() ? 2 : use_avx2() ? 1 : 0; }

const float* packed_for(bool tb, const float* B, index_t N, index_t K, index_t ldb) {
  for (int i = 0; i < t_packed_n; ++i) {
    const PackedWeights* p = t_packed[i];
    if (p->w == B && p->trans == tb && p->N == N && p->K == K && p->ldw == ldb && p->simd == simd_level())
      return p->panels.get();
  }
  return nullptr;
}

// The built-in kernel of this CPU, on W's packed panels where a scope lists them.
template <typename T>
void builtin_gemm(bool ta, bool tb, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda,
                  const T* B, index_t ldb, T beta, T* C, index_t ldc) {
  if constexpr (std::is_same<T, float>::value) {
    const float* packed = t_packed_n > 0 && !ta ? packed_for(tb, B, N, K, ldb) : nullptr;
    if (packed) {
      if (use_avx512())
        builtin::avx512::gemm_packed<T>(tb, M, N, K, alpha, A, lda, B, ldb, packed, beta, C, ldc);
      else if (use_avx2())
        builtin::avx2::gemm_packed<T>(tb, M, N, K, alpha, A, lda, B, ldb, packed, beta, C, ldc);
      else
        builtin::generic::gemm_packed<T>(tb, M, N, K, alpha, A, lda, B, ldb, packed, beta, C, ldc);
      return;
    }
  }
  if (use_avx512())
    builtin::avx512::gemm<T>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  else if (use_avx2())
    builtin::avx2::gemm<T>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  else
    builtin::generic::gemm<T>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

// The largest M the small-M dot-product kernel takes for float32 here.
index_t small_max_rows() {
  index_t small_max = 4;
#ifdef RNNKIT_OPENBLAS
  if (!g_force_builtin.load(std::memory_order_relaxed) && !use_avx512()) small_max = builtin::kSmallM;
#endif
  return small_max;
}
}  // namespace

template <typename T>
void gemm(bool ta, bool tb, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda,
          const T* B, index_t ldb, T beta, T* C, index_t ldc) {
  if (M <= 0 || N <= 0) return;
  // The one place that chooses the small-M kernel, for every build and SIMD level. A few rows
  // against W^T (the recurrent step at small batch, beam hypotheses): the built-in
  // dot-product kernel reads W once, unpacked. On 2 Sapphire Rapids cores it took 0.45-0.9x
  // the time of OpenBLAS and of the packed built-in kernels at M <= 4 (bench/gemm_small.cpp).
  // Up to 4 rows it beats every alternative; 5 to 8 rows only OpenBLAS (the packed built-in
  // kernels are as fast or faster there). float32 only: float64, the dtype of the checks, keeps
  // a product whose every row is summed in the same order whatever M is, so stepping a layer
  // gives forward's results bit for bit.
  if (std::is_same<T, float>::value && !ta && tb && M <= small_max_rows() && K > 0 && alpha != T(0) &&
      small_tb_enabled()) {
    if (use_avx512())
      builtin::avx512::gemm_small_tb<T>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    else if (use_avx2())
      builtin::avx2::gemm_small_tb<T>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    else
      builtin::generic::gemm_small_tb<T>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
#ifdef RNNKIT_OPENBLAS
  if (!g_force_builtin.load(std::memory_order_relaxed)) {
    // Small-M products without op(A) transposed (the recurrent step's h W^T and dg W, batch
    // <= 256) run faster on the AVX-512 built-in kernel than on OpenBLAS: 127 vs 76 GFLOP/s
    // for 32x1024x256 h W^T on 2 Sapphire Rapids cores (gemm_builtin_test). The weight-gradient
    // and large products stay on OpenBLAS, which is faster there.
    if (std::is_same<T, float>::value && M > 1 && M <= 256 && !ta && use_avx512()) {
      builtin_gemm<T>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
      return;
    }
    // AVX2: the products whose weights were packed for them (a layer's W_hh, a decoder's
    // weights), which the built-in kernel then reads without packing, and products against a
    // transposed matrix of small depth (a layer's input projection x W_ih^T, a linear layer's
    // x W^T): 0.47-0.96x OpenBLAS's time at M = 64 to 8192, N = 512 to 2048, K = 32 to 256 on 2
    // Zen 3 cores, level at K = 512.
    if constexpr (std::is_same<T, float>::value) {
      if (M > 1 && !ta && t_packed_n > 0 && packed_for(tb, B, N, K, ldb)) {
        builtin_gemm<T>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
      }
      if (M > 1 && !ta && tb && K <= 256 && g_thin_builtin_avx2 && use_avx2() && !use_avx512()) {
        builtin_gemm<T>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
      }
    }
    openblas_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
#endif
  builtin_gemm<T>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

ColumnProduct column_product(index_t M, index_t N, index_t K, const float* w, index_t ldw) {
  ColumnProduct p;
  if (M <= 0 || N <= 0 || K <= 0) return p;
  p.M = M, p.N = N, p.K = K, p.w = w, p.ldw = ldw, p.simd = simd_level();
  // packed_b_size(1, 1): one panel of depth 1, NR columns.
  const index_t nr = p.simd == 2   ? builtin::avx512::packed_b_size<float>(1, 1)
                     : p.simd == 1 ? builtin::avx2::packed_b_size<float>(1, 1)
                                   : builtin::generic::packed_b_size<float>(1, 1);
  // 16: slices of the step's element-wise loops start on a 64-byte vector boundary as well.
  p.align = std::max<index_t>(16, nr);
  // gemm's own order of choice: the small-M kernel first, then the packed panels.
  if (M <= small_max_rows() && small_tb_enabled()) {
    p.kind = 1;
    return p;
  }
  if (!builtin_packs(M, true)) return p;
  p.panels = t_packed_n > 0 ? packed_for(true, w, N, K, ldw) : nullptr;
  if (p.panels) p.kind = 2;
  return p;
}

void ColumnProduct::run(const float* A, index_t lda, float* C, index_t ldc, index_t i0, index_t i1, index_t j0,
                        index_t j1) const {
  if (kind == 1) {
    const index_t m = i1 - i0;
    const float* a = A + i0 * lda;
    float* c = C + i0 * ldc;
    if (simd == 2) builtin::avx512::gemm_small_tb_block<float>(m, K, a, lda, w, ldw, c, ldc, j0, j1);
    else if (simd == 1) builtin::avx2::gemm_small_tb_block<float>(m, K, a, lda, w, ldw, c, ldc, j0, j1);
    else builtin::generic::gemm_small_tb_block<float>(m, K, a, lda, w, ldw, c, ldc, j0, j1);
  } else if (kind == 2) {
    if (simd == 2)
      builtin::avx512::gemm_packed_block<float>(true, M, N, K, A, lda, w, ldw, panels, C, ldc, i0, i1, j0, j1);
    else if (simd == 1)
      builtin::avx2::gemm_packed_block<float>(true, M, N, K, A, lda, w, ldw, panels, C, ldc, i0, i1, j0, j1);
    else
      builtin::generic::gemm_packed_block<float>(true, M, N, K, A, lda, w, ldw, panels, C, ldc, i0, i1, j0, j1);
  }
}

bool builtin_packs(index_t M, bool trans) {
  if (!g_pack_once || M < 2) return false;  // the built-in kernel's one-row path packs nothing
  if (trans && M <= small_max_rows() && small_tb_enabled()) return false;  // the small-M kernel, A W^T only
#ifdef RNNKIT_OPENBLAS
  if (!g_force_builtin.load(std::memory_order_relaxed))
    return M <= 256 && (use_avx512() || (use_avx2() && g_step_builtin_avx2));
#endif
  return true;
}

namespace {
// Freed panel buffers by size, at most kPanelCacheBytes in all: a decoding call packs the same
// weights into buffers of the same sizes as the call before it.
constexpr std::size_t kPanelCacheBytes = std::size_t(64) << 20;
struct PanelCache {
  std::mutex m;
  std::vector<std::pair<std::size_t, float*>> free;
  std::size_t bytes = 0;
};
PanelCache& panel_cache() {
  static PanelCache* c = new PanelCache;  // never destroyed: plans may be finalized at exit
  return *c;
}
float* take_panels(std::size_t n) {
  PanelCache& c = panel_cache();
  {
    std::lock_guard<std::mutex> lk(c.m);
    for (std::size_t i = c.free.size(); i-- > 0;)
      if (c.free[i].first == n) {
        float* p = c.free[i].second;
        c.free.erase(c.free.begin() + static_cast<std::ptrdiff_t>(i));
        c.bytes -= n * sizeof(float);
        return p;
      }
  }
  return new float[n];
}
}  // namespace

void PanelRelease::operator()(float* p) const {
  if (!p) return;
  PanelCache& c = panel_cache();
  std::vector<float*> drop;
  {
    std::lock_guard<std::mutex> lk(c.m);
    c.free.emplace_back(n, p);
    c.bytes += n * sizeof(float);
    std::size_t k = 0;  // oldest first
    while (c.bytes > kPanelCacheBytes && k < c.free.size()) {
      c.bytes -= c.free[k].first * sizeof(float);
      drop.push_back(c.free[k].second);
      ++k;
    }
    c.free.erase(c.free.begin(), c.free.begin() + static_cast<std::ptrdiff_t>(k));
  }
  for (float* q : drop) delete[] q;
}

void pack_weights(PackedWeights& p, const float* w, index_t N, index_t K, index_t ldw, bool trans) {
  p.w = w;
  p.trans = trans;
  p.N = N;
  p.K = K;
  p.ldw = ldw;
  p.simd = simd_level();
  const index_t n = p.simd == 2   ? builtin::avx512::packed_b_size<float>(N, K)
                    : p.simd == 1 ? builtin::avx2::packed_b_size<float>(N, K)
                                  : builtin::generic::packed_b_size<float>(N, K);
  p.panels = std::unique_ptr<float[], PanelRelease>(take_panels(static_cast<std::size_t>(n)),
                                                     PanelRelease{static_cast<std::size_t>(n)});
  if (p.simd == 2)
    builtin::avx512::pack_b<float>(trans, N, K, w, ldw, p.panels.get());
  else if (p.simd == 1)
    builtin::avx2::pack_b<float>(trans, N, K, w, ldw, p.panels.get());
  else
    builtin::generic::pack_b<float>(trans, N, K, w, ldw, p.panels.get());
}

PackedWeightsScope::PackedWeightsScope(const PackedWeights* const* list, int n)
    : prev_list_(t_packed), prev_n_(t_packed_n) {
  t_packed = list;
  t_packed_n = n;
}
PackedWeightsScope::~PackedWeightsScope() {
  t_packed = prev_list_;
  t_packed_n = prev_n_;
}

template void gemm<float>(bool, bool, index_t, index_t, index_t, float, const float*, index_t,
                          const float*, index_t, float, float*, index_t);
template void gemm<double>(bool, bool, index_t, index_t, index_t, double, const double*, index_t,
                           const double*, index_t, double, double*, index_t);

const char* gemm_name() {
#ifdef RNNKIT_OPENBLAS
  if (!g_force_builtin.load()) return "openblas";
#endif
  return "builtin";
}
const char* simd_name() { return use_avx512() ? "avx512" : use_avx2() ? "avx2" : "generic"; }
void set_force_builtin_gemm(bool force) { g_force_builtin.store(force); }
void set_small_tb_gemm(bool on) { g_small_tb.store(on); }
bool direct_a_enabled() { return g_direct_a; }
bool small_tb_enabled() { return g_small_tb.load(std::memory_order_relaxed); }

}  // namespace rnnkit
