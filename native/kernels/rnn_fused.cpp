#include "rnn_fused.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "cell_impl.h"
#include "threads.h"

namespace rnnkit {

namespace {

// RNNKIT_FUSED_STEP=off: every step runs the cell's product and gate kernel apart (A/B runs,
// the parity test).
std::atomic<bool> g_fused{[] {
  const char* env = std::getenv("RNNKIT_FUSED_STEP");
  return !(env && std::strcmp(env, "off") == 0);
}()};

// Fewest batch rows a thread takes when the batch is split: below this the weights each thread
// streams at every step cost more than the barriers a split over hidden units pays.
constexpr index_t kMinRowsPerThread = 8;

// One block of one timestep: rows [b0, b1) of the batch, hidden units [u0, u1). The product's
// columns for those units in every gate block, then their gate math. valid_all: [B], the step's
// rows.
struct Step {
  const FusedForward& f;
  const ColumnProduct& prod;
  index_t B, H, G, GH;

  void operator()(index_t t, const std::uint8_t* valid_all, const float* hi, float* ho, index_t b0, index_t b1,
                  index_t u0, index_t u1) const {
    const RnnShape& s = *f.s;
    if (u0 == 0 && u1 == H) {
      prod.run(hi, H, f.rec, GH, b0, b1, 0, GH);
    } else {
      for (index_t g = 0; g < G; ++g) prod.run(hi, H, f.rec, GH, b0, b1, g * H + u0, g * H + u1);
    }
    const index_t m = b1 - b0, rowH = b0 * H;
    float* gates = f.gates + t * B * GH + b0 * GH;
    const float* rec = f.rec + b0 * GH;
    const std::uint8_t* valid = valid_all + b0;
    float* y = f.y + t * B * f.ldy + b0 * f.ldy;
    float* h_keep = f.hprev ? f.hprev + t * B * H + rowH : nullptr;
    float* aux0 = f.aux[0] ? f.aux[0] + t * B * H + rowH : nullptr;
    float* aux1 = f.aux[1] ? f.aux[1] + t * B * H + rowH : nullptr;
    const float* hin = hi + rowH;
    float* hout = ho + rowH;
    switch (s.cell) {
      case CellType::LSTM:
        RNNKIT_STEP(lstm_fwd_units<float>, m, H, u0, u1, rec, f.bsum, valid, gates, hin, hout, h_keep, f.c + rowH,
                    f.keep ? aux0 : nullptr, aux1, y, f.ldy);
        break;
      case CellType::GRU:
        RNNKIT_STEP(gru_fwd_units<float>, m, H, u0, u1, rec, f.bsum, f.b_ih, f.b_hh, valid, gates, hin, hout, h_keep,
                    aux0, y, f.ldy);
        break;
      case CellType::Elman:
        RNNKIT_STEP(elman_fwd_units<float>, m, H, u0, u1, s.act, rec, f.bsum, valid, gates, hin, hout, h_keep, y,
                    f.ldy);
        break;
    }
  }
};

}  // namespace

void set_fused_step(bool on) { g_fused.store(on); }
bool fused_step_enabled() { return g_fused.load(std::memory_order_relaxed); }

bool rnn_forward_fused(const FusedForward& f) {
  const RnnShape& s = *f.s;
  const index_t TT = s.T, B = s.B, H = s.H, G = s.G(), GH = G * H;
  if (!g_fused.load(std::memory_order_relaxed) || TT <= 0 || B <= 0 || H <= 0) return false;
  const bool cell_ok = s.cell == CellType::LSTM || s.cell == CellType::Elman ||
                       (s.cell == CellType::GRU && s.gru == GruVariant::PyTorch);  // original: r*h needs every unit first
  if (!cell_ok) return false;
  const ColumnProduct prod = column_product(B, GH, H, f.w_hh, H);
  if (!prod) return false;
  const int nt = num_threads();
  const bool by_rows = nt == 1 || B >= 2 * kMinRowsPerThread;
  if (!by_rows && H % prod.align != 0) return false;

  for (index_t k = 0; k < GH; ++k) f.bsum[k] = f.b_ih[k] + f.b_hh[k];
  const Step step{f, prod, B, H, G, GH};
  auto time_of = [&](index_t k) { return s.reverse ? TT - 1 - k : k; };

  if (by_rows) {
    // The rows of a batch never meet: each thread runs the whole sequence for its own rows, with
    // no barrier between timesteps, its rows of h and c staying in its own cache.
    parallel_for(long(B), long(kMinRowsPerThread), [&](long r0, long r1) {
      const index_t b0 = index_t(r0), b1 = index_t(r1);
      float* hi = f.h;
      float* ho = f.h2;
      for (index_t k = 0; k < TT; ++k) {
        const index_t t = time_of(k);
        fill_valid(f.lengths, t, b0, b1, f.valid);
        step(t, f.valid, hi, ho, b0, b1, 0, H);
        std::swap(hi, ho);
      }
      if (hi != f.h) std::memcpy(f.h + b0 * H, hi + b0 * H, sizeof(float) * (b1 - b0) * H);
    });
    return true;
  }

  // A small batch: each timestep split over hidden units, one barrier per step.
  const index_t blocks = H / prod.align;
  // The product's work per chunk that gemm asks of a thread: 128 kFLOP for the small-M kernel,
  // 256 for the packed one.
  const double block_flops = 2.0 * double(B) * double(G * prod.align) * double(H);
  const long grain = std::max<long>(1, long((prod.kind == 1 ? 128e3 : 256e3) / block_flops));
  // One team for the whole sequence where its parts can run at once: a spin barrier between
  // steps instead of a fork-join (a step at batch 1 is a few microseconds of work).
  const int parts = int(std::min<long>(nt, std::max<long>(1, long(blocks) / grain)));
  SpinBarrier barrier(parts);
  const bool teamed = parts > 1 && parallel_team(parts, [&](int p, int np) {
    const index_t u0 = blocks * p / np * prod.align, u1 = blocks * (p + 1) / np * prod.align;
    std::uint8_t valid[2 * kMinRowsPerThread];  // B < 2 kMinRowsPerThread here
    float* hi = f.h;
    float* ho = f.h2;
    for (index_t k = 0; k < TT; ++k) {
      const index_t t = time_of(k);
      fill_valid(f.lengths, t, 0, B, valid);
      step(t, valid, hi, ho, 0, B, u0, u1);
      barrier.wait();  // every slice of h_t written before any part reads it
      std::swap(hi, ho);
    }
  });
  if (!teamed) {
    float* hi = f.h;
    float* ho = f.h2;
    for (index_t k = 0; k < TT; ++k) {
      const index_t t = time_of(k);
      fill_valid(f.lengths, t, 0, B, f.valid);
      parallel_for(long(blocks), grain, [&](long q0, long q1) {
        step(t, f.valid, hi, ho, 0, B, index_t(q0) * prod.align, index_t(q1) * prod.align);
      });
      std::swap(hi, ho);
    }
  }
  if (TT % 2 == 1) std::memcpy(f.h, f.h2, sizeof(float) * B * H);
  return true;
}

}  // namespace rnnkit
