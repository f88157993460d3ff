// Times a float32 layer forward (rnn_forward) with the fused step (rnn_fused.cpp: each thread
// its batch rows through the whole sequence, or one step's hidden-unit slices at small batch)
// against the cells' own steps (the product, then the gate kernel, two barriers per step), and a
// backward with its recurrence split by batch rows against the whole-batch steps, in one
// process, the two interleaved in rounds, on the GEMM this build uses and on the built-in one;
// checks that both give the same bits. Where the fused step does not apply (the recurrent product on
// OpenBLAS) both columns run the same code. npm run bench:fused (bench/gemm_small.sh fused).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <vector>

#include "cpu_features.h"
#include "gemm.h"
#include "rnn.h"
#include "rnn_fused.h"
#include "threads.h"
using namespace rnnkit;

int main(int argc, char** argv) {
  if (argc > 1) set_num_threads(std::atoi(argv[1]));  // threads (default: all CPUs)
  struct W { const char* name; CellType cell; int T, B, I, H; bool train; };
  const W ws[] = {
      {"W1 LSTM train", CellType::LSTM, 64, 32, 64, 256, true},
      {"W2 GRU train", CellType::GRU, 64, 32, 64, 256, true},
      {"W3 Elman train", CellType::Elman, 64, 32, 64, 256, true},
      {"charlm LSTM", CellType::LSTM, 100, 32, 64, 128, true},
      {"W5 LSTM b1", CellType::LSTM, 128, 1, 64, 256, false},
      {"W5 LSTM b64", CellType::LSTM, 128, 64, 64, 256, false},
      {"W7 GRU b1", CellType::GRU, 128, 1, 64, 256, false},
      {"W7 GRU b64", CellType::GRU, 128, 64, 64, 256, false},
  };
  std::printf("simd %s, %d threads; ms per forward, best of 9 interleaved rounds\n", simd_name(), num_threads());
  std::printf("%-16s %-8s %-4s %10s %10s %7s %s\n", "workload", "gemm", "pass", "steps ms", "fused ms", "ratio", "bits");
  for (const W& w : ws)
    for (int builtin = 0; builtin < 2; ++builtin) {
#ifndef RNNKIT_OPENBLAS
      if (!builtin) continue;
#endif
      set_force_builtin_gemm(builtin == 1);
      RnnShape s;
      s.T = w.T, s.B = w.B, s.I = w.I, s.H = w.H, s.cell = w.cell;
      const index_t G = s.G(), GH = G * w.H;
      std::vector<float> x(size_t(w.T) * w.B * w.I), wih(GH * w.I), whh(GH * w.H), bih(GH), bhh(GH);
      for (size_t i = 0; i < x.size(); ++i) x[i] = 0.5f * std::sin(0.37f * float(i));
      for (size_t i = 0; i < wih.size(); ++i) wih[i] = 0.1f * std::cos(0.11f * float(i));
      for (size_t i = 0; i < whh.size(); ++i) whh[i] = 0.08f * std::sin(0.23f * float(i));
      for (index_t i = 0; i < GH; ++i) bih[i] = 0.01f * float(i % 7), bhh[i] = -0.01f * float(i % 5);
      // 64-byte aligned outputs, as a Float32Array of any size is (and as scratch is)
      const size_t ny = size_t(w.T) * w.B * w.H, nr = w.train ? size_t(rnn_reserve_size(s)) : 0;
      std::vector<float> ybuf(ny + 16), y2buf(ny + 16), rbuf(nr + 16);
      auto al = [](std::vector<float>& v) { return reinterpret_cast<float*>((reinterpret_cast<std::uintptr_t>(v.data()) + 63) / 64 * 64); };
      struct View { float* p; size_t n; float* data() { return p; } size_t size() const { return n; } };
      View y{al(ybuf), ny}, y2{al(y2buf), ny}, res{al(rbuf), nr};
      auto run = [&](bool fused, float* out) {
        set_fused_step(fused);
        rnn_forward<float>(s, x.data(), nullptr, nullptr, nullptr, wih.data(), whh.data(), bih.data(), bhh.data(),
                           out, nullptr, nullptr, w.train ? res.data() : nullptr);
      };
      run(false, y.data());
      run(true, y2.data());
      const bool same = std::memcmp(y.data(), y2.data(), y.size() * sizeof(float)) == 0;
      const int reps = std::max(3, int(2e8 / (2.0 * w.T * w.B * GH * (w.I + w.H))));
      double best[2] = {1e9, 1e9};
      for (int r = 0; r < 9; ++r)
        for (int fused = 0; fused < 2; ++fused) {
          const auto t0 = std::chrono::steady_clock::now();
          for (int k = 0; k < reps; ++k) run(fused == 1, fused ? y2.data() : y.data());
          const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / reps;
          best[fused] = std::min(best[fused], ms);
        }
      std::printf("%-16s %-8s %-4s %10.3f %10.3f %7.3f %s\n", w.name, gemm_name(), "fwd", best[0], best[1],
                  best[1] / best[0], same ? "same" : "DIFFER");
      if (!w.train) continue;
      // The backward: its recurrence split by batch rows (whole sequence per thread) or not.
      std::vector<float> dy(y.size()), dx(x.size()), dwih(wih.size()), dwhh(whh.size()), dbih(GH), dbhh(GH);
      std::vector<float> dx2(x.size()), dwhh2(whh.size());
      for (size_t i = 0; i < dy.size(); ++i) dy[i] = 0.01f * std::cos(0.19f * float(i));
      run(true, y.data());
      auto back = [&](bool fused, float* dxo, float* dwo) {
        set_fused_step(fused);
        std::fill(dxo, dxo + dx.size(), 0.f);
        std::fill(dwo, dwo + dwhh.size(), 0.f);
        rnn_backward<float>(s, x.data(), nullptr, wih.data(), whh.data(), res.data(), dy.data(), nullptr, nullptr,
                            dxo, nullptr, nullptr, dwih.data(), dwo, dbih.data(), dbhh.data());
      };
      back(false, dx.data(), dwhh.data());
      back(true, dx2.data(), dwhh2.data());
      const bool bsame = dx == dx2 && dwhh == dwhh2;
      double bbest[2] = {1e9, 1e9};
      for (int r = 0; r < 9; ++r)
        for (int fused = 0; fused < 2; ++fused) {
          const auto t0 = std::chrono::steady_clock::now();
          for (int k = 0; k < reps; ++k) back(fused == 1, fused ? dx2.data() : dx.data(), fused ? dwhh2.data() : dwhh.data());
          const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / reps;
          bbest[fused] = std::min(bbest[fused], ms);
        }
      std::printf("%-16s %-8s %-4s %10.3f %10.3f %7.3f %s\n", w.name, gemm_name(), "bwd", bbest[0], bbest[1],
                  bbest[1] / bbest[0], bsame ? "same" : "DIFFER");
    }
  set_fused_step(true);
  return 0;
}
