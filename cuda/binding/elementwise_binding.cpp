// fill, axpby, mul, scale, activationForward/Backward, l2Norm, allFinite, dropoutMask.
#include "../elementwise.h"
#include "ops.h"

namespace rnnkit {
namespace cuda {
namespace {

constexpr std::int64_t kMaxLen = kMaxElements;

// fill({ x, value }): every element of x (any dtype) = value.
Napi::Value Fill(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "fill");
  Napi::Value xv = info[0].As<Napi::Object>().Get("x");
  if (!xv.IsArray() || xv.As<Napi::Array>().Length() != 4) a.fail_type("x", "a cuda tensor", describe(xv));
  Napi::Array r = xv.As<Napi::Array>();
  const auto dt = static_cast<DType>(r.Get(2u).IsNumber() ? r.Get(3u).As<Napi::Number>().Int32Value() & 3 : 0);
  const auto len = static_cast<std::size_t>(r.Get(2u).As<Napi::Number>().DoubleValue());
  DevBuf x = a.buf("x", dt, len);
  const double v = a.number("value");
  a.check_unknown_fields();
  switch (dt) {
    case DType::F32: fill<float>(len, static_cast<float>(v), x.as<float>()); break;
    case DType::F64: fill<double>(len, v, x.as<double>()); break;
    case DType::I32: fill<std::int32_t>(len, static_cast<std::int32_t>(v), x.as<std::int32_t>()); break;
    default: fill<std::uint8_t>(len, static_cast<std::uint8_t>(v), x.as<std::uint8_t>()); break;
  }
  return info.Env().Undefined();
}

Napi::Value Axpby(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "axpby");
  const std::int64_t len = a.integer("n", 0, kMaxLen);
  const double al = a.number("a"), be = a.number("b");
  const DType dt = a.float_dtype("x");
  DevBuf x = a.buf("x", dt, n(len)), y = a.buf("y", dt, n(len));
  a.check_unknown_fields();
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    axpby<T>(len, T(al), x.as<T>(), T(be), y.as<T>());
  });
  return info.Env().Undefined();
}

Napi::Value Mul(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "mul");
  const std::int64_t len = a.integer("n", 0, kMaxLen);
  const DType dt = a.float_dtype("x");
  DevBuf x = a.buf("x", dt, n(len)), y = a.buf("y", dt, n(len)), out = a.buf("out", dt, n(len));
  a.check_unknown_fields();
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    mul<T>(len, x.as<T>(), y.as<T>(), out.as<T>());
  });
  return info.Env().Undefined();
}

Napi::Value Scale(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "scale");
  const std::int64_t len = a.integer("n", 0, kMaxLen);
  const double alpha = a.number("alpha");
  const DType dt = a.float_dtype("x");
  DevBuf x = a.buf("x", dt, n(len));
  a.check_unknown_fields();
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    scale<T>(len, T(alpha), x.as<T>());
  });
  return info.Env().Undefined();
}

Napi::Value ActivationForward(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "activationForward");
  const int kind = a.choice("kind", {"tanh", "sigmoid", "relu", "identity"});
  const std::int64_t len = a.integer("n", 0, kMaxLen);
  const DType dt = a.float_dtype("x");
  DevBuf x = a.buf("x", dt, n(len)), y = a.buf("y", dt, n(len));
  a.check_unknown_fields();
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    activation_forward<T>(kind, len, x.as<T>(), y.as<T>());
  });
  return info.Env().Undefined();
}

Napi::Value ActivationBackward(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "activationBackward");
  const int kind = a.choice("kind", {"tanh", "sigmoid", "relu", "identity"});
  const std::int64_t len = a.integer("n", 0, kMaxLen);
  const DType dt = a.float_dtype("y");
  DevBuf y = a.buf("y", dt, n(len)), dy = a.buf("dy", dt, n(len)), dx = a.buf("dx", dt, n(len));
  a.check_unknown_fields();
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    activation_backward<T>(kind, len, y.as<T>(), dy.as<T>(), dx.as<T>());
  });
  return info.Env().Undefined();
}

Napi::Value L2Norm(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "l2Norm");
  const DType dt = a.float_dtype("x");
  DevBuf x = a.buf("x", dt, a.whole("x"));
  double r = 0;
  a.check_unknown_fields();
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    r = l2_norm<T>(static_cast<index_t>(x.n), x.as<T>());
  });
  return Napi::Number::New(info.Env(), r);
}

Napi::Value AllFinite(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "allFinite");
  const DType dt = a.float_dtype("x");
  DevBuf x = a.buf("x", dt, a.whole("x"));
  const auto len = static_cast<index_t>(x.n);
  bool r = true;
  a.check_unknown_fields();
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    r = all_finite<T>(len, x.as<T>());
  });
  return Napi::Boolean::New(info.Env(), r);
}

Napi::Value DropoutMask(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "dropoutMask");
  const double p = a.number("p");
  if (!(p >= 0 && p <= 1)) a.fail_range("p", "a probability in [0, 1]", std::to_string(p));
  const auto seed = static_cast<double>(a.integer("seed", 0, std::int64_t(1) << 53));
  const DType dt = a.float_dtype("mask");
  DevBuf m = a.buf("mask", dt, a.whole("mask"));
  a.check_unknown_fields();
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    dropout_mask<T>(static_cast<index_t>(m.n), p, static_cast<std::uint64_t>(seed), m.as<T>());
  });
  return info.Env().Undefined();
}

}  // namespace

RNNKIT_CUDA_OP("fill", Fill);
RNNKIT_CUDA_OP("axpby", Axpby);
RNNKIT_CUDA_OP("mul", Mul);
RNNKIT_CUDA_OP("scale", Scale);
RNNKIT_CUDA_OP("activationForward", ActivationForward);
RNNKIT_CUDA_OP("activationBackward", ActivationBackward);
RNNKIT_CUDA_OP("l2Norm", L2Norm);
RNNKIT_CUDA_OP("allFinite", AllFinite);
RNNKIT_CUDA_OP("dropoutMask", DropoutMask);

}  // namespace cuda
}  // namespace rnnkit
