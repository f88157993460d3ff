// attentionForward, attentionBackward: the CPU addon's arguments (native/binding/layer_ops_binding.cpp),
// with lengths an int32 cuda tensor. Its B elements are copied to the host to be checked, so an
// out-of-range length is the CPU's RangeError rather than a read past the keys on the device.
#include <string>
#include <vector>

#include "../attention.h"
#include "ops.h"

namespace rnnkit {
namespace cuda {
namespace {

constexpr std::int64_t kMax = 2147483647;  // the CPU addon's bound on each dimension

struct Dims {
  std::int64_t T, S, B, Hd, He;
};
Dims read_dims(DeviceArgs& a) {
  Dims d;
  d.T = a.integer("T", 1, kMax);
  d.S = a.integer("S", 1, kMax);
  d.B = a.integer("B", 1, kMax);
  d.Hd = a.integer("Hd", 1, kMax);
  d.He = a.integer("He", 1, kMax);
  a.product({d.T, d.B, d.Hd}, "T*B*Hd");
  a.product({d.S, d.B, d.Hd}, "S*B*Hd");
  a.product({d.S, d.B, d.He}, "S*B*He");
  a.product({d.T, d.B, d.S}, "T*B*S");
  a.product({d.T, d.B, d.He}, "T*B*He");
  return d;
}

void check_lengths(DeviceArgs& a, const DevBuf& lengths, std::int64_t S) { host_ints(a, "lengths", lengths, 1, S); }

Napi::Value AttentionForward(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "attentionForward");
  const Dims d = read_dims(a);
  const DType dt = a.float_dtype("q");
  DevBuf q = a.buf("q", dt, n(d.T * d.B * d.Hd));
  DevBuf keys = a.buf("keys", dt, n(d.S * d.B * d.Hd));
  DevBuf values = a.buf("values", dt, n(d.S * d.B * d.He));
  DevBuf lengths = a.opt_buf("lengths", DType::I32, n(d.B));
  DevBuf alpha = a.buf("alpha", dt, n(d.T * d.B * d.S));
  DevBuf context = a.buf("context", dt, n(d.T * d.B * d.He));
  a.check_unknown_fields();
  check_lengths(a, lengths, d.S);
  const std::vector<NamedBuf> all = {{"q", q},         {"keys", keys},       {"values", values},
                                  {"lengths", lengths}, {"alpha", alpha}, {"context", context}};
  require_disjoint(a, "alpha", all);
  require_disjoint(a, "context", all);
  with_float(dt, [&](auto tag) {
    using T = decltype(tag);
    attention_forward<T>(d.T, d.S, d.B, d.Hd, d.He, q.as<T>(), keys.as<T>(), values.as<T>(),
                         lengths.as<std::int32_t>(), alpha.as<T>(), context.as<T>());
  });
  return info.Env().Undefined();
}

Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "attentionBackward");
  const Dims d = read_dims(a);
  const DType dt = a.float_dtype("q");
  DevBuf q = a.buf("q", dt, n(d.T * d.B * d.Hd));
  DevBuf keys = a.buf("keys", dt, n(d.S * d.B * d.Hd));
  DevBuf values = a.buf("values", dt, n(d.S * d.B * d.He));
  DevBuf lengths = a.opt_buf("lengths", DType::I32, n(d.B));
  DevBuf alpha = a.buf("alpha", dt, n(d.T * d.B * d.S));
  DevBuf dc = a.buf("dContext", dt, n(d.T * d.B * d.He));
  DevBuf dq = a.opt_buf("dq", dt, n(d.T * d.B * d.Hd));
  DevBuf dk = a.opt_buf("dKeys", dt, n(d.S * d.B * d.Hd));
  DevBuf dv = a.opt_buf("dValues", dt, n(d.S * d.B * d.He));
  a.check_unknown_fields();
  check_lengths(a, lengths, d.S);
  const std::vector<NamedBuf> all = {{"q", q},         {"keys", keys}, {"values", values}, {"lengths", lengths},
                                  {"alpha", alpha}, {"dContext", dc}, {"dq", dq},      {"dKeys", dk},
                                  {"dValues", dv}};
  require_disjoint(a, "dq", all);
  // Dot attention passes one buffer as keys and values; its gradient is then one buffer too.
  const bool shared = keys.p == values.p && keys.n == values.n;
  require_disjoint(a, "dKeys", all, shared ? "dValues" : nullptr);
  require_disjoint(a, "dValues", all, shared ? "dKeys" : nullptr);
  with_float(dt, [&](auto tag) {
    using T = decltype(tag);
    attention_backward<T>(d.T, d.S, d.B, d.Hd, d.He, q.as<T>(), keys.as<T>(), values.as<T>(),
                          lengths.as<std::int32_t>(), alpha.as<T>(), dc.as<T>(), dq.as<T>(), dk.as<T>(), dv.as<T>());
  });
  return info.Env().Undefined();
}

}  // namespace

RNNKIT_CUDA_OP("attentionForward", AttentionForward);
RNNKIT_CUDA_OP("attentionBackward", AttentionBackward);

}  // namespace cuda
}  // namespace rnnkit
