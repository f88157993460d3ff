// Layer ops: pooling over time, the attention core, the time-delay gather, masked losses and
// accuracy counts.
#include <algorithm>
#include <functional>
#include <memory>

#include "../kernels/attention.h"
#include "../kernels/losses.h"
#include "../kernels/pooling.h"
#include "../kernels/time_delay.h"
#include "bindings.h"

namespace rnnkit {
namespace binding {

namespace {
constexpr std::int64_t kMaxDim = 2147483647;

template <typename F>
Napi::Value run_void(Args& a, Dtype dt, F body, double macs = -1) {
  Job job;
  job.work = [=]() {
    with_dtype(dt, [&](auto t) { body(t); });
    return 0.0;
  };
  job.macs = macs;
  return run_job(a, std::move(job), false);
}

// {correct, total}: work() returns correct, *total is filled alongside.
Napi::Value run_count(Args& a, std::function<std::int64_t(std::int64_t*)> count) {
  auto total = std::make_shared<std::int64_t>(0);
  Job job;
  job.has_result = true;
  job.work = [=]() { return static_cast<double>(count(total.get())); };
  job.to_js = [total](Napi::Env env, double correct) -> Napi::Value {
    Napi::Object o = Napi::Object::New(env);
    o.Set("correct", correct);
    o.Set("total", static_cast<double>(*total));
    return o;
  };
  return run_job(a, std::move(job), false);
}
}  // namespace

// ---- pooling over time ----

Napi::Value TimePoolForward(const Napi::CallbackInfo& info) {
  Args a(info, "timePoolForward");
  std::int64_t T = a.integer("T", 1, kMaxDim), B = a.integer("B", 1, kMaxDim), F = a.integer("F", 1, kMaxDim);
  a.product({T, B, F}, "T*B*F");
  PoolMode mode = static_cast<PoolMode>(a.choice("mode", {"last", "mean", "max"}));
  Dtype dt = a.dtype_of("x");
  FloatView x = a.floats("x", dt, T * B * F, "[T,B,F]");
  const std::int32_t* lengths = a.ints("lengths", B, "[B]", 0, T, false);
  FloatView y = a.floats("y", dt, B * F, "[B,F]");
  std::int32_t* argmax = a.ints_out("argmax", B * F, "[B,F]", mode == PoolMode::Max);
  a.require_finite("x", x);
  a.require_disjoint("y", y);
  a.require_disjoint("argmax", argmax, B * F * 4);
  return run_void(a, dt, [=](auto t) {
    using V = decltype(t);
    time_pool_forward<V>(mode, T, B, F, x.as<V>(), lengths, y.as<V>(), argmax);
  });
}

Napi::Value TimePoolBackward(const Napi::CallbackInfo& info) {
  Args a(info, "timePoolBackward");
  std::int64_t T = a.integer("T", 1, kMaxDim), B = a.integer("B", 1, kMaxDim), F = a.integer("F", 1, kMaxDim);
  a.product({T, B, F}, "T*B*F");
  PoolMode mode = static_cast<PoolMode>(a.choice("mode", {"last", "mean", "max"}));
  Dtype dt = a.dtype_of("dy");
  FloatView dy = a.floats("dy", dt, B * F, "[B,F]");
  const std::int32_t* lengths = a.ints("lengths", B, "[B]", 0, T, false);
  const std::int32_t* argmax =
      mode == PoolMode::Max ? a.ints("argmax", B * F, "[B,F] (from timePoolForward)", 0, T - 1, true, -1) : nullptr;
  FloatView dx = a.floats("dx", dt, T * B * F, "[T,B,F]");
  a.require_finite("dy", dy);
  a.require_disjoint("dx", dx);
  return run_void(a, dt, [=](auto t) {
    using V = decltype(t);
    time_pool_backward<V>(mode, T, B, F, dy.as<V>(), lengths, argmax, dx.as<V>());
  });
}

// ---- attention core ----

namespace {
struct AttentionDims { std::int64_t T, S, B, Hd, He; };
AttentionDims attention_dims(Args& a) {
  AttentionDims d;
  d.T = a.integer("T", 1, kMaxDim); d.S = a.integer("S", 1, kMaxDim); d.B = a.integer("B", 1, kMaxDim);
  d.Hd = a.integer("Hd", 1, kMaxDim); d.He = a.integer("He", 1, kMaxDim);
  a.product({d.T, d.B, d.Hd}, "T*B*Hd"); a.product({d.S, d.B, d.Hd}, "S*B*Hd");
  a.product({d.S, d.B, d.He}, "S*B*He"); a.product({d.T, d.B, d.S}, "T*B*S"); a.product({d.T, d.B, d.He}, "T*B*He");
  return d;
}
}  // namespace

Napi::Value AttentionForward(const Napi::CallbackInfo& info) {
  Args a(info, "attentionForward");
  AttentionDims d = attention_dims(a);
  Dtype dt = a.dtype_of("q");
  FloatView q = a.floats("q", dt, d.T * d.B * d.Hd, "[T,B,Hd]");
  FloatView keys = a.floats("keys", dt, d.S * d.B * d.Hd, "[S,B,Hd]");
  FloatView values = a.floats("values", dt, d.S * d.B * d.He, "[S,B,He]");
  const std::int32_t* lengths = a.ints("lengths", d.B, "[B] (source lengths)", 1, d.S, false);
  FloatView alpha = a.floats("alpha", dt, d.T * d.B * d.S, "[T,B,S]");
  FloatView context = a.floats("context", dt, d.T * d.B * d.He, "[T,B,He]");
  a.require_finite("q", q);
  a.require_finite("keys", keys);
  a.require_finite("values", values);
  a.require_disjoint("alpha", alpha);
  a.require_disjoint("context", context);
  return run_void(a, dt, [=](auto t) {
    using V = decltype(t);
    attention_forward<V>(d.T, d.S, d.B, d.Hd, d.He, q.as<V>(), keys.as<V>(), values.as<V>(), lengths,
                         alpha.as<V>(), context.as<V>());
  }, static_cast<double>(d.T) * d.B * d.S * (d.Hd + d.He));
}

Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  Args a(info, "attentionBackward");
  AttentionDims d = attention_dims(a);
  Dtype dt = a.dtype_of("q");
  FloatView q = a.floats("q", dt, d.T * d.B * d.Hd, "[T,B,Hd]");
  FloatView keys = a.floats("keys", dt, d.S * d.B * d.Hd, "[S,B,Hd]");
  FloatView values = a.floats("values", dt, d.S * d.B * d.He, "[S,B,He]");
  const std::int32_t* lengths = a.ints("lengths", d.B, "[B] (source lengths)", 1, d.S, false);
  FloatView alpha = a.floats("alpha", dt, d.T * d.B * d.S, "[T,B,S] (from attentionForward)");
  FloatView dc = a.floats("dContext", dt, d.T * d.B * d.He, "[T,B,He]");
  FloatView dq = a.floats("dq", dt, d.T * d.B * d.Hd, "[T,B,Hd]", false);
  FloatView dk = a.floats("dKeys", dt, d.S * d.B * d.Hd, "[S,B,Hd]", false);
  FloatView dv = a.floats("dValues", dt, d.S * d.B * d.He, "[S,B,He]", false);
  a.require_finite("dContext", dc);
  a.require_disjoint("dq", dq);
  // Dot attention passes one buffer as keys and values; its gradient is then one buffer too.
  const bool shared = keys.data == values.data && keys.length == values.length;
  if (shared) {
    a.require_disjoint_except("dKeys", dk, "dValues");
    a.require_disjoint_except("dValues", dv, "dKeys");
  } else {
    a.require_disjoint("dKeys", dk);
    a.require_disjoint("dValues", dv);
  }
  return run_void(a, dt, [=](auto t) {
    using V = decltype(t);
    attention_backward<V>(d.T, d.S, d.B, d.Hd, d.He, q.as<V>(), keys.as<V>(), values.as<V>(), lengths,
                          alpha.as<V>(), dc.as<V>(), dq.as<V>(), dk.as<V>(), dv.as<V>());
  });
}

// ---- time-delay gather ----

namespace {
struct DelayDims { std::int64_t T, B, F, K, D; const std::int32_t* taps; };
DelayDims delay_dims(Args& a) {
  DelayDims d;
  d.T = a.integer("T", 1, kMaxDim); d.B = a.integer("B", 1, kMaxDim); d.F = a.integer("F", 1, kMaxDim);
  d.K = a.integer("K", 1, kMaxDim);
  a.product({d.T, d.B, d.F}, "T*B*F"); a.product({d.T, d.B, d.K, d.F}, "T*B*K*F");
  d.taps = a.ints("taps", d.K, "[K]", 0, kMaxDim);
  d.D = 0;
  for (std::int64_t k = 0; k < d.K; ++k) d.D = std::max<std::int64_t>(d.D, d.taps[k]);
  return d;
}
}  // namespace

Napi::Value TimeDelayForward(const Napi::CallbackInfo& info) {
  Args a(info, "timeDelayForward");
  DelayDims d = delay_dims(a);
  Dtype dt = a.dtype_of("x");
  FloatView x = a.floats("x", dt, d.T * d.B * d.F, "[T,B,F]");
  const std::int32_t* lengths = a.ints("lengths", d.B, "[B]", 0, d.T, false);
  Napi::Value hv = a.field("history");
  FloatView history;
  if (!hv.IsUndefined() && !hv.IsNull()) {
    a.product({d.D, d.B, d.F}, "D*B*F");
    history = a.floats("history", dt, d.D * d.B * d.F, "[D,B,F] (D = max tap)");
  }
  FloatView y = a.floats("y", dt, d.T * d.B * d.K * d.F, "[T,B,K*F]");
  a.require_finite("x", x);
  a.require_finite("history", history);
  a.require_disjoint("y", y);
  return run_void(a, dt, [=](auto t) {
    using V = decltype(t);
    time_delay_forward<V>(d.T, d.B, d.F, d.K, d.taps, d.D, x.as<V>(), lengths, history.as<V>(), y.as<V>());
  });
}

Napi::Value TimeDelayBackward(const Napi::CallbackInfo& info) {
  Args a(info, "timeDelayBackward");
  DelayDims d = delay_dims(a);
  Dtype dt = a.dtype_of("dy");
  const std::int32_t* lengths = a.ints("lengths", d.B, "[B]", 0, d.T, false);
  FloatView dy = a.floats("dy", dt, d.T * d.B * d.K * d.F, "[T,B,K*F]");
  FloatView dx = a.floats("dx", dt, d.T * d.B * d.F, "[T,B,F]", false);
  Napi::Value hv = a.field("dHistory");
  FloatView dh;
  if (!hv.IsUndefined() && !hv.IsNull()) {
    a.product({d.D, d.B, d.F}, "D*B*F");
    dh = a.floats("dHistory", dt, d.D * d.B * d.F, "[D,B,F] (D = max tap)");
  }
  a.require_finite("dy", dy);
  a.require_disjoint("dx", dx);
  a.require_disjoint("dHistory", dh);
  return run_void(a, dt, [=](auto t) {
    using V = decltype(t);
    time_delay_backward<V>(d.T, d.B, d.F, d.K, d.taps, d.D, lengths, dy.as<V>(), dx.as<V>(), dh.as<V>());
  });
}

// ---- masked losses and metrics ----

Napi::Value SigmoidBce(const Napi::CallbackInfo& info) {
  Args a(info, "sigmoidBce");
  std::int64_t N = a.integer("N", 1, kMaxDim), F = a.integer("F", 1, kMaxDim);
  a.product({N, F}, "N*F");
  double scale = a.number("scale", -1e30, 1e30, 1.0);
  Dtype dt = a.dtype_of("logits");
  FloatView logits = a.floats("logits", dt, N * F, "[N,F]");
  FloatView targets = a.floats("targets", dt, N * F, "[N,F]");
  const std::uint8_t* mask = a.bytes("mask", N, "[N]", false);
  FloatView dl = a.floats("dlogits", dt, N * F, "[N,F]", false);
  a.require_finite("logits", logits);
  a.require_finite("targets", targets);
  a.require_disjoint("dlogits", dl);
  Job job;
  job.has_result = true;
  job.work = [=]() {
    return with_dtype(dt, [&](auto t) {
      using V = decltype(t);
      return sigmoid_bce<V>(N, F, logits.as<V>(), targets.as<V>(), mask, scale, dl.as<V>());
    });
  };
  return run_job(a, std::move(job), false);
}

Napi::Value CountCorrect(const Napi::CallbackInfo& info) {
  Args a(info, "countCorrect");
  std::int64_t N = a.integer("N", 1, kMaxDim), C = a.integer("C", 1, kMaxDim);
  a.product({N, C}, "N*C");
  std::int64_t ignore = a.integer("ignoreIndex", INT32_MIN, INT32_MAX, -100);
  Dtype dt = a.dtype_of("logits");
  FloatView logits = a.floats("logits", dt, N * C, "[N,C]");
  const std::int32_t* targets = a.ints("targets", N, "[N]", 0, C - 1, true, ignore);
  const std::uint8_t* mask = a.bytes("mask", N, "[N]", false);
  return run_count(a, [=](std::int64_t* total) {
    return with_dtype(dt, [&](auto t) {
      using V = decltype(t);
      return count_correct<V>(N, C, logits.as<V>(), targets, static_cast<std::int32_t>(ignore), mask, total);
    });
  });
}

Napi::Value CountCorrectMultilabel(const Napi::CallbackInfo& info) {
  Args a(info, "countCorrectMultilabel");
  std::int64_t N = a.integer("N", 1, kMaxDim), F = a.integer("F", 1, kMaxDim);
  a.product({N, F}, "N*F");
  Dtype dt = a.dtype_of("logits");
  FloatView logits = a.floats("logits", dt, N * F, "[N,F]");
  FloatView targets = a.floats("targets", dt, N * F, "[N,F]");
  const std::uint8_t* mask = a.bytes("mask", N, "[N]", false);
  return run_count(a, [=](std::int64_t* total) {
    return with_dtype(dt, [&](auto t) {
      using V = decltype(t);
      return count_correct_multilabel<V>(N, F, logits.as<V>(), targets.as<V>(), mask, total);
    });
  });
}

}  // namespace binding
}  // namespace rnnkit
