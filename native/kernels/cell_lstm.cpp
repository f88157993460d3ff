// LSTM, gates i, f, g, o; state h and c: c' = f⊙c + i⊙g, h' = o⊙tanh(c'). G = 4.
// Reserve blocks: aux[0] = c before the step, aux[1] = c after it.
#include "cell_impl.h"

namespace rnnkit {
namespace {

constexpr index_t kG = gate_count(CellType::LSTM);

template <typename T>
void forward(const ForwardStep<T>& a) {
  const RnnShape& s = *a.s;
  const index_t B = s.B, H = s.H, GH = kG * H;
  if (a.keep) std::memcpy(a.aux[0], a.c, sizeof(T) * B * H);
  gemm<T>(false, true, B, GH, H, T(1), a.h, H, a.w_hh, H, T(0), a.rec, GH);
  RNNKIT_STEP(lstm_fwd<T>, B, H, a.gates, a.rec, a.b_ih, a.b_hh, a.valid, a.gates, a.h, a.c, a.aux[1], a.y, a.ldy);
}

template <typename T>
void backward(const BackwardStep<T>& a) {
  const RnnShape& s = *a.s;
  const index_t B = s.B, H = s.H, GH = kG * H;
  RNNKIT_STEP(lstm_bwd<T>, B, H, a.gates, a.aux[0], a.aux[1], a.dh, a.dy, a.lddy, a.valid, a.dc, a.dgx, a.dnext);
  gemm<T>(false, false, B, H, GH, T(1), a.dgh, GH, a.w_hh, H, T(1), a.dnext, H);
}

template <typename T>
void jvp(const JvpStep<T>& a) {
  const index_t H = a.s->H, GH = kG * H;
  std::vector<T> th(GH, T(0));
  gemm<T>(false, true, 1, GH, H, T(1), a.vh, H, a.w_hh, H, T(0), th.data(), GH);
  const T* g = a.g;
  const T* tx = a.tx;
  const T* cp = a.aux[0];
  const T* cn = a.aux[1];
  for (index_t j = 0; j < H; ++j) {
    const T i = g[j], f = g[H + j], gg = g[2 * H + j], o = g[3 * H + j];
    const T di = i * (T(1) - i) * (tx[j] + th[j]);
    const T df = f * (T(1) - f) * (tx[H + j] + th[H + j]);
    const T dg = (T(1) - gg * gg) * (tx[2 * H + j] + th[2 * H + j]);
    const T dout = o * (T(1) - o) * (tx[3 * H + j] + th[3 * H + j]);
    const T dc = df * cp[j] + f * a.vc[j] + di * gg + i * dg;
    const T tcn = cellmath::tanh_(cn[j]);
    a.tc1[j] = dc;
    a.th1[j] = dout * tcn + o * (T(1) - tcn * tcn) * dc;
  }
}

}  // namespace

template <typename T>
const CellSteps<T>& lstm_steps() {
  static const CellSteps<T> k{&forward<T>, &backward<T>, &cells::standard_recurrent_grad<T>, &jvp<T>};
  return k;
}
template const CellSteps<float>& lstm_steps<float>();
template const CellSteps<double>& lstm_steps<double>();

}  // namespace rnnkit
