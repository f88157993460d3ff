// Included by rnn_steps_{avx2,generic}.cpp with RNNKIT_SIMD_NS defined. Inner loops run over
// the hidden units j with no branches on data so the compiler vectorizes them.
#include <cstring>

#include "cell_math.h"
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
template <typename T>
inline T bias(const T* p, index_t k) { return p ? p[k] : T(0); }
}  // namespace

template <typename T>
void elman_fwd(index_t B, index_t H, Activation act, const T* xg, const T* rec, const T* b_ih,
               const T* b_hh, const std::uint8_t* valid, T* gates, T* h, T* y) {
  for_rows(B, H, [&](index_t b) {
    const T* xr = xg + b * H;
    const T* rr = rec + b * H;
    T* gr = gates + b * H;
    T* hr = h + b * H;
    T* yr = y + b * H;
    if (!valid[b]) {
      for (index_t j = 0; j < H; ++j) { gr[j] = hr[j]; yr[j] = T(0); }
      return;
    }
    for (index_t j = 0; j < H; ++j) {
      T v = cellmath::activate(act, xr[j] + bias(b_ih, j) + rr[j] + bias(b_hh, j));
      gr[j] = v; hr[j] = v; yr[j] = v;
    }
  });
}

template <typename T>
void lstm_fwd(index_t B, index_t H, const T* xg, const T* rec, const T* b_ih, const T* b_hh,
              const std::uint8_t* valid, T* gates, T* h, T* c, T* c_new, T* y) {
  const index_t G = 4 * H;
  for_rows(B, G, [&](index_t b) {
    const T* xr = xg + b * G;
    const T* rr = rec + b * G;
    T* gr = gates + b * G;
    T* hr = h + b * H;
    T* cr = c + b * H;
    T* yr = y + b * H;
    T* cn = c_new ? c_new + b * H : nullptr;
    const bool v = valid[b] != 0;
    for (index_t j = 0; j < H; ++j) {
      T pi = xr[j] + rr[j] + bias(b_ih, j) + bias(b_hh, j);
      T pf = xr[H + j] + rr[H + j] + bias(b_ih, H + j) + bias(b_hh, H + j);
      T pg = xr[2 * H + j] + rr[2 * H + j] + bias(b_ih, 2 * H + j) + bias(b_hh, 2 * H + j);
      T po = xr[3 * H + j] + rr[3 * H + j] + bias(b_ih, 3 * H + j) + bias(b_hh, 3 * H + j);
      T i, f, g, o, cc, hh;
      cellmath::lstm_forward(pi, pf, pg, po, cr[j], i, f, g, o, cc, hh);
      gr[j] = i; gr[H + j] = f; gr[2 * H + j] = g; gr[3 * H + j] = o;
      cc = v ? cc : cr[j];
      hh = v ? hh : hr[j];
      cr[j] = cc;
      hr[j] = hh;
      yr[j] = v ? hh : T(0);
      if (cn) cn[j] = cc;
    }
  });
}

template <typename T>
void gru_rz_fwd(index_t B, index_t H, const T* xg, const T* rec, index_t ldr, const T* b_ih,
                const T* b_hh, const T* h, T* gates, T* rh) {
  const index_t G = 3 * H;
  for_rows(B, 2 * H, [&](index_t b) {
    const T* xr = xg + b * G;
    const T* rr = rec + b * ldr;
    T* gr = gates + b * G;
    const T* hr = h + b * H;
    for (index_t j = 0; j < H; ++j) {
      T r, z;
      cellmath::gru_gates_rz(xr[j] + rr[j] + bias(b_ih, j) + bias(b_hh, j),
                             xr[H + j] + rr[H + j] + bias(b_ih, H + j) + bias(b_hh, H + j), r, z);
      gr[j] = r;
      gr[H + j] = z;
      if (rh) rh[b * H + j] = r * hr[j];
    }
  });
}

template <typename T>
void gru_n_fwd(index_t B, index_t H, bool reset_after, const T* xg, const T* recn, index_t ldn,
               const T* b_ih, const T* b_hh, const std::uint8_t* valid, T* gates, T* h,
               T* hn_store, T* y) {
  const index_t G = 3 * H;
  for_rows(B, H, [&](index_t b) {
    const T* xr = xg + b * G + 2 * H;
    const T* nr = recn + b * ldn;
    T* gr = gates + b * G;
    T* hr = h + b * H;
    T* yr = y + b * H;
    const bool v = valid[b] != 0;
    for (index_t j = 0; j < H; ++j) {
      T hn = nr[j] + bias(b_hh, 2 * H + j);
      T n, hh;
      cellmath::gru_forward_n(xr[j] + bias(b_ih, 2 * H + j), hn, gr[j], gr[H + j], hr[j],
                              reset_after, n, hh);
      gr[2 * H + j] = n;
      if (hn_store) hn_store[b * H + j] = hn;
      hh = v ? hh : hr[j];
      hr[j] = hh;
      yr[j] = v ? hh : T(0);
    }
  });
}

template <typename T>
void elman_bwd(index_t B, index_t H, Activation act, const T* gates, const T* dh, const T* dy,
               const std::uint8_t* valid, T* dgx, T* dnext) {
  for_rows(B, H, [&](index_t b) {
    const T* gr = gates + b * H;
    const T* dhr = dh + b * H;
    const T* dyr = dy ? dy + b * H : nullptr;
    T* dg = dgx + b * H;
    T* dn = dnext + b * H;
    if (!valid[b]) {
      for (index_t j = 0; j < H; ++j) { dg[j] = T(0); dn[j] = dhr[j]; }
      return;
    }
    for (index_t j = 0; j < H; ++j) {
      T d = dhr[j] + (dyr ? dyr[j] : T(0));
      dg[j] = d * cellmath::activate_grad(act, gr[j]);
      dn[j] = T(0);
    }
  });
}

template <typename T>
void lstm_bwd(index_t B, index_t H, const T* gates, const T* c_prev, const T* c_new, const T* dh,
              const T* dy, const std::uint8_t* valid, T* dc, T* dgx, T* dnext) {
  const index_t G = 4 * H;
  for_rows(B, G, [&](index_t b) {
    const T* gr = gates + b * G;
    const T* cp = c_prev + b * H;
    const T* cn = c_new + b * H;
    const T* dhr = dh + b * H;
    const T* dyr = dy ? dy + b * H : nullptr;
    T* dcr = dc + b * H;
    T* dg = dgx + b * G;
    T* dn = dnext + b * H;
    if (!valid[b]) {
      for (index_t j = 0; j < G; ++j) dg[j] = T(0);
      for (index_t j = 0; j < H; ++j) dn[j] = dhr[j];
      return;
    }
    for (index_t j = 0; j < H; ++j) {
      T d = dhr[j] + (dyr ? dyr[j] : T(0));
      T di, df, dgg, dout, dcp;
      cellmath::lstm_backward(gr[j], gr[H + j], gr[2 * H + j], gr[3 * H + j], cp[j], cn[j], d,
                              dcr[j], di, df, dgg, dout, dcp);
      dg[j] = di; dg[H + j] = df; dg[2 * H + j] = dgg; dg[3 * H + j] = dout;
      dcr[j] = dcp;
      dn[j] = T(0);
    }
  });
}

template <typename T>
void gru_bwd(index_t B, index_t H, bool reset_after, const T* gates, const T* hn,
             const T* h_prev, const T* dh, const T* dy, const std::uint8_t* valid, T* dgx, T* dgh,
             T* dnext) {
  const index_t G = 3 * H;
  for_rows(B, G, [&](index_t b) {
    const T* gr = gates + b * G;
    const T* hp = h_prev + b * H;
    const T* dhr = dh + b * H;
    const T* dyr = dy ? dy + b * H : nullptr;
    T* gx = dgx + b * G;
    T* gh = dgh + b * G;
    T* dn = dnext + b * H;
    if (!valid[b]) {
      for (index_t j = 0; j < G; ++j) { gx[j] = T(0); gh[j] = T(0); }
      for (index_t j = 0; j < H; ++j) dn[j] = dhr[j];
      return;
    }
    for (index_t j = 0; j < H; ++j) {
      T d = dhr[j] + (dyr ? dyr[j] : T(0));
      T dpr, dpz, dpn, dhn, direct;
      cellmath::gru_backward(gr[j], gr[H + j], gr[2 * H + j], reset_after ? hn[b * H + j] : T(0),
                             hp[j], d, reset_after, dpr, dpz, dpn, dhn, direct);
      gx[j] = dpr; gx[H + j] = dpz; gx[2 * H + j] = dpn;
      gh[j] = dpr; gh[H + j] = dpz; gh[2 * H + j] = dhn;
      dn[j] = direct;
    }
  });
}

template <typename T>
void gru_reset_before_bwd(index_t B, index_t H, const T* gates, const T* h_prev, const T* drh,
                          const std::uint8_t* valid, T* dgx, T* dgh, T* dnext) {
  const index_t G = 3 * H;
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
                             const T*, const std::uint8_t*, T*, T*, T*);                         \
  template void lstm_fwd<T>(index_t, index_t, const T*, const T*, const T*, const T*,            \
                            const std::uint8_t*, T*, T*, T*, T*, T*);                            \
  template void gru_rz_fwd<T>(index_t, index_t, const T*, const T*, index_t, const T*, const T*, \
                              const T*, T*, T*);                                                 \
  template void gru_n_fwd<T>(index_t, index_t, bool, const T*, const T*, index_t, const T*,      \
                             const T*, const std::uint8_t*, T*, T*, T*, T*);                     \
  template void elman_bwd<T>(index_t, index_t, Activation, const T*, const T*, const T*,         \
                             const std::uint8_t*, T*, T*);                                       \
  template void lstm_bwd<T>(index_t, index_t, const T*, const T*, const T*, const T*, const T*,  \
                            const std::uint8_t*, T*, T*, T*);                                    \
  template void gru_bwd<T>(index_t, index_t, bool, const T*, const T*, const T*, const T*,       \
                           const T*, const std::uint8_t*, T*, T*, T*);                           \
  template void gru_reset_before_bwd<T>(index_t, index_t, const T*, const T*, const T*,          \
                                        const std::uint8_t*, T*, T*, T*);

RNNKIT_INSTANTIATE_STEPS(float)
RNNKIT_INSTANTIATE_STEPS(double)

}  // namespace RNNKIT_SIMD_NS
}  // namespace steps
}  // namespace rnnkit
