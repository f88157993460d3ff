// Included by rnn_steps_{avx2,generic}.cpp with RNNKIT_SIMD_NS defined. Inner loops run over
// the hidden units j with no branches on data so the compiler vectorizes them.
#include <cstring>
#include <vector>

#include "cell_math.h"
#include "cell_table.h"
#include "rnn_steps.h"
#include "threads.h"

namespace rnnkit {
namespace steps {
namespace RNNKIT_SIMD_NS {

namespace {
// Rows are split over the pool when a step has enough element-wise work to pay for a join.
template <typename F>
void for_rows(index_t B, index_t width, F&& body) {
  long grain = static_cast<long>(4096 / (width > 0 ? width : 1)) + 1;
  parallel_for(static_cast<long>(B), grain, [&](long b0, long b1) {
    for (long b = b0; b < b1; ++b) body(static_cast<index_t>(b));
  });
}

// Flat loops the compiler vectorizes (the float activations are branch-free polynomials).
template <typename T>
void sum3(index_t n, T* out, const T* a, const T* b, const T* c) {  // out may alias a
  for (index_t k = 0; k < n; ++k) out[k] = a[k] + b[k] + c[k];
}
template <typename T>
void sigmoid_inplace(index_t n, T* __restrict p) {
  for (index_t k = 0; k < n; ++k) p[k] = cellmath::sigmoid(p[k]);
}
template <typename T>
void tanh_inplace(index_t n, T* __restrict p) {
  for (index_t k = 0; k < n; ++k) p[k] = cellmath::tanh_(p[k]);
}
template <typename T>
void tanh_copy(index_t n, const T* __restrict in, T* __restrict out) {
  for (index_t k = 0; k < n; ++k) out[k] = cellmath::tanh_(in[k]);
}
template <typename T>
void activate_inplace(Activation act, index_t n, T* __restrict p) {
  if (act == Activation::Tanh) tanh_inplace(n, p);
  else if (act == Activation::Sigmoid) sigmoid_inplace(n, p);
  else for (index_t k = 0; k < n; ++k) p[k] = p[k] > T(0) ? p[k] : T(0);
}
}  // namespace

// b_ih + b_hh once per call, so each step adds a single bias row.
#define RNNKIT_BIAS_SUM(GH)                                            \
  std::vector<T> bsum_(static_cast<std::size_t>(GH));                  \
  for (index_t k = 0; k < (GH); ++k) bsum_[k] = b_ih[k] + b_hh[k];      \
  const T* bsum = bsum_.data();

template <typename T>
void elman_fwd(index_t B, index_t H, Activation act, const T* xg, const T* rec, const T* b_ih,
               const T* b_hh, const std::uint8_t* valid, T* gates, T* h, T* y, index_t ldy) {
  RNNKIT_BIAS_SUM(H)
  for_rows(B, H, [&](index_t b) {
    T* gr = gates + b * H;
    T* hr = h + b * H;
    T* yr = y + b * ldy;
    if (!valid[b]) {
      for (index_t j = 0; j < H; ++j) yr[j] = T(0);
      return;
    }
    sum3(H, gr, xg + b * H, rec + b * H, bsum);
    activate_inplace(act, H, gr);
    std::memcpy(hr, gr, sizeof(T) * H);
    std::memcpy(yr, gr, sizeof(T) * H);
  });
}

template <typename T>
void lstm_fwd(index_t B, index_t H, const T* xg, const T* rec, const T* b_ih, const T* b_hh,
              const std::uint8_t* valid, T* gates, T* h, T* c, T* c_new, T* y, index_t ldy) {
  const index_t G = gate_count(CellType::LSTM) * H;
  RNNKIT_BIAS_SUM(G)
  for_rows(B, G, [&](index_t b) {
    T* gr = gates + b * G;
    T* hr = h + b * H;
    T* cr = c + b * H;
    T* yr = y + b * ldy;
    T* cn = c_new + b * H;
    if (!valid[b]) {  // padding: state carried, gates unused by backward
      std::memcpy(cn, cr, sizeof(T) * H);
      for (index_t j = 0; j < H; ++j) yr[j] = T(0);
      return;
    }
    sum3(G, gr, xg + b * G, rec + b * G, bsum);
    sigmoid_inplace(2 * H, gr);      // i, f
    tanh_inplace(H, gr + 2 * H);     // g
    sigmoid_inplace(H, gr + 3 * H);  // o
    const T *gi = gr, *gf = gr + H, *gg = gr + 2 * H, *go = gr + 3 * H;
    for (index_t j = 0; j < H; ++j) cr[j] = cellmath::lstm_cell_state(gi[j], gf[j], gg[j], cr[j]);
    std::memcpy(cn, cr, sizeof(T) * H);
    tanh_copy(H, cr, yr);
    for (index_t j = 0; j < H; ++j) yr[j] *= go[j];
    std::memcpy(hr, yr, sizeof(T) * H);
  });
}

template <typename T>
void gru_rz_fwd(index_t B, index_t H, const T* xg, const T* rec, index_t ldr, const T* b_ih,
                const T* b_hh, const T* h, T* gates, T* rh) {
  const index_t G = gate_count(CellType::GRU) * H;
  RNNKIT_BIAS_SUM(2 * H)
  for_rows(B, 2 * H, [&](index_t b) {
    T* gr = gates + b * G;
    const T* hr = h + b * H;
    sum3(2 * H, gr, xg + b * G, rec + b * ldr, bsum);
    sigmoid_inplace(2 * H, gr);
    T* rhr = rh + b * H;
    for (index_t j = 0; j < H; ++j) rhr[j] = gr[j] * hr[j];
  });
}

template <typename T>
void gru_n_fwd(index_t B, index_t H, bool reset_after, const T* xg, const T* recn, index_t ldn,
               const T* b_ih, const T* b_hh, const std::uint8_t* valid, T* gates, T* h,
               T* hn_store, T* y, index_t ldy) {
  const index_t G = gate_count(CellType::GRU) * H;
  const T* bin = b_ih + 2 * H;
  const T* bhn = b_hh + 2 * H;
  for_rows(B, H, [&](index_t b) {
    const T* xr = xg + b * G + 2 * H;
    const T* nr = recn + b * ldn;
    T* gr = gates + b * G;
    T* hr = h + b * H;
    T* yr = y + b * ldy;
    T* hs = hn_store + b * H;
    if (!valid[b]) {
      for (index_t j = 0; j < H; ++j) yr[j] = T(0);
      return;
    }
    T* n = gr + 2 * H;
    for (index_t j = 0; j < H; ++j) hs[j] = nr[j] + bhn[j];
    for (index_t j = 0; j < H; ++j) n[j] = cellmath::gru_n_preact(xr[j] + bin[j], hs[j], gr[j], reset_after);
    tanh_inplace(H, n);
    for (index_t j = 0; j < H; ++j) hr[j] = cellmath::gru_state(gr[H + j], n[j], hr[j]);
    std::memcpy(yr, hr, sizeof(T) * H);
  });
}

// The fused-step slices: per row, the operations of elman_fwd / lstm_fwd / gru_rz_fwd +
// gru_n_fwd on the slice's elements, in the same order.
template <typename T>
void elman_fwd_units(index_t B, index_t H, index_t u0, index_t u1, Activation act, const T* rec,
                     const T* bsum, const std::uint8_t* valid, T* gates, const T* h_in, T* h_out,
                     T* h_keep, T* y, index_t ldy) {
  const index_t n = u1 - u0;
  const std::size_t bytes = sizeof(T) * static_cast<std::size_t>(n);
  for (index_t b = 0; b < B; ++b) {
    const T* hi = h_in + b * H + u0;
    T* ho = h_out + b * H + u0;
    T* yr = y + b * ldy + u0;
    if (h_keep) std::memcpy(h_keep + b * H + u0, hi, bytes);
    if (!valid[b]) {
      std::memcpy(ho, hi, bytes);
      for (index_t j = 0; j < n; ++j) yr[j] = T(0);
      continue;
    }
    T* gr = gates + b * H + u0;
    sum3(n, gr, gr, rec + b * H + u0, bsum + u0);
    activate_inplace(act, n, gr);
    std::memcpy(ho, gr, bytes);
    std::memcpy(yr, gr, bytes);
  }
}

template <typename T>
void lstm_fwd_units(index_t B, index_t H, index_t u0, index_t u1, const T* rec, const T* bsum,
                    const std::uint8_t* valid, T* gates, const T* h_in, T* h_out, T* h_keep, T* c,
                    T* c_keep, T* c_new, T* y, index_t ldy) {
  const index_t G = gate_count(CellType::LSTM) * H, n = u1 - u0;
  const std::size_t bytes = sizeof(T) * static_cast<std::size_t>(n);
  for (index_t b = 0; b < B; ++b) {
    const T* hi = h_in + b * H + u0;
    T* ho = h_out + b * H + u0;
    T* cr = c + b * H + u0;
    T* cn = c_new + b * H + u0;
    T* yr = y + b * ldy + u0;
    if (h_keep) std::memcpy(h_keep + b * H + u0, hi, bytes);
    if (c_keep) std::memcpy(c_keep + b * H + u0, cr, bytes);
    if (!valid[b]) {
      std::memcpy(ho, hi, bytes);
      std::memcpy(cn, cr, bytes);
      for (index_t j = 0; j < n; ++j) yr[j] = T(0);
      continue;
    }
    T* gr = gates + b * G + u0;
    const T* rr = rec + b * G + u0;
    for (int k = 0; k < 4; ++k) sum3(n, gr + k * H, gr + k * H, rr + k * H, bsum + u0 + k * H);
    sigmoid_inplace(n, gr);          // i
    sigmoid_inplace(n, gr + H);      // f
    tanh_inplace(n, gr + 2 * H);     // g
    sigmoid_inplace(n, gr + 3 * H);  // o
    const T *gi = gr, *gf = gr + H, *gg = gr + 2 * H, *go = gr + 3 * H;
    for (index_t j = 0; j < n; ++j) cr[j] = cellmath::lstm_cell_state(gi[j], gf[j], gg[j], cr[j]);
    std::memcpy(cn, cr, bytes);
    tanh_copy(n, cr, yr);
    for (index_t j = 0; j < n; ++j) yr[j] *= go[j];
    std::memcpy(ho, yr, bytes);
  }
}

template <typename T>
void gru_fwd_units(index_t B, index_t H, index_t u0, index_t u1, const T* rec, const T* bsum,
                   const T* b_ih, const T* b_hh, const std::uint8_t* valid, T* gates, const T* h_in,
                   T* h_out, T* h_keep, T* hn_store, T* y, index_t ldy) {
  const index_t G = gate_count(CellType::GRU) * H, n = u1 - u0;
  const std::size_t bytes = sizeof(T) * static_cast<std::size_t>(n);
  const T* bin = b_ih + 2 * H + u0;
  const T* bhn = b_hh + 2 * H + u0;
  for (index_t b = 0; b < B; ++b) {
    const T* hi = h_in + b * H + u0;
    T* ho = h_out + b * H + u0;
    T* yr = y + b * ldy + u0;
    T* gr = gates + b * G + u0;
    const T* rr = rec + b * G + u0;
    if (h_keep) std::memcpy(h_keep + b * H + u0, hi, bytes);
    // r and z for every row, as gru_rz_fwd computes them
    sum3(n, gr, gr, rr, bsum + u0);
    sum3(n, gr + H, gr + H, rr + H, bsum + H + u0);
    sigmoid_inplace(n, gr);
    sigmoid_inplace(n, gr + H);
    if (!valid[b]) {
      std::memcpy(ho, hi, bytes);
      for (index_t j = 0; j < n; ++j) yr[j] = T(0);
      continue;
    }
    T* hs = hn_store + b * H + u0;
    const T* nr = rr + 2 * H;
    T* nn = gr + 2 * H;
    for (index_t j = 0; j < n; ++j) hs[j] = nr[j] + bhn[j];
    for (index_t j = 0; j < n; ++j) nn[j] = cellmath::gru_n_preact(nn[j] + bin[j], hs[j], gr[j], true);
    tanh_inplace(n, nn);
    for (index_t j = 0; j < n; ++j) ho[j] = cellmath::gru_state(gr[H + j], nn[j], hi[j]);
    std::memcpy(yr, ho, bytes);
  }
}

template <Activation act, typename T>
void elman_bwd_row(index_t H, const T* __restrict gr, const T* __restrict dhr,
                   const T* __restrict dyr, T* __restrict dg, T* __restrict dn) {
  for (index_t j = 0; j < H; ++j) {
    dg[j] = (dhr[j] + dyr[j]) * cellmath::activate_grad(act, gr[j]);
    dn[j] = T(0);
  }
}

template <typename T>
void elman_bwd(index_t B, index_t H, Activation act, const T* gates, const T* dh, const T* dy,
               index_t lddy, const std::uint8_t* valid, T* dgx, T* dnext) {
  for_rows(B, H, [&](index_t b) {
    const T* dhr = dh + b * H;
    T* dg = dgx + b * H;
    T* dn = dnext + b * H;
    if (!valid[b]) {
      for (index_t j = 0; j < H; ++j) { dg[j] = T(0); dn[j] = dhr[j]; }
      return;
    }
    // The activation is one of three, chosen per call: a loop per kind keeps each branch-free.
    if (act == Activation::Tanh) elman_bwd_row<Activation::Tanh>(H, gates + b * H, dhr, dy + b * lddy, dg, dn);
    else if (act == Activation::Sigmoid) elman_bwd_row<Activation::Sigmoid>(H, gates + b * H, dhr, dy + b * lddy, dg, dn);
    else elman_bwd_row<Activation::Relu>(H, gates + b * H, dhr, dy + b * lddy, dg, dn);
  });
}

// One row of lstm_bwd. Every pointer is a distinct row (restrict), so the loop vectorizes:
// with the rows as plain pointers GCC kept it scalar, a third of a small layer's backward.
template <typename T>
void lstm_bwd_row(index_t H, const T* __restrict gr, const T* __restrict cp, const T* __restrict cn,
                  const T* __restrict dhr, const T* __restrict dyr, T* __restrict dcr, T* __restrict dg,
                  T* __restrict dn) {
  for (index_t j = 0; j < H; ++j) {
    T di, df, dgg, dout, dcp;
    cellmath::lstm_backward(gr[j], gr[H + j], gr[2 * H + j], gr[3 * H + j], cp[j], cellmath::tanh_(cn[j]),
                            dhr[j] + dyr[j], dcr[j], di, df, dgg, dout, dcp);
    dg[j] = di; dg[H + j] = df; dg[2 * H + j] = dgg; dg[3 * H + j] = dout;
    dcr[j] = dcp;
    dn[j] = T(0);
  }
}

template <typename T>
void lstm_bwd(index_t B, index_t H, const T* gates, const T* c_prev, const T* c_new, const T* dh,
              const T* dy, index_t lddy, const std::uint8_t* valid, T* dc, T* dgx, T* dnext) {
  const index_t G = gate_count(CellType::LSTM) * H;
  for_rows(B, G, [&](index_t b) {
    T* dg = dgx + b * G;
    T* dn = dnext + b * H;
    if (!valid[b]) {
      for (index_t j = 0; j < G; ++j) dg[j] = T(0);
      std::memcpy(dn, dh + b * H, sizeof(T) * H);
      return;
    }
    lstm_bwd_row(H, gates + b * G, c_prev + b * H, c_new + b * H, dh + b * H, dy + b * lddy, dc + b * H, dg, dn);
  });
}

// One row of gru_bwd, restrict for the same reason as lstm_bwd_row.
template <bool reset_after, typename T>
void gru_bwd_row(index_t H, const T* __restrict gr, const T* __restrict hn,
                 const T* __restrict hp, const T* __restrict dhr, const T* __restrict dyr, T* __restrict gx,
                 T* __restrict gh, T* __restrict dn) {
  for (index_t j = 0; j < H; ++j) {
    T d = dhr[j] + dyr[j];
    T dpr, dpz, dpn, dhn, direct;
    cellmath::gru_backward(gr[j], gr[H + j], gr[2 * H + j], hn[j], hp[j], d, reset_after, dpr, dpz, dpn, dhn,
                           direct);
    gx[j] = dpr; gx[H + j] = dpz; gx[2 * H + j] = dpn;
    gh[j] = dpr; gh[H + j] = dpz; gh[2 * H + j] = dhn;
    dn[j] = direct;
  }
}

template <typename T>
void gru_bwd(index_t B, index_t H, bool reset_after, const T* gates, const T* hn,
             const T* h_prev, const T* dh, const T* dy, index_t lddy, const std::uint8_t* valid,
             T* dgx, T* dgh, T* dnext) {
  const index_t G = gate_count(CellType::GRU) * H;
  for_rows(B, G, [&](index_t b) {
    const T* dhr = dh + b * H;
    T* gx = dgx + b * G;
    T* gh = dgh + b * G;
    T* dn = dnext + b * H;
    if (!valid[b]) {
      for (index_t j = 0; j < G; ++j) { gx[j] = T(0); gh[j] = T(0); }
      for (index_t j = 0; j < H; ++j) dn[j] = dhr[j];
      return;
    }
    if (reset_after) gru_bwd_row<true>(H, gates + b * G, hn + b * H, h_prev + b * H, dhr, dy + b * lddy, gx, gh, dn);
    else gru_bwd_row<false>(H, gates + b * G, hn + b * H, h_prev + b * H, dhr, dy + b * lddy, gx, gh, dn);
  });
}

template <typename T>
void gru_reset_before_bwd(index_t B, index_t H, const T* gates, const T* h_prev, const T* drh,
                          const std::uint8_t* valid, T* dgx, T* dgh, T* dnext) {
  const index_t G = gate_count(CellType::GRU) * H;
  for_rows(B, H, [&](index_t b) {
    if (!valid[b]) return;
    const T* gr = gates + b * G;
    const T* hp = h_prev + b * H;
    const T* d = drh + b * H;
    T* dn = dnext + b * H;
    for (index_t j = 0; j < H; ++j) {
      T dpr;
      cellmath::gru_backward_reset_before(gr[j], hp[j], d[j], dpr, dn[j]);
      dgx[b * G + j] = dpr;
      dgh[b * G + j] = dpr;
    }
  });
}

#define RNNKIT_INSTANTIATE_STEPS(T)                                                              \
  template void elman_fwd<T>(index_t, index_t, Activation, const T*, const T*, const T*,         \
                             const T*, const std::uint8_t*, T*, T*, T*, index_t);                \
  template void lstm_fwd<T>(index_t, index_t, const T*, const T*, const T*, const T*,            \
                            const std::uint8_t*, T*, T*, T*, T*, T*, index_t);                   \
  template void gru_rz_fwd<T>(index_t, index_t, const T*, const T*, index_t, const T*, const T*, \
                              const T*, T*, T*);                                                 \
  template void gru_n_fwd<T>(index_t, index_t, bool, const T*, const T*, index_t, const T*,      \
                             const T*, const std::uint8_t*, T*, T*, T*, T*, index_t);            \
  template void elman_bwd<T>(index_t, index_t, Activation, const T*, const T*, const T*,         \
                             index_t, const std::uint8_t*, T*, T*);                              \
  template void lstm_bwd<T>(index_t, index_t, const T*, const T*, const T*, const T*, const T*,  \
                            index_t, const std::uint8_t*, T*, T*, T*);                           \
  template void gru_bwd<T>(index_t, index_t, bool, const T*, const T*, const T*, const T*,       \
                           const T*, index_t, const std::uint8_t*, T*, T*, T*);                  \
  template void gru_reset_before_bwd<T>(index_t, index_t, const T*, const T*, const T*,          \
                                        const std::uint8_t*, T*, T*, T*);

RNNKIT_INSTANTIATE_STEPS(float)
RNNKIT_INSTANTIATE_STEPS(double)

// The fused step runs float32 only (rnn_fused.cpp).
template void elman_fwd_units<float>(index_t, index_t, index_t, index_t, Activation, const float*, const float*,
                                     const std::uint8_t*, float*, const float*, float*, float*, float*, index_t);
template void lstm_fwd_units<float>(index_t, index_t, index_t, index_t, const float*, const float*,
                                    const std::uint8_t*, float*, const float*, float*, float*, float*, float*,
                                    float*, float*, index_t);
template void gru_fwd_units<float>(index_t, index_t, index_t, index_t, const float*, const float*, const float*,
                                   const float*, const std::uint8_t*, float*, const float*, float*, float*, float*,
                                   float*, index_t);

}  // namespace RNNKIT_SIMD_NS
}  // namespace steps
}  // namespace rnnkit
