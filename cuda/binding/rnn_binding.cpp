// rnnForward, rnnBackward (and their Async forms, which resolve once the work is queued and
// finished: the stream orders them) and gemm, with the CPU addon's argument names and shapes.
#include "../rnn.h"
#include "ops.h"

namespace rnnkit {
namespace cuda {
namespace {

RnnShape read_shape(DeviceArgs& a) {
  RnnShape s;
  s.cell = static_cast<CellType>(a.choice("cell", {"elman", "lstm", "gru"}));
  s.T = a.integer("T", 1, kMaxDim);
  s.B = a.integer("B", 1, kMaxDim);
  s.I = a.integer("I", 1, kMaxDim);
  s.H = a.integer("H", 1, kMaxDim);
  s.act = static_cast<Activation>(a.choice("activation", {"tanh", "relu", "sigmoid"}, 0));
  s.gru = static_cast<GruVariant>(a.choice("gruVariant", {"pytorch", "original"}, 0));
  s.reverse = a.boolean_or("reverse", false);
  s.ldy = a.integer_or("yStride", s.H, kMaxDim, s.H);
  const double reserve = static_cast<double>(s.T) * s.B * s.H * (s.G() + 3);
  if (reserve > 9.0e15) a.fail_range("T*B*H", "small enough to address", std::to_string(reserve) + " elements");
  return s;
}

// y and dy: rows ldy apart; the last row needs only H elements.
std::size_t y_extent(const RnnShape& s) { return static_cast<std::size_t>((s.T * s.B - 1) * s.ldy + s.H); }

Napi::Value Forward(const Napi::CallbackInfo& info, const char* name) {
  DeviceArgs a(info, name);
  const RnnShape s = read_shape(a);
  const DType dt = a.float_dtype("x");
  const std::int64_t GH = s.G() * s.H, BH = s.B * s.H;
  const bool lstm = s.cell == CellType::LSTM;
  DevBuf x = a.buf("x", dt, n(s.T * s.B * s.I));
  DevBuf h0 = a.opt_buf("h0", dt, n(BH));
  DevBuf c0 = lstm ? a.opt_buf("c0", dt, n(BH)) : DevBuf{};
  DevBuf lengths = a.opt_buf("lengths", DType::I32, n(s.B));
  DevBuf wih = a.buf("wIh", dt, n(GH * s.I));
  DevBuf whh = a.buf("wHh", dt, n(GH * s.H));
  DevBuf bih = a.opt_buf("bIh", dt, n(GH));
  DevBuf bhh = a.opt_buf("bHh", dt, n(GH));
  DevBuf y = s.ldy == s.H ? a.buf("y", dt, n(s.T * BH)) : a.buf_at_least("y", dt, y_extent(s));
  DevBuf hn = a.opt_buf("hN", dt, n(BH));
  DevBuf cn = lstm ? a.opt_buf("cN", dt, n(BH)) : DevBuf{};
  DevBuf reserve = a.opt_buf("reserve", dt, n(reserve_size(s)));
  a.check_unknown_fields();
  with_float(dt, [&](auto tag) {
    using T = decltype(tag);
    cuda::rnn_forward<T>(s, x.as<T>(), h0.as<T>(), c0.as<T>(), lengths.as<std::int32_t>(), wih.as<T>(), whh.as<T>(),
                   bih.as<T>(), bhh.as<T>(), y.as<T>(), hn.as<T>(), cn.as<T>(), reserve.as<T>());
  });
  return info.Env().Undefined();
}

Napi::Value Backward(const Napi::CallbackInfo& info, const char* name) {
  DeviceArgs a(info, name);
  const RnnShape s = read_shape(a);
  const DType dt = a.float_dtype("x");
  const std::int64_t GH = s.G() * s.H, BH = s.B * s.H;
  const bool lstm = s.cell == CellType::LSTM;
  DevBuf x = a.buf("x", dt, n(s.T * s.B * s.I));
  DevBuf lengths = a.opt_buf("lengths", DType::I32, n(s.B));
  DevBuf wih = a.buf("wIh", dt, n(GH * s.I));
  DevBuf whh = a.buf("wHh", dt, n(GH * s.H));
  DevBuf reserve = a.buf("reserve", dt, n(reserve_size(s)));
  DevBuf dy = s.ldy == s.H ? a.opt_buf("dy", dt, n(s.T * BH)) : a.buf_at_least("dy", dt, y_extent(s), false);
  DevBuf dhn = a.opt_buf("dhN", dt, n(BH));
  DevBuf dcn = lstm ? a.opt_buf("dcN", dt, n(BH)) : DevBuf{};
  DevBuf dx = a.opt_buf("dx", dt, n(s.T * s.B * s.I));
  DevBuf dh0 = a.opt_buf("dh0", dt, n(BH));
  DevBuf dc0 = lstm ? a.opt_buf("dc0", dt, n(BH)) : DevBuf{};
  DevBuf dwih = a.buf("dwIh", dt, n(GH * s.I));
  DevBuf dwhh = a.buf("dwHh", dt, n(GH * s.H));
  DevBuf dbih = a.opt_buf("dbIh", dt, n(GH));
  DevBuf dbhh = a.opt_buf("dbHh", dt, n(GH));
  a.check_unknown_fields();
  with_float(dt, [&](auto tag) {
    using T = decltype(tag);
    cuda::rnn_backward<T>(s, x.as<T>(), lengths.as<std::int32_t>(), wih.as<T>(), whh.as<T>(), reserve.as<T>(), dy.as<T>(),
                    dhn.as<T>(), dcn.as<T>(), dx.as<T>(), dh0.as<T>(), dc0.as<T>(), dwih.as<T>(), dwhh.as<T>(),
                    dbih.as<T>(), dbhh.as<T>());
  });
  return info.Env().Undefined();
}

Napi::Value RnnForward(const Napi::CallbackInfo& info) { return Forward(info, "rnnForward"); }
Napi::Value RnnBackward(const Napi::CallbackInfo& info) { return Backward(info, "rnnBackward"); }

Napi::Value RnnReserveSize(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "rnnReserveSize");
  return Napi::Number::New(info.Env(), static_cast<double>(reserve_size(read_shape(a))));
}

// gemm({ transA, transB, M, N, K, alpha, beta, a, b, c }): c[M,N] = alpha op(a) op(b) + beta c.
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "gemm");
  const bool ta = a.boolean_or("transA", false), tb = a.boolean_or("transB", false);
  const std::int64_t M = a.integer("M", 0, kMaxDim), N = a.integer("N", 0, kMaxDim), K = a.integer("K", 0, kMaxDim);
  const double alpha = a.number_or("alpha", 1), beta = a.number_or("beta", 0);
  const DType dt = a.float_dtype("a");
  DevBuf A = a.buf("a", dt, n(M * K)), B = a.buf("b", dt, n(K * N)), C = a.buf("c", dt, n(M * N));
  a.check_unknown_fields();
  with_float(dt, [&](auto tag) {
    using T = decltype(tag);
    gemm<T>(ta, tb, M, N, K, T(alpha), A.as<T>(), ta ? M : K, B.as<T>(), tb ? K : N, T(beta), C.as<T>(), N);
  });
  return info.Env().Undefined();
}

}  // namespace

RNNKIT_CUDA_OP("rnnForward", RnnForward);
RNNKIT_CUDA_OP("rnnBackward", RnnBackward);
RNNKIT_CUDA_OP("rnnReserveSize", RnnReserveSize);
RNNKIT_CUDA_OP("gemm", Gemm);

}  // namespace cuda
}  // namespace rnnkit
