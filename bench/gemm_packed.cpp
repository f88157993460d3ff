// Times gemm() on a weight matrix packed once (PackedWeights + PackedWeightsScope, gemm.h)
// against gemm() packing it at every call, interleaved call by call, best of 9 rounds of 200
// calls, on the recurrent-step and decoder shapes (h W^T, W: [N,K]). Checks the bits agree.
// npm run bench:gemm-packed builds and runs it (bench/gemm_small.sh with this file).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "gemm.h"
#include "threads.h"
using namespace rnnkit;

int main() {
  struct S { int M, N, K; } shapes[] = {{5, 1024, 256}, {20, 1024, 256}, {32, 1024, 256}, {64, 1024, 256},
                                        {32, 2048, 512}, {32, 768, 256}, {64, 512, 128}, {5, 256, 512}};
  for (int th : {1, 2})
    for (auto s : shapes) {
      set_num_threads(th);
      if (!builtin_packs(s.M)) {
        printf("threads %d %dx%dx%d  not a built-in packed product here\n", th, s.M, s.N, s.K);
        continue;
      }
      std::vector<float> A(size_t(s.M) * s.K), W(size_t(s.N) * s.K), C(size_t(s.M) * s.N), R(size_t(s.M) * s.N);
      for (size_t i = 0; i < A.size(); ++i) A[i] = std::sin(i * 0.37f);
      for (size_t i = 0; i < W.size(); ++i) W[i] = std::cos(i * 0.11f) * 0.05f;
      PackedWeights pw;
      pack_weights(pw, W.data(), s.N, s.K, s.K);
      const PackedWeights* list[1] = {&pw};
      double best[2] = {1e9, 1e9};
      for (int r = 0; r < 9; ++r)
        for (int v = 0; v < 2; ++v) {
          float* out = v ? C.data() : R.data();
          auto call = [&] {
            if (v) {
              PackedWeightsScope scope(list, 1);
              gemm<float>(false, true, s.M, s.N, s.K, 1.f, A.data(), s.K, W.data(), s.K, 0.f, out, s.N);
            } else {
              gemm<float>(false, true, s.M, s.N, s.K, 1.f, A.data(), s.K, W.data(), s.K, 0.f, out, s.N);
            }
          };
          for (int i = 0; i < 20; ++i) call();
          auto t0 = std::chrono::steady_clock::now();
          for (int i = 0; i < 200; ++i) call();
          double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / 200;
          best[v] = std::min(best[v], us);
        }
      const bool same = std::memcmp(C.data(), R.data(), C.size() * sizeof(float)) == 0;
      printf("threads %d %dx%dx%d  packed per call %.2f us  packed once %.2f us  (%.0f GFLOP/s)  ratio %.2f  %s\n", th,
             s.M, s.N, s.K, best[0], best[1], 2.0 * s.M * s.N * s.K / best[1] / 1e3, best[1] / best[0],
             same ? "same bits" : "BITS DIFFER");
    }
}
