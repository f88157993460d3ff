#include "rnn.h"

#include <algorithm>
#include <memory>
#include <type_traits>
#include <cstring>
#include <vector>

#include "gemm.h"
#include "rnn_fused.h"
#include "scratch.h"
#include "threads.h"

namespace rnnkit {

namespace {

// Fewest batch rows per thread when a backward splits its recurrence by rows.
constexpr index_t kSplitRows = 8;

// One scratch block for the process: the binding runs one job at a time (engine mutex), and
// async jobs land on varying libuv threads, so a per-thread block would go cold between calls.
// Two: forward and backward keep theirs apart so a backward never reallocates the forward's.
// A call in a serial lane (threads.h: it runs while another thread holds the engine) uses a
// block of its own instead.
Scratch g_forward_scratch, g_backward_scratch;
inline Scratch& scratch_for(Scratch& shared, Scratch& own) { return in_serial_lane() ? own : shared; }

// Reserve layout (elements), every block indexed by time t, not by processing order:
//   gates  [T,B,G*H]  activated gates (Elman: new h)
//   hprev  [T,B,H]    state before step t
//   aux    the cell's reserve_blocks blocks of [T,B,H] (cell_table.h; LSTM: cprev, cnew; GRU: one)
template <typename T>
struct Reserve {
  T *gates, *hprev, *aux[2] = {nullptr, nullptr};
  Reserve(const RnnShape& s, T* base) {
    const index_t tb = s.T * s.B;
    gates = base;
    hprev = gates + tb * s.G() * s.H;
    T* p = hprev + tb * s.H;
    for (int k = 0; k < cell_info(s.cell).reserve_blocks; ++k, p += tb * s.H) aux[k] = p;
  }
};

// out[c] += sum_r a[r,c] (and out2[c] += the same sum when out2 is given: the bias gradients of
// a cell whose input and recurrent pre-activation gradients are one buffer). Split over column
// blocks, each summing its rows in order, so the result does not depend on the thread count.
template <typename T>
void add_colsum(index_t rows, index_t cols, const T* a, T* out, T* out2) {
  constexpr index_t kCols = 64;
  const long blocks = static_cast<long>((cols + kCols - 1) / kCols);
  const long grain = std::max<long>(1, static_cast<long>(65536 / (rows * kCols + 1)));
  parallel_for(blocks, grain, [&](long b0, long b1) {
    for (long bk = b0; bk < b1; ++bk) {
      const index_t c0 = bk * kCols, w = std::min<index_t>(kCols, cols - c0);
      T acc[kCols] = {};
      for (index_t r = 0; r < rows; ++r) {
        const T* ar = a + r * cols + c0;
        for (index_t c = 0; c < w; ++c) acc[c] += ar[c];
      }
      for (index_t c = 0; c < w; ++c) out[c0 + c] += acc[c];
      if (out2)
        for (index_t c = 0; c < w; ++c) out2[c0 + c] += acc[c];
    }
  });
}

// A layer's W_hh packed once for a call's T recurrent products (gemm.h PackedWeights): listed
// for gemm while this lives. trans: for h W_hh^T (forward), else for dg W_hh (backward). The
// same panels gemm would pack at every step, so the same results.
template <typename T>
struct PackedRecurrentWeights {
  PackedWeights packed;
  const PackedWeights* list[1] = {&packed};
  std::unique_ptr<PackedWeightsScope> scope;
  PackedRecurrentWeights(const RnnShape& s, const T* w_hh, bool trans) {
    if constexpr (std::is_same<T, float>::value) {
      if (s.T < 2 || !builtin_packs(s.B, trans)) return;
      const index_t H = s.H, GH = s.G() * s.H;
      pack_weights(packed, w_hh, trans ? GH : H, trans ? H : GH, H, trans);
      scope.reset(new PackedWeightsScope(list, 1));
    }
  }
  // Whether the backward splits the batch's rows over the threads for its whole recurrence:
  // the products then run on the packed panels for row blocks of at least kSplitRows (never
  // the one-row path, so the kernel is the one the whole batch would get).
  // GRU's original variant also multiplies by a part of W_hh that is not packed (d(r h) =
  // dpn W_hn), which may run elsewhere (OpenBLAS) with other bits at fewer rows.
  bool split_rows(const RnnShape& s) const {
    return scope && fused_step_enabled() && num_threads() > 1 && s.B >= 2 * kSplitRows &&
           !(s.cell == CellType::GRU && s.gru == GruVariant::Original);
  }
};

}  // namespace

index_t rnn_reserve_size(const RnnShape& s) {
  const index_t tb = s.T * s.B;
  return tb * s.G() * s.H + tb * s.H * (1 + cell_info(s.cell).reserve_blocks);
}

template <typename T>
void rnn_forward(const RnnShape& s, const T* x, const T* h0, const T* c0,
                 const std::int32_t* lengths, const T* w_ih, const T* w_hh, const T* b_ih,
                 const T* b_hh, T* y, T* h_n, T* c_n, T* reserve) {
  const CellInfo& cell = cell_info(s.cell);
  const CellSteps<T>& steps = cell_steps<T>(s.cell);
  const index_t TT = s.T, B = s.B, I = s.I, H = s.H, GH = s.G() * s.H;
  const bool two_states = cell.states > 1;
  const index_t ldy = s.y_stride();

  // Inference runs with the reserve carved from scratch: same code path, nothing kept.
  std::size_t bytes = Carver::bytes<T>(B * GH) + 3 * Carver::bytes<T>(B * H) +
                      3 * Carver::bytes<T>(GH) + Carver::bytes<std::uint8_t>(B);
  if (!reserve) bytes += Carver::bytes<T>(rnn_reserve_size(s));
  Scratch own;
  Scratch& scratch = scratch_for(g_forward_scratch, own);
  Carver cv(scratch.get(bytes));
  TrimOnExit trim(scratch);
  T* rec = cv.take<T>(B * GH);
  T* h = cv.take<T>(B * H);
  T* c = cv.take<T>(B * H);
  T* tmp = cv.take<T>(B * H);
  // The step kernels take biases unconditionally (branch-free inner loops): zeros stand in.
  T* zb_ih = cv.take<T>(GH);
  T* zb_hh = cv.take<T>(GH);
  if (!b_ih) { std::fill(zb_ih, zb_ih + GH, T(0)); b_ih = zb_ih; }
  if (!b_hh) { std::fill(zb_hh, zb_hh + GH, T(0)); b_hh = zb_hh; }
  T* bsum = cv.take<T>(GH);
  std::uint8_t* valid = cv.take<std::uint8_t>(B);
  const bool keep = reserve != nullptr;
  if (!reserve) reserve = cv.take<T>(rnn_reserve_size(s));
  Reserve<T> rs(s, reserve);

  if (h0) std::memcpy(h, h0, sizeof(T) * B * H); else std::fill(h, h + B * H, T(0));
  if (two_states) { if (c0) std::memcpy(c, c0, sizeof(T) * B * H); else std::fill(c, c + B * H, T(0)); }

  // One GEMM for the input projection of every timestep: gates = x W_ih^T.
  if (TT > 0) gemm<T>(false, true, TT * B, GH, I, T(1), x, I, w_ih, I, T(0), rs.gates, GH);

  // W_hh packed once for the T recurrent products h W_hh^T instead of once per step.
  PackedRecurrentWeights<T> packed(s, w_hh, true);

  bool fused = false;
  if constexpr (std::is_same<T, float>::value) {
    const FusedForward f{&s,   lengths, w_hh, b_ih, b_hh, rs.gates, keep ? rs.hprev : nullptr, {rs.aux[0], rs.aux[1]},
                         keep, rec,     h,    tmp,  c,    bsum,     valid, y, ldy};
    fused = rnn_forward_fused(f);
  }
  if (!fused) {
    ForwardStep<T> st{};
    st.s = &s;
    st.w_hh = w_hh;
    st.b_ih = b_ih;
    st.b_hh = b_hh;
    st.valid = valid;
    st.rec = rec;
    st.tmp = tmp;
    st.h = h;
    st.c = c;
    st.ldy = ldy;
    st.keep = keep;
    for (index_t step = 0; step < TT; ++step) {
      const index_t t = s.reverse ? TT - 1 - step : step;
      fill_valid(lengths, t, 0, B, valid);
      st.gates = rs.gates + t * B * GH;
      st.y = y + t * B * ldy;
      for (int k = 0; k < cell.reserve_blocks; ++k) st.aux[k] = rs.aux[k] + t * B * H;
      if (keep) std::memcpy(rs.hprev + t * B * H, h, sizeof(T) * B * H);
      steps.forward(st);
    }
  }
  if (h_n) std::memcpy(h_n, h, sizeof(T) * B * H);
  if (two_states && c_n) std::memcpy(c_n, c, sizeof(T) * B * H);
}

template <typename T>
void rnn_backward(const RnnShape& s, const T* x, const std::int32_t* lengths, const T* w_ih,
                  const T* w_hh, const T* reserve, const T* dy, const T* dh_n, const T* dc_n,
                  T* dx, T* dh0, T* dc0, T* dw_ih, T* dw_hh, T* db_ih, T* db_hh) {
  const CellInfo& cell = cell_info(s.cell);
  const CellSteps<T>& steps = cell_steps<T>(s.cell);
  const index_t TT = s.T, B = s.B, I = s.I, H = s.H, GH = s.G() * s.H, TB = s.T * s.B;
  const bool two_states = cell.states > 1, split = cell.split_gate_grads;
  const index_t lddy = dy ? s.y_stride() : H;  // the zeros stand-in is a plain [B,H] block
  Reserve<T> rs(s, const_cast<T*>(reserve));

  // dgx: [T,B,GH] input-side pre-activation gradients; dgh: recurrent side (a separate buffer
  // only for cells that split them).
  std::size_t bytes = Carver::bytes<T>(TB * GH) * (split ? 2 : 1) + 5 * Carver::bytes<T>(B * H) +
                      Carver::bytes<std::uint8_t>(B);
  Scratch own;
  Scratch& scratch = scratch_for(g_backward_scratch, own);
  Carver cv(scratch.get(bytes));
  TrimOnExit trim(scratch);
  T* dgx = cv.take<T>(TB * GH);
  T* dgh = split ? cv.take<T>(TB * GH) : dgx;
  T* dh = cv.take<T>(B * H);
  T* dnext = cv.take<T>(B * H);
  T* dc = cv.take<T>(B * H);
  T* drh = cv.take<T>(B * H);
  T* zeros = cv.take<T>(B * H);  // stands in for an absent dy (branch-free step kernels)
  std::fill(zeros, zeros + B * H, T(0));
  std::uint8_t* valid = cv.take<std::uint8_t>(B);

  if (dh_n) std::memcpy(dh, dh_n, sizeof(T) * B * H); else std::fill(dh, dh + B * H, T(0));
  if (two_states) { if (dc_n) std::memcpy(dc, dc_n, sizeof(T) * B * H); else std::fill(dc, dc + B * H, T(0)); }

  // W_hh packed once for the T products dg W_hh, as the forward packs it for h W_hh^T.
  PackedRecurrentWeights<T> packed(s, w_hh, false);

  // The steps for batch rows [b0, b1): the cell's backward step on a shape of b1 - b0 rows and
  // pointers moved to row b0 (every row's recurrence is its own).
  auto run_rows = [&](index_t b0, index_t b1) {
    RnnShape sub = s;
    sub.B = b1 - b0;
    const index_t rH = b0 * H, rG = b0 * GH;
    BackwardStep<T> st{};
    st.s = &sub;
    st.w_hh = w_hh;
    st.valid = valid + b0;
    st.zeros = zeros + rH;
    st.lddy = lddy;
    st.dc = dc + rH;
    st.drh = drh + rH;
    T* d_in = dh + rH;
    T* d_out = dnext + rH;
    for (index_t step = TT - 1; step >= 0; --step) {
      const index_t t = s.reverse ? TT - 1 - step : step;
      fill_valid(lengths, t, b0, b1, valid);
      st.gates = rs.gates + t * B * GH + rG;
      st.hprev = rs.hprev + t * B * H + rH;
      for (int k = 0; k < cell.reserve_blocks; ++k) st.aux[k] = rs.aux[k] + t * B * H + rH;
      st.dy = dy ? dy + t * B * lddy + b0 * lddy : zeros + rH;
      st.dgx = dgx + t * B * GH + rG;
      st.dgh = dgh + t * B * GH + rG;
      st.dh = d_in;
      st.dnext = d_out;
      steps.backward(st);
      std::swap(d_in, d_out);
    }
  };
  if (packed.split_rows(s)) {
    // Each thread runs the whole recurrence for its rows, with no barrier between steps, its
    // products on the packed panels (listed on its own thread) and its kernels on its rows run
    // serially: the same kernels on the same elements, so the same bits.
    parallel_for(long(B), long(kSplitRows), [&](long r0, long r1) {
      PackedWeightsScope scope(packed.list, 1);
      run_rows(index_t(r0), index_t(r1));
    });
  } else {
    run_rows(0, B);
  }
  if (TT % 2 == 1) std::swap(dh, dnext);
  if (dh0) std::memcpy(dh0, dh, sizeof(T) * B * H);
  if (two_states && dc0) std::memcpy(dc0, dc, sizeof(T) * B * H);
  if (TB == 0) return;

  // Weight gradients as large GEMMs over all timesteps.
  gemm<T>(true, false, GH, I, TB, T(1), dgx, GH, x, I, T(1), dw_ih, I);
  steps.recurrent_grad(RecurrentGrad<T>{&s, TB, dgh, rs.hprev, rs.aux[0], dw_hh});
  if (dgh == dgx && db_ih && db_hh) {
    add_colsum(TB, GH, dgx, db_ih, db_hh);
  } else {
    if (db_ih) add_colsum<T>(TB, GH, dgx, db_ih, nullptr);
    if (db_hh) add_colsum<T>(TB, GH, dgh, db_hh, nullptr);
  }
  if (dx) gemm<T>(false, false, TB, I, GH, T(1), dgx, GH, w_ih, I, T(1), dx, I);
}

#define RNNKIT_INSTANTIATE_RNN(T)                                                               \
  template void rnn_forward<T>(const RnnShape&, const T*, const T*, const T*,                   \
                               const std::int32_t*, const T*, const T*, const T*, const T*, T*, \
                               T*, T*, T*);                                                     \
  template void rnn_backward<T>(const RnnShape&, const T*, const std::int32_t*, const T*,       \
                                const T*, const T*, const T*, const T*, const T*, T*, T*, T*,   \
                                T*, T*, T*, T*);
RNNKIT_INSTANTIATE_RNN(float)
RNNKIT_INSTANTIATE_RNN(double)

}  // namespace rnnkit
