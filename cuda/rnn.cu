#include "rnn.h"

#include "../native/kernels/cell_math.h"
#include "runtime.h"
#include "workspace.h"

namespace rnnkit {
namespace cuda {

namespace cm = cellmath;

namespace {

// Per-element forward steps: thread (b, j) owns hidden unit j of sequence b. A row past its
// sequence's length (valid == false) carries its state and writes y = 0, as on the CPU.
RNNKIT_HD bool valid_at(const std::int32_t* lengths, index_t b, index_t t) { return !lengths || t < lengths[b]; }
template <typename T>
RNNKIT_HD T bias(const T* b_ih, const T* b_hh, index_t k) {
  return (b_ih ? b_ih[k] : T(0)) + (b_hh ? b_hh[k] : T(0));
}

template <typename T>
void elman_fwd(const RnnShape& s, index_t t, const std::int32_t* lengths, const T* rec, const T* b_ih, const T* b_hh,
               T* gates, T* h, T* y, index_t ldy) {
  const index_t H = s.H;
  const Activation act = s.act;
  for_each(
      s.B * H,
      [=] RNNKIT_LAMBDA(index_t e) {
        const index_t b = e / H, j = e % H;
        if (!valid_at(lengths, b, t)) {
          y[b * ldy + j] = T(0);
          return;
        }
        T v = cm::activate(act, (gates[e] + rec[e]) + bias(b_ih, b_hh, j));
        gates[e] = v;
        h[e] = v;
        y[b * ldy + j] = v;
      },
      "elman_fwd");
}

template <typename T>
void lstm_fwd(const RnnShape& s, index_t t, const std::int32_t* lengths, const T* rec, const T* b_ih, const T* b_hh,
              T* gates, T* h, T* c, T* c_new, T* y, index_t ldy) {
  const index_t H = s.H, G = 4 * H;
  for_each(
      s.B * H,
      [=] RNNKIT_LAMBDA(index_t e) {
        const index_t b = e / H, j = e % H;
        if (!valid_at(lengths, b, t)) {
          c_new[e] = c[e];
          y[b * ldy + j] = T(0);
          return;
        }
        T* g = gates + b * G;
        const T* r = rec + b * G;
        const T i = cm::sigmoid((g[j] + r[j]) + bias(b_ih, b_hh, j));
        const T f = cm::sigmoid((g[H + j] + r[H + j]) + bias(b_ih, b_hh, H + j));
        const T gg = cm::tanh_((g[2 * H + j] + r[2 * H + j]) + bias(b_ih, b_hh, 2 * H + j));
        const T o = cm::sigmoid((g[3 * H + j] + r[3 * H + j]) + bias(b_ih, b_hh, 3 * H + j));
        g[j] = i;
        g[H + j] = f;
        g[2 * H + j] = gg;
        g[3 * H + j] = o;
        const T cn = cm::lstm_cell_state(i, f, gg, c[e]);
        c[e] = cn;
        c_new[e] = cn;
        const T hv = cm::tanh_(cn) * o;
        y[b * ldy + j] = hv;
        h[e] = hv;
      },
      "lstm_fwd");
}

// GRU phase 1: r and z from the input projection and rec (row stride ldr); rh = r*h.
template <typename T>
void gru_rz_fwd(const RnnShape& s, const T* rec, index_t ldr, const T* b_ih, const T* b_hh, const T* h, T* gates,
                T* rh) {
  const index_t H = s.H, G = 3 * H;
  for_each(
      s.B * H,
      [=] RNNKIT_LAMBDA(index_t e) {
        const index_t b = e / H, j = e % H;
        T* g = gates + b * G;
        const T* rr = rec + b * ldr;
        const T r = cm::sigmoid((g[j] + rr[j]) + bias(b_ih, b_hh, j));
        const T z = cm::sigmoid((g[H + j] + rr[H + j]) + bias(b_ih, b_hh, H + j));
        g[j] = r;
        g[H + j] = z;
        if (rh) rh[e] = r * h[e];
      },
      "gru_rz_fwd");
}

// GRU phase 2: n and the new state; recn: the n block's product (row stride ldn), no bias.
template <typename T>
void gru_n_fwd(const RnnShape& s, index_t t, const std::int32_t* lengths, bool reset_after, const T* recn, index_t ldn,
               const T* b_ih, const T* b_hh, T* gates, T* h, T* hn_store, T* y, index_t ldy) {
  const index_t H = s.H, G = 3 * H;
  for_each(
      s.B * H,
      [=] RNNKIT_LAMBDA(index_t e) {
        const index_t b = e / H, j = e % H;
        if (!valid_at(lengths, b, t)) {
          y[b * ldy + j] = T(0);
          return;
        }
        T* g = gates + b * G;
        const T hs = recn[b * ldn + j] + (b_hh ? b_hh[2 * H + j] : T(0));
        if (hn_store) hn_store[e] = hs;
        const T n = cm::tanh_(cm::gru_n_preact(g[2 * H + j] + (b_ih ? b_ih[2 * H + j] : T(0)), hs, g[j], reset_after));
        g[2 * H + j] = n;
        const T hv = cm::gru_state(g[H + j], n, h[e]);
        h[e] = hv;
        y[b * ldy + j] = hv;
      },
      "gru_n_fwd");
}

// Backward steps. dh: gradient from later steps; dy: this step's output gradient (row stride
// lddy) or null; dnext receives the direct part of the gradient w.r.t. the previous state.
template <typename T>
void elman_bwd(const RnnShape& s, index_t t, const std::int32_t* lengths, const T* gates, const T* dh, const T* dy,
               index_t lddy, T* dgx, T* dnext) {
  const index_t H = s.H;
  const Activation act = s.act;
  for_each(
      s.B * H,
      [=] RNNKIT_LAMBDA(index_t e) {
        const index_t b = e / H, j = e % H;
        if (!valid_at(lengths, b, t)) {
          dgx[e] = T(0);
          dnext[e] = dh[e];
          return;
        }
        const T d = dh[e] + (dy ? dy[b * lddy + j] : T(0));
        dgx[e] = d * cm::activate_grad(act, gates[e]);
        dnext[e] = T(0);
      },
      "elman_bwd");
}

template <typename T>
void lstm_bwd(const RnnShape& s, index_t t, const std::int32_t* lengths, const T* gates, const T* c_prev,
              const T* c_new, const T* dh, const T* dy, index_t lddy, T* dc, T* dgx, T* dnext) {
  const index_t H = s.H, G = 4 * H;
  for_each(
      s.B * H,
      [=] RNNKIT_LAMBDA(index_t e) {
        const index_t b = e / H, j = e % H;
        T* dg = dgx + b * G;
        if (!valid_at(lengths, b, t)) {
          dg[j] = dg[H + j] = dg[2 * H + j] = dg[3 * H + j] = T(0);
          dnext[e] = dh[e];
          return;
        }
        const T* g = gates + b * G;
        T di, df, dgg, dout, dcp;
        cm::lstm_backward(g[j], g[H + j], g[2 * H + j], g[3 * H + j], c_prev[e], cm::tanh_(c_new[e]),
                          dh[e] + (dy ? dy[b * lddy + j] : T(0)), dc[e], di, df, dgg, dout, dcp);
        dg[j] = di;
        dg[H + j] = df;
        dg[2 * H + j] = dgg;
        dg[3 * H + j] = dout;
        dc[e] = dcp;
        dnext[e] = T(0);
      },
      "lstm_bwd");
}

template <typename T>
void gru_bwd(const RnnShape& s, index_t t, const std::int32_t* lengths, bool reset_after, const T* gates, const T* hn,
             const T* h_prev, const T* dh, const T* dy, index_t lddy, T* dgx, T* dgh, T* dnext) {
  const index_t H = s.H, G = 3 * H;
  for_each(
      s.B * H,
      [=] RNNKIT_LAMBDA(index_t e) {
        const index_t b = e / H, j = e % H;
        T* gx = dgx + b * G;
        T* gh = dgh + b * G;
        if (!valid_at(lengths, b, t)) {
          gx[j] = gx[H + j] = gx[2 * H + j] = T(0);
          gh[j] = gh[H + j] = gh[2 * H + j] = T(0);
          dnext[e] = dh[e];
          return;
        }
        const T* g = gates + b * G;
        T dpr, dpz, dpn, dhn, direct;
        cm::gru_backward(g[j], g[H + j], g[2 * H + j], reset_after ? hn[e] : T(0), h_prev[e],
                         dh[e] + (dy ? dy[b * lddy + j] : T(0)), reset_after, dpr, dpz, dpn, dhn, direct);
        gx[j] = dpr;
        gx[H + j] = dpz;
        gx[2 * H + j] = dpn;
        gh[j] = dpr;
        gh[H + j] = dpz;
        gh[2 * H + j] = dhn;
        dnext[e] = direct;
      },
      "gru_bwd");
}

template <typename T>
void gru_reset_before_bwd(const RnnShape& s, index_t t, const std::int32_t* lengths, const T* gates, const T* h_prev,
                          const T* drh, T* dgx, T* dgh, T* dnext) {
  const index_t H = s.H, G = 3 * H;
  for_each(
      s.B * H,
      [=] RNNKIT_LAMBDA(index_t e) {
        const index_t b = e / H, j = e % H;
        if (!valid_at(lengths, b, t)) return;
        T dpr;
        T dn = dnext[e];
        cm::gru_backward_reset_before(gates[b * G + j], h_prev[e], drh[e], dpr, dn);
        dnext[e] = dn;
        dgx[b * G + j] = dpr;
        dgh[b * G + j] = dpr;
      },
      "gru_reset_before_bwd");
}

// out[c] += sum over rows of a[r, c] (a: [rows, cols]); one thread per column reads coalesced rows.
template <typename T>
void add_colsum(index_t rows, index_t cols, const T* a, T* out) {
  for_each(
      cols,
      [=] RNNKIT_LAMBDA(index_t c) {
        T acc = T(0);
        for (index_t r = 0; r < rows; ++r) acc += a[r * cols + c];
        out[c] += acc;
      },
      "add_colsum");
}

template <typename T>
void copy_or_zero(T* dst, const T* src, index_t n) {
  if (src) device_copy(dst, src, sizeof(T) * n);
  else device_zero(dst, sizeof(T) * n);
}

}  // namespace

// Elements of the reserve (as native/kernels/rnn.cpp lays it out): gates, hprev, the cell's aux blocks.
index_t reserve_size(const RnnShape& s) {
  const index_t tb = s.T * s.B;
  const int aux = s.cell == CellType::LSTM ? 2 : s.cell == CellType::GRU ? 1 : 0;
  return tb * s.G() * s.H + tb * s.H * (1 + aux);
}

template <typename T>
void rnn_forward(const RnnShape& s, const T* x, const T* h0, const T* c0, const std::int32_t* lengths, const T* w_ih,
                 const T* w_hh, const T* b_ih, const T* b_hh, T* y, T* h_n, T* c_n, T* reserve) {
  const index_t TT = s.T, B = s.B, I = s.I, H = s.H, GH = s.G() * s.H, TB = s.T * s.B;
  const index_t ldy = s.y_stride();
  const bool lstm = s.cell == CellType::LSTM, gru = s.cell == CellType::GRU;
  const bool keep = reserve != nullptr;
  Workspace ws(Workspace::Forward);
  T* rec = ws.take<T>(B * GH);
  T* h = ws.take<T>(B * H);
  T* c = ws.take<T>(B * H);
  T* tmp = ws.take<T>(B * H);
  if (!reserve) reserve = ws.take<T>(reserve_size(s));
  // Reserve layout (native/kernels/rnn.cpp): gates [T,B,GH], hprev [T,B,H], aux blocks [T,B,H].
  T* gates_all = reserve;
  T* hprev_all = gates_all + TB * GH;
  T* aux0_all = hprev_all + TB * H;
  T* aux1_all = aux0_all + TB * H;

  copy_or_zero(h, h0, B * H);
  if (lstm) copy_or_zero(c, c0, B * H);
  if (TT > 0) gemm<T>(false, true, TB, GH, I, T(1), x, I, w_ih, I, T(0), gates_all, GH);

  for (index_t step = 0; step < TT; ++step) {
    const index_t t = s.reverse ? TT - 1 - step : step;
    T* gates = gates_all + t * B * GH;
    T* yt = y + t * B * ldy;
    T* aux0 = aux0_all + t * B * H;
    if (keep) device_copy(hprev_all + t * B * H, h, sizeof(T) * B * H);
    if (s.cell == CellType::Elman) {
      gemm<T>(false, true, B, H, H, T(1), h, H, w_hh, H, T(0), rec, H);
      elman_fwd(s, t, lengths, rec, b_ih, b_hh, gates, h, yt, ldy);
    } else if (lstm) {
      if (keep) device_copy(aux0, c, sizeof(T) * B * H);
      gemm<T>(false, true, B, GH, H, T(1), h, H, w_hh, H, T(0), rec, GH);
      lstm_fwd(s, t, lengths, rec, b_ih, b_hh, gates, h, c, aux1_all + t * B * H, yt, ldy);
    } else if (gru && s.gru == GruVariant::PyTorch) {
      gemm<T>(false, true, B, GH, H, T(1), h, H, w_hh, H, T(0), rec, GH);
      gru_rz_fwd<T>(s, rec, GH, b_ih, b_hh, h, gates, nullptr);
      gru_n_fwd<T>(s, t, lengths, true, rec + 2 * H, GH, b_ih, b_hh, gates, h, aux0, yt, ldy);
    } else {
      gemm<T>(false, true, B, 2 * H, H, T(1), h, H, w_hh, H, T(0), rec, 2 * H);
      gru_rz_fwd<T>(s, rec, 2 * H, b_ih, b_hh, h, gates, aux0);
      gemm<T>(false, true, B, H, H, T(1), aux0, H, w_hh + 2 * H * H, H, T(0), tmp, H);
      gru_n_fwd<T>(s, t, lengths, false, tmp, H, b_ih, b_hh, gates, h, nullptr, yt, ldy);
    }
  }
  if (h_n) device_copy(h_n, h, sizeof(T) * B * H);
  if (lstm && c_n) device_copy(c_n, c, sizeof(T) * B * H);
}

template <typename T>
void rnn_backward(const RnnShape& s, const T* x, const std::int32_t* lengths, const T* w_ih, const T* w_hh,
                  const T* reserve, const T* dy, const T* dh_n, const T* dc_n, T* dx, T* dh0, T* dc0, T* dw_ih,
                  T* dw_hh, T* db_ih, T* db_hh) {
  const index_t TT = s.T, B = s.B, I = s.I, H = s.H, GH = s.G() * s.H, TB = s.T * s.B;
  const bool lstm = s.cell == CellType::LSTM, gru = s.cell == CellType::GRU;
  const bool split = gru;  // the GRU's input- and recurrent-side gate gradients differ
  const index_t lddy = s.y_stride();
  const T* gates_all = reserve;
  const T* hprev_all = gates_all + TB * GH;
  const T* aux0_all = hprev_all + TB * H;
  const T* aux1_all = aux0_all + TB * H;

  Workspace ws(Workspace::Backward);
  T* dgx = ws.take<T>(TB * GH);
  T* dgh = split ? ws.take<T>(TB * GH) : dgx;
  T* dh = ws.take<T>(B * H);
  T* dnext = ws.take<T>(B * H);
  T* dc = ws.take<T>(B * H);
  T* drh = ws.take<T>(B * H);
  copy_or_zero(dh, dh_n, B * H);
  if (lstm) copy_or_zero(dc, dc_n, B * H);

  for (index_t step = TT - 1; step >= 0; --step) {
    const index_t t = s.reverse ? TT - 1 - step : step;
    const T* gates = gates_all + t * B * GH;
    const T* hprev = hprev_all + t * B * H;
    const T* dyt = dy ? dy + t * B * lddy : nullptr;
    T* dgxt = dgx + t * B * GH;
    T* dght = dgh + t * B * GH;
    if (s.cell == CellType::Elman) {
      elman_bwd(s, t, lengths, gates, dh, dyt, lddy, dgxt, dnext);
      gemm<T>(false, false, B, H, H, T(1), dgxt, H, w_hh, H, T(1), dnext, H);
    } else if (lstm) {
      lstm_bwd(s, t, lengths, gates, aux0_all + t * B * H, aux1_all + t * B * H, dh, dyt, lddy, dc, dgxt, dnext);
      gemm<T>(false, false, B, H, GH, T(1), dgxt, GH, w_hh, H, T(1), dnext, H);
    } else if (s.gru == GruVariant::PyTorch) {
      gru_bwd(s, t, lengths, true, gates, aux0_all + t * B * H, hprev, dh, dyt, lddy, dgxt, dght, dnext);
      gemm<T>(false, false, B, H, GH, T(1), dght, GH, w_hh, H, T(1), dnext, H);
    } else {
      gru_bwd<T>(s, t, lengths, false, gates, nullptr, hprev, dh, dyt, lddy, dgxt, dght, dnext);
      gemm<T>(false, false, B, H, H, T(1), dght + 2 * H, GH, w_hh + 2 * H * H, H, T(0), drh, H);
      gru_reset_before_bwd(s, t, lengths, gates, hprev, drh, dgxt, dght, dnext);
      gemm<T>(false, false, B, H, 2 * H, T(1), dght, GH, w_hh, H, T(1), dnext, H);
    }
    T* sw = dh;
    dh = dnext;
    dnext = sw;
  }
  if (dh0) device_copy(dh0, dh, sizeof(T) * B * H);
  if (lstm && dc0) device_copy(dc0, dc, sizeof(T) * B * H);
  if (TB == 0) return;

  gemm<T>(true, false, GH, I, TB, T(1), dgx, GH, x, I, T(1), dw_ih, I);
  if (gru && s.gru == GruVariant::Original) {
    gemm<T>(true, false, 2 * H, H, TB, T(1), dgh, GH, hprev_all, H, T(1), dw_hh, H);
    gemm<T>(true, false, H, H, TB, T(1), dgh + 2 * H, GH, aux0_all, H, T(1), dw_hh + 2 * H * H, H);
  } else {
    gemm<T>(true, false, GH, H, TB, T(1), dgh, GH, hprev_all, H, T(1), dw_hh, H);
  }
  if (db_ih) add_colsum(TB, GH, dgx, db_ih);
  if (db_hh) add_colsum(TB, GH, dgh, db_hh);
  if (dx) gemm<T>(false, false, TB, I, GH, T(1), dgx, GH, w_ih, I, T(1), dx, I);
}

#define RNNKIT_CUDA_RNN(T)                                                                                         \
  template void rnn_forward<T>(const RnnShape&, const T*, const T*, const T*, const std::int32_t*, const T*,       \
                               const T*, const T*, const T*, T*, T*, T*, T*);                                    \
  template void rnn_backward<T>(const RnnShape&, const T*, const std::int32_t*, const T*, const T*, const T*,      \
                                const T*, const T*, const T*, T*, T*, T*, T*, T*, T*, T*);
RNNKIT_CUDA_RNN(float)
RNNKIT_CUDA_RNN(double)

}  // namespace cuda
}  // namespace rnnkit
