#include "rtrl.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "cell_math.h"
#include "gemm.h"

namespace rnnkit {

template <typename T>
void rnn_step_jacobians(const RnnShape& s, const T* x, const T* h0, const T* c0, const T* w_ih,
                        const T* w_hh, const T* b_ih, const T* b_hh, T* h1, T* c1, T* jss,
                        T* jsx, T* jth) {
  const index_t H = s.H, I = s.I, GH = s.G() * s.H;
  const bool lstm = s.cell == CellType::LSTM;
  const index_t S = lstm ? 2 * H : H;
  const index_t P = GH * (I + H) + (b_ih ? 2 * GH : 0);
  std::vector<T> reserve(static_cast<std::size_t>(rnn_reserve_size(s))), y(H), dh(H), dc(H), dh0(H), dc0(H);
  rnn_forward<T>(s, x, h0, lstm ? c0 : nullptr, nullptr, w_ih, w_hh, b_ih, b_hh, y.data(), h1,
                 lstm ? c1 : nullptr, reserve.data());
  std::fill(jsx, jsx + S * I, T(0));
  std::fill(jth, jth + S * P, T(0));
  for (index_t k = 0; k < S; ++k) {
    std::fill(dh.begin(), dh.end(), T(0));
    std::fill(dc.begin(), dc.end(), T(0));
    if (k < H) dh[k] = T(1); else dc[k - H] = T(1);
    T* row = jth + k * P;
    rnn_backward<T>(s, x, nullptr, w_ih, w_hh, reserve.data(), nullptr, dh.data(), lstm ? dc.data() : nullptr,
                    jsx + k * I, dh0.data(), lstm ? dc0.data() : nullptr, row, row + GH * I,
                    b_ih ? row + GH * (I + H) : nullptr, b_ih ? row + GH * (I + H) + GH : nullptr);
    std::memcpy(jss + k * S, dh0.data(), sizeof(T) * H);
    if (lstm) std::memcpy(jss + k * S + H, dc0.data(), sizeof(T) * H);
  }
}

template <typename T>
void rnn_step_jvp(const RnnShape& s, const T* x, const T* h0, const T* c0, const T* w_ih,
                  const T* w_hh, const T* b_ih, const T* b_hh, const T* u, const T* vh,
                  const T* vc, T* h1, T* c1, T* th1, T* tc1) {
  const index_t H = s.H, I = s.I, GH = s.G() * s.H;
  const bool lstm = s.cell == CellType::LSTM;
  std::vector<T> reserve(static_cast<std::size_t>(rnn_reserve_size(s))), y(H), tx(GH, T(0)), th(GH, T(0));
  rnn_forward<T>(s, x, h0, lstm ? c0 : nullptr, nullptr, w_ih, w_hh, b_ih, b_hh, y.data(), h1,
                 lstm ? c1 : nullptr, reserve.data());
  // Reserve layout for T = B = 1: gates [GH], hprev [H], then LSTM cprev [H], cnew [H] or GRU extra [H].
  const T* g = reserve.data();
  const T* extra = g + GH + H;
  if (u) gemm<T>(false, true, 1, GH, I, T(1), u, I, w_ih, I, T(0), tx.data(), GH);
  const bool gru_before = s.cell == CellType::GRU && s.gru == GruVariant::Original;
  gemm<T>(false, true, 1, gru_before ? 2 * H : GH, H, T(1), vh, H, w_hh, H, T(0), th.data(), GH);
  using namespace cellmath;
  if (s.cell == CellType::Elman) {
    for (index_t j = 0; j < H; ++j) th1[j] = activate_grad(s.act, h1[j]) * (tx[j] + th[j]);
  } else if (lstm) {
    const T* cp = extra;
    const T* cn = extra + H;
    for (index_t j = 0; j < H; ++j) {
      const T i = g[j], f = g[H + j], gg = g[2 * H + j], o = g[3 * H + j];
      const T di = i * (T(1) - i) * (tx[j] + th[j]);
      const T df = f * (T(1) - f) * (tx[H + j] + th[H + j]);
      const T dg = (T(1) - gg * gg) * (tx[2 * H + j] + th[2 * H + j]);
      const T dout = o * (T(1) - o) * (tx[3 * H + j] + th[3 * H + j]);
      const T dc = df * cp[j] + f * vc[j] + di * gg + i * dg;
      const T tcn = tanh_(cn[j]);
      tc1[j] = dc;
      th1[j] = dout * tcn + o * (T(1) - tcn * tcn) * dc;
    }
  } else {
    std::vector<T> dr(H), dz(H), rh(H, T(0)), tn(H, T(0));
    for (index_t j = 0; j < H; ++j) {
      const T r = g[j], z = g[H + j];
      dr[j] = r * (T(1) - r) * (tx[j] + th[j]);
      dz[j] = z * (T(1) - z) * (tx[H + j] + th[H + j]);
    }
    if (gru_before) {  // n = tanh(x_n + W_hn (r h) + b_hn): tangent of r h through W_hn
      for (index_t j = 0; j < H; ++j) rh[j] = dr[j] * h0[j] + g[j] * vh[j];
      gemm<T>(false, true, 1, H, H, T(1), rh.data(), H, w_hh + 2 * H * H, H, T(0), tn.data(), H);
    }
    for (index_t j = 0; j < H; ++j) {
      const T r = g[j], z = g[H + j], n = g[2 * H + j];
      const T pre = gru_before ? tx[2 * H + j] + tn[j] : tx[2 * H + j] + dr[j] * extra[j] + r * th[2 * H + j];
      const T dn = (T(1) - n * n) * pre;
      th1[j] = -dz[j] * n + (T(1) - z) * dn + dz[j] * h0[j] + z * vh[j];
    }
  }
}

#define RNNKIT_INSTANTIATE_RTRL(T)                                                              \
  template void rnn_step_jacobians<T>(const RnnShape&, const T*, const T*, const T*, const T*, \
                                      const T*, const T*, const T*, T*, T*, T*, T*, T*); \
  template void rnn_step_jvp<T>(const RnnShape&, const T*, const T*, const T*, const T*,       \
                                const T*, const T*, const T*, const T*, const T*, const T*, T*, \
                                T*, T*, T*);
RNNKIT_INSTANTIATE_RTRL(float)
RNNKIT_INSTANTIATE_RTRL(double)

}  // namespace rnnkit
