// Elman (SimpleRNN): h' = f(W_ih x + b_ih + W_hh h + b_hh), f in tanh, relu, sigmoid. G = 1.
#include "cell_impl.h"

namespace rnnkit {
namespace {

static_assert(gate_count(CellType::Elman) == 1, "Elman: one gate block, the new h");

template <typename T>
void forward(const ForwardStep<T>& a) {
  const RnnShape& s = *a.s;
  const index_t B = s.B, H = s.H;
  gemm<T>(false, true, B, H, H, T(1), a.h, H, a.w_hh, H, T(0), a.rec, H);
  RNNKIT_STEP(elman_fwd<T>, B, H, s.act, a.gates, a.rec, a.b_ih, a.b_hh, a.valid, a.gates, a.h, a.y, a.ldy);
}

template <typename T>
void backward(const BackwardStep<T>& a) {
  const RnnShape& s = *a.s;
  const index_t B = s.B, H = s.H;
  RNNKIT_STEP(elman_bwd<T>, B, H, s.act, a.gates, a.dh, a.dy, a.lddy, a.valid, a.dgx, a.dnext);
  gemm<T>(false, false, B, H, H, T(1), a.dgh, H, a.w_hh, H, T(1), a.dnext, H);
}

template <typename T>
void jvp(const JvpStep<T>& a) {
  const RnnShape& s = *a.s;
  const index_t H = s.H;
  std::vector<T> th(H, T(0));
  gemm<T>(false, true, 1, H, H, T(1), a.vh, H, a.w_hh, H, T(0), th.data(), H);
  for (index_t j = 0; j < H; ++j) a.th1[j] = cellmath::activate_grad(s.act, a.h1[j]) * (a.tx[j] + th[j]);
}

}  // namespace

template <typename T>
const CellSteps<T>& elman_steps() {
  static const CellSteps<T> k{&forward<T>, &backward<T>, &cells::standard_recurrent_grad<T>, &jvp<T>};
  return k;
}
template const CellSteps<float>& elman_steps<float>();
template const CellSteps<double>& elman_steps<double>();

}  // namespace rnnkit
