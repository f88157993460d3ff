#include "rtrl.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "gemm.h"

namespace rnnkit {

template <typename T>
void rnn_step_jacobians(const RnnShape& s, const T* x, const T* h0, const T* c0, const T* w_ih,
                        const T* w_hh, const T* b_ih, const T* b_hh, T* h1, T* c1, T* jss,
                        T* jsx, T* jth) {
  const index_t H = s.H, I = s.I, GH = s.G() * s.H;
  const bool lstm = state_count(s.cell) > 1;  // a second state vector c
  const index_t S = state_count(s.cell) * H;
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
  const bool lstm = state_count(s.cell) > 1;  // a second state vector c
  std::vector<T> reserve(static_cast<std::size_t>(rnn_reserve_size(s))), y(H), tx(GH, T(0));
  rnn_forward<T>(s, x, h0, lstm ? c0 : nullptr, nullptr, w_ih, w_hh, b_ih, b_hh, y.data(), h1,
                 lstm ? c1 : nullptr, reserve.data());
  if (u) gemm<T>(false, true, 1, GH, I, T(1), u, I, w_ih, I, T(0), tx.data(), GH);
  // Reserve layout for T = B = 1: gates [GH], hprev [H], then the cell's blocks of [H].
  JvpStep<T> a{};
  a.s = &s;
  a.w_hh = w_hh;
  a.g = reserve.data();
  for (int k = 0; k < cell_info(s.cell).reserve_blocks; ++k) a.aux[k] = reserve.data() + GH + H * (1 + k);
  a.h0 = h0;
  a.h1 = h1;
  a.tx = tx.data();
  a.vh = vh;
  a.vc = vc;
  a.th1 = th1;
  a.tc1 = tc1;
  cell_steps<T>(s.cell).jvp(a);
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
