// Times the small-M dot-product kernel (gemm_small_tb) against what gemm() runs without it
// (OpenBLAS, or the packed built-in kernel), interleaved, best of 9 rounds of 1,000 calls, on
// the decoder and W5/W7 step shapes. npm run bench:gemm-small builds and runs it:
//   (see bench/gemm_small.sh for the compile lines)
//   FB=1: force the built-in GEMM; RNNKIT_SIMD=avx2: the AVX2 builds on an AVX-512 CPU.
#include <chrono>
#include <cstdio>
#include <vector>
#include <cmath>
#include "gemm.h"
#include "threads.h"
using namespace rnnkit;
#include <cstdlib>
int main() { if (getenv("FB")) set_force_builtin_gemm(true);
  struct S { int M, N, K; } shapes[] = {{1, 1024, 320}, {1, 1024, 256}, {1, 256, 512}, {1, 256, 256}, {1, 64, 256}, {2, 1024, 256}, {4, 1024, 256}, {5, 1024, 256}, {8, 1024, 256}};
  for (int th : {1, 2})
    for (auto s : shapes) {
      set_num_threads(th);
      std::vector<float> A(s.M * s.K), W(s.N * s.K), C(s.M * s.N), R(s.M * s.N);
      for (size_t i = 0; i < A.size(); ++i) A[i] = std::sin(i * 0.37f);
      for (size_t i = 0; i < W.size(); ++i) W[i] = std::cos(i * 0.11f) * 0.05f;
      double best[2] = {1e9, 1e9};
      for (int r = 0; r < 9; ++r)
        for (int v = 0; v < 2; ++v) {
          set_small_tb_gemm(v == 1);
          float* out = v ? C.data() : R.data();
          for (int i = 0; i < 100; ++i) gemm<float>(false, true, s.M, s.N, s.K, 1.f, A.data(), s.K, W.data(), s.K, 0.f, out, s.N);
          auto t0 = std::chrono::steady_clock::now();
          for (int i = 0; i < 1000; ++i) gemm<float>(false, true, s.M, s.N, s.K, 1.f, A.data(), s.K, W.data(), s.K, 0.f, out, s.N);
          double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / 1000;
          best[v] = std::min(best[v], us);
        }
      double md = 0;
      for (size_t i = 0; i < C.size(); ++i) md = std::max(md, (double)std::fabs(C[i] - R[i]));
      printf("threads %d %dx%dx%d  gemm %.2f us  small %.2f us  (%.1f GB/s)  ratio %.2f  maxdiff %.1e\n", th, s.M, s.N, s.K, best[0], best[1], 4.0 * s.N * s.K / best[1] / 1e3, best[1] / best[0], md);
    }
}
