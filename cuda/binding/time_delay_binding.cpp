// timeDelayForward, timeDelayBackward: the CPU addon's arguments (native/binding/layer_ops_binding.cpp),
// with taps and lengths int32 cuda tensors. Both are small ([K], [B]) and copied to the host:
// the largest tap D sizes history, and out-of-range values are the CPU's RangeErrors.
#include <algorithm>
#include <string>
#include <vector>

#include "../time_delay.h"
#include "ops.h"

namespace rnnkit {
namespace cuda {
namespace {

constexpr std::int64_t kMax = 2147483647;  // the CPU addon's bound on each dimension

struct Dims {
  std::int64_t T, B, F, K, D;
  DevBuf taps;
};
Dims read_dims(DeviceArgs& a) {
  Dims d;
  d.T = a.integer("T", 1, kMax);
  d.B = a.integer("B", 1, kMax);
  d.F = a.integer("F", 1, kMax);
  d.K = a.integer("K", 1, kMax);
  a.product({d.T, d.B, d.F}, "T*B*F");
  a.product({d.T, d.B, d.K, d.F}, "T*B*K*F");
  d.taps = a.buf("taps", DType::I32, n(d.K));
  const std::vector<std::int32_t> taps = host_ints(a, "taps", d.taps, 0, kMax);
  d.D = *std::max_element(taps.begin(), taps.end());
  return d;
}

// history / dHistory [D,B,F] when given.
DevBuf read_history(DeviceArgs& a, const char* name, const Dims& d, DType dt) {
  if (!a.has(name)) return DevBuf{nullptr, 0, dt};
  a.product({d.D, d.B, d.F}, "D*B*F");
  return a.buf(name, dt, n(d.D * d.B * d.F));
}

Napi::Value TimeDelayForward(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "timeDelayForward");
  const Dims d = read_dims(a);
  const DType dt = a.float_dtype("x");
  DevBuf x = a.buf("x", dt, n(d.T * d.B * d.F));
  DevBuf lengths = a.opt_buf("lengths", DType::I32, n(d.B));
  host_ints(a, "lengths", lengths, 0, d.T);
  DevBuf history = read_history(a, "history", d, dt);
  DevBuf y = a.buf("y", dt, n(d.T * d.B * d.K * d.F));
  a.check_unknown_fields();
  require_disjoint(a, "y", {{"taps", d.taps}, {"x", x}, {"lengths", lengths}, {"history", history}, {"y", y}});
  with_float(dt, [&](auto tag) {
    using T = decltype(tag);
    time_delay_forward<T>(d.T, d.B, d.F, d.K, d.taps.as<std::int32_t>(), d.D, x.as<T>(), lengths.as<std::int32_t>(),
                          history.as<T>(), y.as<T>());
  });
  return info.Env().Undefined();
}

Napi::Value TimeDelayBackward(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "timeDelayBackward");
  const Dims d = read_dims(a);
  const DType dt = a.float_dtype("dy");
  DevBuf lengths = a.opt_buf("lengths", DType::I32, n(d.B));
  host_ints(a, "lengths", lengths, 0, d.T);
  DevBuf dy = a.buf("dy", dt, n(d.T * d.B * d.K * d.F));
  DevBuf dx = a.opt_buf("dx", dt, n(d.T * d.B * d.F));
  DevBuf dh = read_history(a, "dHistory", d, dt);
  a.check_unknown_fields();
  const std::vector<NamedBuf> all = {{"taps", d.taps}, {"lengths", lengths}, {"dy", dy}, {"dx", dx}, {"dHistory", dh}};
  require_disjoint(a, "dx", all);
  require_disjoint(a, "dHistory", all);
  with_float(dt, [&](auto tag) {
    using T = decltype(tag);
    time_delay_backward<T>(d.T, d.B, d.F, d.K, d.taps.as<std::int32_t>(), d.D, lengths.as<std::int32_t>(), dy.as<T>(),
                           dx.as<T>(), dh.as<T>());
  });
  return info.Env().Undefined();
}

}  // namespace

RNNKIT_CUDA_OP("timeDelayForward", TimeDelayForward);
RNNKIT_CUDA_OP("timeDelayBackward", TimeDelayBackward);

}  // namespace cuda
}  // namespace rnnkit
