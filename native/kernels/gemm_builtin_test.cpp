// Standalone correctness test + benchmark for the built-in GEMM (not part of the addon).
//
//   g++ -O3 -std=c++17 -pthread -mavx2 -mfma -c gemm_builtin_avx2.cpp -o /tmp/avx2.o
//   g++ -O3 -std=c++17 -pthread -c gemm_builtin_generic.cpp threads.cpp gemm_builtin_test.cpp
//   g++ -pthread *.o -o /tmp/gemm_builtin_test [-DHAVE_CBLAS ... $(pkg-config --cflags --libs openblas)]
//   /tmp/gemm_builtin_test [--no-bench] [--generic-bench]
// Exit status 0 when every check passes.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gemm.h"
#include "threads.h"

#ifdef HAVE_CBLAS
#include <cblas.h>
#endif

using rnnkit::index_t;

template <typename T>
using GemmFn = void (*)(bool, bool, index_t, index_t, index_t, T, const T*, index_t, const T*,
                        index_t, T, T*, index_t);

template <typename T> struct Impl { const char* name; GemmFn<T> fn; };
template <typename T> std::vector<Impl<T>> impls() {
  std::vector<Impl<T>> v{{"generic", &rnnkit::builtin::generic::gemm<T>}};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    v.push_back({"avx2", &rnnkit::builtin::avx2::gemm<T>});
  else
    std::printf("note: CPU lacks AVX2/FMA, avx2 kernels not tested\n");
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512bw"))
    v.push_back({"avx512", &rnnkit::builtin::avx512::gemm<T>});
  else
    std::printf("note: CPU lacks AVX-512, avx512 kernels not tested\n");
  return v;
}

// Naive reference with long double accumulation; beta == 0 never reads C.
template <typename T>
void ref_gemm(bool ta, bool tb, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda,
              const T* B, index_t ldb, T beta, T* C, index_t ldc) {
  for (index_t i = 0; i < M; ++i)
    for (index_t j = 0; j < N; ++j) {
      long double s = 0;
      for (index_t k = 0; k < K; ++k)
        s += (long double)(ta ? A[k * lda + i] : A[i * lda + k]) * (tb ? B[j * ldb + k] : B[k * ldb + j]);
      T& c = C[i * ldc + j];
      c = beta == T(0) ? T(alpha * s) : T(alpha * s + (long double)beta * c);
    }
}

// Resizes the pool and lets the fresh workers start before timing. (An earlier threads.cpp
// read the job generation inside each new worker, so a job issued right after a resize could
// be missed and hang the join; the short pause also keeps this test immune to that.)
void set_threads(int n) {
  rnnkit::set_num_threads(n);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

struct Case { index_t M, N, K; };

template <typename T>
int run_checks(const Impl<T>& impl, std::mt19937& rng, int threads) {
  const double tol = sizeof(T) == 4 ? 1e-5 : 1e-12;
  const T nan = std::numeric_limits<T>::quiet_NaN();
  const T sentinel = T(12345.5);
  const Case cases[] = {
      {0, 5, 3},     {5, 0, 3},     {4, 6, 0},     {1, 1, 1},      {7, 13, 5},     {1, 17, 3},
      {13, 1, 9},    {6, 16, 256},  {5, 15, 257},  {32, 64, 33},   {150, 40, 300}, {37, 2100, 20},
      {300, 33, 513}, {70, 200, 260}, {200, 70, 260}, {145, 130, 700}, {33, 1030, 64},
  };
  const T alphas[] = {T(1), T(-0.75)};
  const T betas[] = {T(0), T(1), T(0.5)};
  std::uniform_real_distribution<double> u(-1, 1);
  int fails = 0, count = 0;
  for (const Case& c : cases)
    for (int t = 0; t < 4; ++t)
      for (T alpha : alphas)
        for (T beta : betas)
          for (int pad = 0; pad < 2; ++pad) {
            const bool ta = t & 1, tb = t & 2;
            const index_t ar = ta ? c.K : c.M, ac = ta ? c.M : c.K;  // stored shapes
            const index_t br = tb ? c.N : c.K, bc = tb ? c.K : c.N;
            const index_t lda = ac + pad * 3, ldb = bc + pad * 5, ldc = c.N + pad * 7;
            std::vector<T> A(size_t(std::max<index_t>(1, ar * lda))), B(size_t(std::max<index_t>(1, br * ldb)));
            for (auto& x : A) x = T(u(rng));
            for (auto& x : B) x = T(u(rng));
            std::vector<T> C(size_t(std::max<index_t>(1, c.M * ldc)));
            for (index_t i = 0; i < c.M; ++i)
              for (index_t j = 0; j < ldc; ++j)
                C[i * ldc + j] = j >= c.N ? sentinel : beta == T(0) ? nan : T(u(rng));
            std::vector<T> R = C;
            ref_gemm<T>(ta, tb, c.M, c.N, c.K, alpha, A.data(), lda, B.data(), ldb, beta, R.data(), ldc);
            impl.fn(ta, tb, c.M, c.N, c.K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
            double maxref = 0, maxerr = 0;
            bool bad = false;
            for (index_t i = 0; i < c.M; ++i)
              for (index_t j = 0; j < ldc; ++j) {
                const T x = C[i * ldc + j], r = R[i * ldc + j];
                if (j >= c.N) { bad |= x != sentinel; continue; }  // padding must be untouched
                if (!std::isfinite(x)) bad = true;
                maxref = std::max(maxref, std::fabs(double(r)));
                maxerr = std::max(maxerr, std::fabs(double(x) - double(r)));
              }
            // Inputs are U(-1,1), so results are O(1) or larger: an O(1) floor keeps a sum that cancels
            // to nearly 0 from reading as a large relative error.
            const double rel = maxerr / std::max(maxref, 1.0);
            ++count;
            if (bad || rel > tol) {
              if (++fails <= 20)
                std::printf("FAIL %s<%s> threads=%d M=%lld N=%lld K=%lld ta=%d tb=%d alpha=%g beta=%g pad=%d rel=%.3g%s\n",
                            impl.name, sizeof(T) == 4 ? "float" : "double", threads, (long long)c.M,
                            (long long)c.N, (long long)c.K, ta, tb, double(alpha), double(beta), pad, rel,
                            bad ? " (NaN or padding overwritten)" : "");
            }
          }
  std::printf("  %-7s %-6s threads=%d: %d cases, %d failures\n", impl.name, sizeof(T) == 4 ? "float" : "double",
              threads, count, fails);
  return fails;
}

// ---- benchmark ----
struct Shape { index_t M, N, K; bool ta, tb; const char* note; };

template <typename F> double best_seconds(F&& f) {
  f();  // warm-up: buffers, pool, caches
  double best = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    int iters = 0;
    auto t0 = std::chrono::steady_clock::now();
    double el;
    do {
      f();
      ++iters;
      el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    } while (el < 0.2);
    best = std::min(best, el / iters);
  }
  return best;
}

void bench(bool with_generic) {
  const Shape shapes[] = {
      {32, 1024, 256, false, false, "RNN step h*W"},
      {32, 1024, 256, false, true, "RNN step h*W^T"},
      {2048, 1024, 64, false, false, ""},
      {1024, 256, 2048, true, false, "weight grad A^T*B"},
      {3200, 2048, 512, false, false, ""},
      {1024, 1024, 1024, false, false, ""},
  };
  std::printf("\nGFLOP/s, float (best of 3 x >=0.2 s)\n");
  std::printf("%-24s %-18s %3s %9s %9s%s\n", "M x N x K", "op", "thr", "avx2", with_generic ? "generic" : "",
#ifdef HAVE_CBLAS
              "  openblas"
#else
              ""
#endif
  );
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  for (const Shape& s : shapes) {
    const index_t lda = s.ta ? s.M : s.K, ldb = s.tb ? s.K : s.N;
    std::vector<float> A(size_t(s.M * s.K)), B(size_t(s.K * s.N)), C(size_t(s.M * s.N), 0.f);
    for (auto& x : A) x = u(rng);
    for (auto& x : B) x = u(rng);
    const double gf = 2.0 * s.M * s.N * s.K * 1e-9;
    for (int th : {1, 2}) {
      set_threads(th);
      auto run = [&](GemmFn<float> fn) {
        return gf / best_seconds([&] { fn(s.ta, s.tb, s.M, s.N, s.K, 1.f, A.data(), lda, B.data(), ldb, 0.f, C.data(), s.N); });
      };
      char shape[64], op[64];
      std::snprintf(shape, sizeof shape, "%lldx%lldx%lld", (long long)s.M, (long long)s.N, (long long)s.K);
      std::snprintf(op, sizeof op, "ta=%d tb=%d", s.ta, s.tb);
      std::printf("%-24s %-18s %3d %9.1f", shape, op, th, run(&rnnkit::builtin::avx2::gemm<float>));
      if (__builtin_cpu_supports("avx512f")) std::printf(" avx512 %7.1f", run(&rnnkit::builtin::avx512::gemm<float>));
      if (with_generic) std::printf(" %9.1f", run(&rnnkit::builtin::generic::gemm<float>));
      else std::printf(" %9s", "");
#ifdef HAVE_CBLAS
      openblas_set_num_threads(th);
      const double ob = gf / best_seconds([&] {
        cblas_sgemm(CblasRowMajor, s.ta ? CblasTrans : CblasNoTrans, s.tb ? CblasTrans : CblasNoTrans, int(s.M),
                    int(s.N), int(s.K), 1.f, A.data(), int(lda), B.data(), int(ldb), 0.f, C.data(), int(s.N));
      });
      std::printf("  %8.1f", ob);
#endif
      std::printf("   %s\n", s.note);
      std::fflush(stdout);
    }
  }
}

int main(int argc, char** argv) {
  bool do_bench = true, with_generic = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--no-bench")) do_bench = false;
    if (!std::strcmp(argv[i], "--generic-bench")) with_generic = true;
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::mt19937 rng(12345);
  int fails = 0;
  std::printf("correctness vs naive reference (float tol 1e-5, double tol 1e-12 of max|C|)\n");
  for (int th : {1, 2}) {
    set_threads(th);
    for (auto& im : impls<float>()) fails += run_checks(im, rng, th);
    for (auto& im : impls<double>()) fails += run_checks(im, rng, th);
  }
  std::printf("%s\n", fails ? "CORRECTNESS FAILED" : "all correctness checks passed");
  if (do_bench && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) bench(with_generic);
  return fails ? 1 : 0;
}
