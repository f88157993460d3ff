// Times the fused gate kernels' AVX2 and AVX-512 builds (rnn_steps_avx2.cpp,
// rnn_steps_avx512.cpp) against each other: one LSTM and one GRU step at the workloads' batch
// and hidden sizes, 1 and 2 threads, best of 15 rounds of 200 calls, and checks that the two
// builds agree to float32 rounding. npm run bench:steps builds and runs it (bench/gemm_small.sh steps).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "cpu_features.h"
#include "rnn_steps.h"
#include "threads.h"
using namespace rnnkit;

template <class F>
double best_us(F f) {
  double b = 1e9;
  for (int r = 0; r < 15; ++r) {
    f();
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 200; ++i) f();
    b = std::min(b, std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / 200);
  }
  return b;
}

int main() {
  if (!use_avx512()) {
    printf("this CPU has no AVX-512 (or RNNKIT_SIMD limits it): nothing to compare\n");
    return 0;
  }
  struct S { int B, H; } shapes[] = {{1, 256}, {32, 128}, {32, 256}, {64, 256}};
  for (int th : {1, 2})
    for (auto s : shapes) {
      set_num_threads(th);
      const int B = s.B, H = s.H, G4 = 4 * H, G3 = 3 * H;
      std::vector<float> xg(B * G4), rec(B * G4), bias(G4, 0.01f), gates(B * G4), h(B * H), c0(B * H), c(B * H),
          cn(B * H), y2(B * H), y5(B * H), sig(B * G4), dh(B * H), dy(B * H), dc(B * H), dgx(B * G4), dgh(B * G3),
          dn(B * H), hn(B * H), zeros(B * H, 0.f);
      std::vector<unsigned char> valid(B, 1);
      for (int i = 0; i < B * G4; ++i) xg[i] = std::sin(i * 0.3f), rec[i] = std::cos(i * 0.2f), sig[i] = 0.5f + 0.4f * std::sin(i * 0.7f);
      for (int i = 0; i < B * H; ++i) c0[i] = std::sin(i * 0.1f), dh[i] = std::cos(i * 0.13f), dy[i] = std::sin(i * 0.17f), h[i] = std::cos(i * 0.05f);
      auto lstm_f = [&](bool wide, float* y) {
        std::memcpy(gates.data(), xg.data(), 4 * B * G4);
        std::memcpy(c.data(), c0.data(), 4 * B * H);
        if (wide) steps::avx512::lstm_fwd<float>(B, H, gates.data(), rec.data(), bias.data(), bias.data(), valid.data(), gates.data(), h.data(), c.data(), cn.data(), y, H);
        else steps::avx2::lstm_fwd<float>(B, H, gates.data(), rec.data(), bias.data(), bias.data(), valid.data(), gates.data(), h.data(), c.data(), cn.data(), y, H);
      };
      lstm_f(false, y2.data());
      lstm_f(true, y5.data());
      double diff = 0;
      for (int i = 0; i < B * H; ++i) diff = std::max(diff, double(std::fabs(y2[i] - y5[i])));
      const double f2 = best_us([&] { lstm_f(false, y2.data()); }), f5 = best_us([&] { lstm_f(true, y5.data()); });
      const double b2 = best_us([&] { std::memcpy(dc.data(), dh.data(), 4 * B * H); steps::avx2::lstm_bwd<float>(B, H, sig.data(), c0.data(), cn.data(), dh.data(), dy.data(), H, valid.data(), dc.data(), dgx.data(), dn.data()); });
      const double b5 = best_us([&] { std::memcpy(dc.data(), dh.data(), 4 * B * H); steps::avx512::lstm_bwd<float>(B, H, sig.data(), c0.data(), cn.data(), dh.data(), dy.data(), H, valid.data(), dc.data(), dgx.data(), dn.data()); });
      const double g2 = best_us([&] { steps::avx2::gru_bwd<float>(B, H, true, sig.data(), hn.data(), h.data(), dh.data(), dy.data(), H, valid.data(), dgx.data(), dgh.data(), dn.data()); });
      const double g5 = best_us([&] { steps::avx512::gru_bwd<float>(B, H, true, sig.data(), hn.data(), h.data(), dh.data(), dy.data(), H, valid.data(), dgx.data(), dgh.data(), dn.data()); });
      std::vector<float> gg(B * G3), rh(B * H), hs(B * H);
      auto gru_f = [&](bool wide) {
        std::memcpy(gg.data(), xg.data(), 4 * B * G3);
        std::memcpy(hs.data(), h.data(), 4 * B * H);
        if (wide) {
          steps::avx512::gru_rz_fwd<float>(B, H, gg.data(), rec.data(), G3, bias.data(), bias.data(), hs.data(), gg.data(), rh.data());
          steps::avx512::gru_n_fwd<float>(B, H, true, gg.data(), rec.data() + 2 * H, G3, bias.data(), bias.data(), valid.data(), gg.data(), hs.data(), hn.data(), y5.data(), H);
        } else {
          steps::avx2::gru_rz_fwd<float>(B, H, gg.data(), rec.data(), G3, bias.data(), bias.data(), hs.data(), gg.data(), rh.data());
          steps::avx2::gru_n_fwd<float>(B, H, true, gg.data(), rec.data() + 2 * H, G3, bias.data(), bias.data(), valid.data(), gg.data(), hs.data(), hn.data(), y2.data(), H);
        }
      };
      const double r2 = best_us([&] { gru_f(false); }), r5 = best_us([&] { gru_f(true); });
      printf("threads %d B %2d H %3d  gru fwd avx2 %7.2f us avx512 %7.2f (%.2fx)\n", th, B, H, r2, r5, r2 / r5);
      printf("threads %d B %2d H %3d  lstm fwd avx2 %7.2f us avx512 %7.2f (%.2fx)  lstm bwd %6.2f / %6.2f (%.2fx)  gru bwd %6.2f / %6.2f (%.2fx)  max |dy| %.1e\n",
             th, B, H, f2, f5, f2 / f5, b2, b5, b2 / b5, g2, g5, g2 / g5, diff);
    }
}
