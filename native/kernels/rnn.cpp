#include "rnn.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "cpu_features.h"
#include "gemm.h"
#include "rnn_steps.h"
#include "scratch.h"

namespace rnnkit {

namespace {

// One scratch block for the process: the binding runs one job at a time (engine mutex), and
// async jobs land on varying libuv threads, so a per-thread block would go cold between calls.
// Two: forward and backward keep theirs apart so a backward never reallocates the forward's.
Scratch g_forward_scratch, g_backward_scratch;

// Reserve layout (elements), every block indexed by time t, not by processing order:
//   gates  [T,B,G*H]  activated gates (Elman: new h)
//   hprev  [T,B,H]    state before step t
//   LSTM:  cprev [T,B,H], cnew [T,B,H]
//   GRU:   extra [T,B,H]  pytorch variant: W_hn h + b_hn; original variant: r*h
template <typename T>
struct Reserve {
  T *gates, *hprev, *cprev = nullptr, *cnew = nullptr, *extra = nullptr;
  Reserve(const RnnShape& s, T* base) {
    const index_t tb = s.T * s.B;
    gates = base;
    hprev = gates + tb * s.G() * s.H;
    T* end = hprev + tb * s.H;
    if (s.cell == CellType::LSTM) { cprev = end; cnew = cprev + tb * s.H; }
    if (s.cell == CellType::GRU) extra = end;
  }
};

void fill_valid(const RnnShape& s, const std::int32_t* lengths, index_t t, std::uint8_t* valid) {
  for (index_t b = 0; b < s.B; ++b) valid[b] = lengths ? (t < lengths[b]) : 1;
}

template <typename T>
void add_colsum(index_t rows, index_t cols, const T* a, T* out) {  // out[c] += sum_r a[r,c]
  for (index_t r = 0; r < rows; ++r) {
    const T* ar = a + r * cols;
    for (index_t c = 0; c < cols; ++c) out[c] += ar[c];
  }
}

#define RNNKIT_STEP(fn, ...) (use_avx2() ? steps::avx2::fn(__VA_ARGS__) : steps::generic::fn(__VA_ARGS__))

}  // namespace

index_t rnn_reserve_size(const RnnShape& s) {
  const index_t tb = s.T * s.B;
  index_t n = tb * s.G() * s.H + tb * s.H;
  if (s.cell == CellType::LSTM) n += 2 * tb * s.H;
  if (s.cell == CellType::GRU) n += tb * s.H;
  return n;
}

template <typename T>
void rnn_forward(const RnnShape& s, const T* x, const T* h0, const T* c0,
                 const std::int32_t* lengths, const T* w_ih, const T* w_hh, const T* b_ih,
                 const T* b_hh, T* y, T* h_n, T* c_n, T* reserve) {
  const index_t TT = s.T, B = s.B, I = s.I, H = s.H, GH = s.G() * s.H;
  const bool lstm = s.cell == CellType::LSTM, gru = s.cell == CellType::GRU;
  const bool reset_after = s.gru == GruVariant::PyTorch;
  const index_t ldy = s.y_stride();

  // Inference runs with the reserve carved from scratch: same code path, nothing kept.
  std::size_t bytes = Carver::bytes<T>(B * GH) + 4 * Carver::bytes<T>(B * H) +
                      2 * Carver::bytes<T>(GH) + Carver::bytes<std::uint8_t>(B);
  if (!reserve) bytes += Carver::bytes<T>(rnn_reserve_size(s));
  Carver cv(g_forward_scratch.get(bytes));
  T* rec = cv.take<T>(B * GH);
  T* h = cv.take<T>(B * H);
  T* c = cv.take<T>(B * H);
  T* tmp = cv.take<T>(B * H);   // GRU original: W_hn (r h)
  T* sink = cv.take<T>(B * H);  // values inference does not keep (c_new, hn)
  // The step kernels take biases unconditionally (branch-free inner loops): zeros stand in.
  T* zb_ih = cv.take<T>(GH);
  T* zb_hh = cv.take<T>(GH);
  if (!b_ih) { std::fill(zb_ih, zb_ih + GH, T(0)); b_ih = zb_ih; }
  if (!b_hh) { std::fill(zb_hh, zb_hh + GH, T(0)); b_hh = zb_hh; }
  std::uint8_t* valid = cv.take<std::uint8_t>(B);
  const bool keep = reserve != nullptr;
  if (!reserve) reserve = cv.take<T>(rnn_reserve_size(s));
  Reserve<T> rs(s, reserve);

  if (h0) std::memcpy(h, h0, sizeof(T) * B * H); else std::fill(h, h + B * H, T(0));
  if (lstm) { if (c0) std::memcpy(c, c0, sizeof(T) * B * H); else std::fill(c, c + B * H, T(0)); }

  // One GEMM for the input projection of every timestep: gates = x W_ih^T.
  if (TT > 0) gemm<T>(false, true, TT * B, GH, I, T(1), x, I, w_ih, I, T(0), rs.gates, GH);

  for (index_t step = 0; step < TT; ++step) {
    const index_t t = s.reverse ? TT - 1 - step : step;
    fill_valid(s, lengths, t, valid);
    T* g = rs.gates + t * B * GH;
    T* yt = y + t * B * ldy;
    if (keep) {
      std::memcpy(rs.hprev + t * B * H, h, sizeof(T) * B * H);
      if (lstm) std::memcpy(rs.cprev + t * B * H, c, sizeof(T) * B * H);
    }
    if (s.cell == CellType::Elman) {
      gemm<T>(false, true, B, GH, H, T(1), h, H, w_hh, H, T(0), rec, GH);
      RNNKIT_STEP(elman_fwd<T>, B, H, s.act, g, rec, b_ih, b_hh, valid, g, h, yt, ldy);
    } else if (lstm) {
      gemm<T>(false, true, B, GH, H, T(1), h, H, w_hh, H, T(0), rec, GH);
      RNNKIT_STEP(lstm_fwd<T>, B, H, g, rec, b_ih, b_hh, valid, g, h, c,
                  keep ? rs.cnew + t * B * H : sink, yt, ldy);
    } else if (reset_after) {
      gemm<T>(false, true, B, GH, H, T(1), h, H, w_hh, H, T(0), rec, GH);
      RNNKIT_STEP(gru_rz_fwd<T>, B, H, g, rec, GH, b_ih, b_hh, h, g, sink);
      RNNKIT_STEP(gru_n_fwd<T>, B, H, true, g, rec + 2 * H, GH, b_ih, b_hh, valid, g, h,
                  keep ? rs.extra + t * B * H : sink, yt, ldy);
    } else {
      T* rh = keep ? rs.extra + t * B * H : rec + B * 2 * H;  // rec holds [B,2H] here, rest is free
      gemm<T>(false, true, B, 2 * H, H, T(1), h, H, w_hh, H, T(0), rec, 2 * H);
      RNNKIT_STEP(gru_rz_fwd<T>, B, H, g, rec, 2 * H, b_ih, b_hh, h, g, rh);
      gemm<T>(false, true, B, H, H, T(1), rh, H, w_hh + 2 * H * H, H, T(0), tmp, H);
      RNNKIT_STEP(gru_n_fwd<T>, B, H, false, g, tmp, H, b_ih, b_hh, valid, g, h, sink, yt, ldy);
    }
  }
  if (h_n) std::memcpy(h_n, h, sizeof(T) * B * H);
  if (lstm && c_n) std::memcpy(c_n, c, sizeof(T) * B * H);
  (void)gru;
}

template <typename T>
void rnn_backward(const RnnShape& s, const T* x, const std::int32_t* lengths, const T* w_ih,
                  const T* w_hh, const T* reserve, const T* dy, const T* dh_n, const T* dc_n,
                  T* dx, T* dh0, T* dc0, T* dw_ih, T* dw_hh, T* db_ih, T* db_hh) {
  const index_t TT = s.T, B = s.B, I = s.I, H = s.H, GH = s.G() * s.H, TB = s.T * s.B;
  const bool lstm = s.cell == CellType::LSTM, gru = s.cell == CellType::GRU;
  const bool reset_after = s.gru == GruVariant::PyTorch;
  const index_t lddy = dy ? s.y_stride() : H;  // the zeros stand-in is a plain [B,H] block
  Reserve<T> rs(s, const_cast<T*>(reserve));

  // dgx: [T,B,GH] input-side pre-activation gradients; dgh: recurrent side (GRU only differs).
  std::size_t bytes = Carver::bytes<T>(TB * GH) * (gru ? 2 : 1) + 5 * Carver::bytes<T>(B * H) +
                      Carver::bytes<std::uint8_t>(B);
  Carver cv(g_backward_scratch.get(bytes));
  T* dgx = cv.take<T>(TB * GH);
  T* dgh = gru ? cv.take<T>(TB * GH) : dgx;
  T* dh = cv.take<T>(B * H);
  T* dnext = cv.take<T>(B * H);
  T* dc = cv.take<T>(B * H);
  T* drh = cv.take<T>(B * H);
  T* zeros = cv.take<T>(B * H);  // stands in for an absent dy (branch-free step kernels)
  std::fill(zeros, zeros + B * H, T(0));
  std::uint8_t* valid = cv.take<std::uint8_t>(B);

  if (dh_n) std::memcpy(dh, dh_n, sizeof(T) * B * H); else std::fill(dh, dh + B * H, T(0));
  if (lstm) { if (dc_n) std::memcpy(dc, dc_n, sizeof(T) * B * H); else std::fill(dc, dc + B * H, T(0)); }

  for (index_t step = TT - 1; step >= 0; --step) {
    const index_t t = s.reverse ? TT - 1 - step : step;
    fill_valid(s, lengths, t, valid);
    const T* g = rs.gates + t * B * GH;
    const T* hp = rs.hprev + t * B * H;
    const T* dyt = dy ? dy + t * B * lddy : zeros;
    T* gx = dgx + t * B * GH;
    T* gh = dgh + t * B * GH;
    if (s.cell == CellType::Elman) {
      RNNKIT_STEP(elman_bwd<T>, B, H, s.act, g, dh, dyt, lddy, valid, gx, dnext);
      gemm<T>(false, false, B, H, GH, T(1), gh, GH, w_hh, H, T(1), dnext, H);
    } else if (lstm) {
      RNNKIT_STEP(lstm_bwd<T>, B, H, g, rs.cprev + t * B * H, rs.cnew + t * B * H, dh, dyt, lddy,
                  valid, dc, gx, dnext);
      gemm<T>(false, false, B, H, GH, T(1), gh, GH, w_hh, H, T(1), dnext, H);
    } else if (reset_after) {
      RNNKIT_STEP(gru_bwd<T>, B, H, true, g, rs.extra + t * B * H, hp, dh, dyt, lddy, valid, gx, gh,
                  dnext);
      gemm<T>(false, false, B, H, GH, T(1), gh, GH, w_hh, H, T(1), dnext, H);
    } else {
      RNNKIT_STEP(gru_bwd<T>, B, H, false, g, zeros, hp, dh, dyt, lddy, valid, gx, gh, dnext);
      // d(r h) = dpn W_hn, then the r gate and the r*dh path to h_prev.
      gemm<T>(false, false, B, H, H, T(1), gh + 2 * H, GH, w_hh + 2 * H * H, H, T(0), drh, H);
      RNNKIT_STEP(gru_reset_before_bwd<T>, B, H, g, hp, drh, valid, gx, gh, dnext);
      gemm<T>(false, false, B, H, 2 * H, T(1), gh, GH, w_hh, H, T(1), dnext, H);
    }
    std::swap(dh, dnext);
  }
  if (dh0) std::memcpy(dh0, dh, sizeof(T) * B * H);
  if (lstm && dc0) std::memcpy(dc0, dc, sizeof(T) * B * H);
  if (TB == 0) return;

  // Weight gradients as large GEMMs over all timesteps.
  gemm<T>(true, false, GH, I, TB, T(1), dgx, GH, x, I, T(1), dw_ih, I);
  if (gru && !reset_after) {
    gemm<T>(true, false, 2 * H, H, TB, T(1), dgh, GH, rs.hprev, H, T(1), dw_hh, H);
    gemm<T>(true, false, H, H, TB, T(1), dgh + 2 * H, GH, rs.extra, H, T(1), dw_hh + 2 * H * H, H);
  } else {
    gemm<T>(true, false, GH, H, TB, T(1), dgh, GH, rs.hprev, H, T(1), dw_hh, H);
  }
  if (db_ih) add_colsum(TB, GH, dgx, db_ih);
  if (db_hh) add_colsum(TB, GH, dgh, db_hh);
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
