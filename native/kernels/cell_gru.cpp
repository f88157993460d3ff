// GRU, gates r, z, n; h' = (1−z)⊙n + z⊙h. G = 3. Variant 'pytorch': n = tanh(xn + r⊙(W_hn h + b_hn));
// 'original': n = tanh(xn + W_hn (r⊙h) + b_hn). Reserve block aux[0]: W_hn h + b_hn (pytorch) or
// r⊙h (original).
#include "cell_impl.h"

namespace rnnkit {
namespace {

constexpr index_t kG = gate_count(CellType::GRU);

template <typename T>
void forward(const ForwardStep<T>& a) {
  const RnnShape& s = *a.s;
  const index_t B = s.B, H = s.H, GH = kG * H;
  if (s.gru == GruVariant::PyTorch) {
    T* sink = a.tmp;  // r*h is not needed when the reset gate acts after W_hn
    gemm<T>(false, true, B, GH, H, T(1), a.h, H, a.w_hh, H, T(0), a.rec, GH);
    RNNKIT_STEP(gru_rz_fwd<T>, B, H, a.gates, a.rec, GH, a.b_ih, a.b_hh, a.h, a.gates, sink);
    RNNKIT_STEP(gru_n_fwd<T>, B, H, true, a.gates, a.rec + 2 * H, GH, a.b_ih, a.b_hh, a.valid, a.gates, a.h, a.aux[0], a.y, a.ldy);
  } else {
    T* rh = a.aux[0];
    T* sink = a.rec + B * 2 * H;  // rec holds [B,2H] here, the rest is free
    gemm<T>(false, true, B, 2 * H, H, T(1), a.h, H, a.w_hh, H, T(0), a.rec, 2 * H);
    RNNKIT_STEP(gru_rz_fwd<T>, B, H, a.gates, a.rec, 2 * H, a.b_ih, a.b_hh, a.h, a.gates, rh);
    gemm<T>(false, true, B, H, H, T(1), rh, H, a.w_hh + 2 * H * H, H, T(0), a.tmp, H);
    RNNKIT_STEP(gru_n_fwd<T>, B, H, false, a.gates, a.tmp, H, a.b_ih, a.b_hh, a.valid, a.gates, a.h, sink, a.y, a.ldy);
  }
}

template <typename T>
void backward(const BackwardStep<T>& a) {
  const RnnShape& s = *a.s;
  const index_t B = s.B, H = s.H, GH = kG * H;
  if (s.gru == GruVariant::PyTorch) {
    RNNKIT_STEP_AVX2(gru_bwd<T>, B, H, true, a.gates, a.aux[0], a.hprev, a.dh, a.dy, a.lddy, a.valid, a.dgx, a.dgh, a.dnext);
    gemm<T>(false, false, B, H, GH, T(1), a.dgh, GH, a.w_hh, H, T(1), a.dnext, H);
  } else {
    RNNKIT_STEP_AVX2(gru_bwd<T>, B, H, false, a.gates, a.zeros, a.hprev, a.dh, a.dy, a.lddy, a.valid, a.dgx, a.dgh, a.dnext);
    // d(r h) = dpn W_hn, then the r gate and the r*dh path to h_prev.
    gemm<T>(false, false, B, H, H, T(1), a.dgh + 2 * H, GH, a.w_hh + 2 * H * H, H, T(0), a.drh, H);
    RNNKIT_STEP_AVX2(gru_reset_before_bwd<T>, B, H, a.gates, a.hprev, a.drh, a.valid, a.dgx, a.dgh, a.dnext);
    gemm<T>(false, false, B, H, 2 * H, T(1), a.dgh, GH, a.w_hh, H, T(1), a.dnext, H);
  }
}

template <typename T>
void recurrent_grad(const RecurrentGrad<T>& a) {
  const RnnShape& s = *a.s;
  if (s.gru == GruVariant::PyTorch) return cells::standard_recurrent_grad(a);
  const index_t H = s.H, GH = kG * H;
  gemm<T>(true, false, 2 * H, H, a.TB, T(1), a.dgh, GH, a.hprev, H, T(1), a.dw_hh, H);
  gemm<T>(true, false, H, H, a.TB, T(1), a.dgh + 2 * H, GH, a.aux0, H, T(1), a.dw_hh + 2 * H * H, H);
}

template <typename T>
void jvp(const JvpStep<T>& a) {
  const RnnShape& s = *a.s;
  const index_t H = s.H, GH = kG * H;
  const bool before = s.gru == GruVariant::Original;
  const T* g = a.g;
  const T* tx = a.tx;
  const T* extra = a.aux[0];
  std::vector<T> th(GH, T(0)), dr(H), dz(H), rh(H, T(0)), tn(H, T(0));
  gemm<T>(false, true, 1, before ? 2 * H : GH, H, T(1), a.vh, H, a.w_hh, H, T(0), th.data(), GH);
  for (index_t j = 0; j < H; ++j) {
    const T r = g[j], z = g[H + j];
    dr[j] = r * (T(1) - r) * (tx[j] + th[j]);
    dz[j] = z * (T(1) - z) * (tx[H + j] + th[H + j]);
  }
  if (before) {  // n = tanh(x_n + W_hn (r h) + b_hn): tangent of r h through W_hn
    for (index_t j = 0; j < H; ++j) rh[j] = dr[j] * a.h0[j] + g[j] * a.vh[j];
    gemm<T>(false, true, 1, H, H, T(1), rh.data(), H, a.w_hh + 2 * H * H, H, T(0), tn.data(), H);
  }
  for (index_t j = 0; j < H; ++j) {
    const T r = g[j], z = g[H + j], n = g[2 * H + j];
    const T pre = before ? tx[2 * H + j] + tn[j] : tx[2 * H + j] + dr[j] * extra[j] + r * th[2 * H + j];
    const T dn = (T(1) - n * n) * pre;
    a.th1[j] = -dz[j] * n + (T(1) - z) * dn + dz[j] * a.h0[j] + z * a.vh[j];
  }
}

}  // namespace

template <typename T>
const CellSteps<T>& gru_steps() {
  static const CellSteps<T> k{&forward<T>, &backward<T>, &recurrent_grad<T>, &jvp<T>};
  return k;
}
template const CellSteps<float>& gru_steps<float>();
template const CellSteps<double>& gru_steps<double>();

}  // namespace rnnkit
