// linearForward/Backward, embeddingForward/Backward, softmaxCrossEntropy, mseLoss, sigmoidBce,
// countCorrect, countCorrectMultilabel, optimStep, clipByValue, clipByNorm, addSign: the CPU
// addon's argument names, ranges, defaults and messages (native/binding/ops_binding.cpp,
// layer_ops_binding.cpp, tensor_ops_binding.cpp).
#include <climits>
#include <cmath>
#include <sstream>
#include <vector>

#include "../train_ops.h"
#include "ops.h"

namespace rnnkit {
namespace cuda {
namespace {

constexpr std::int64_t kMaxLen = kMaxElements;
constexpr std::int64_t kMaxDimCpu = 2147483647;  // the CPU's bound on N, I, O, V, E, C, F
constexpr double kMaxScalar = 1e30;

std::string num(double v) {  // as JavaScript prints numbers, like the CPU's messages
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

Napi::Value field(const Napi::CallbackInfo& info, const char* name) { return info[0].As<Napi::Object>().Get(name); }

// The CPU's optional fields take their default only when undefined (null is refused).
double number_in(DeviceArgs& a, const Napi::CallbackInfo& info, const char* name, double lo, double hi, double dflt,
                 bool required = false) {
  a.has(name);  // marks it read
  Napi::Value v = field(info, name);
  if (v.IsUndefined() && !required) return dflt;
  const std::string expected = "a finite number in [" + num(lo) + ", " + num(hi) + "]";
  if (!v.IsNumber()) a.fail_type(name, expected, describe(v));
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d < lo || d > hi) a.fail_range(name, expected, describe(v));
  return d;
}

// One element of an Array of tensor references (optimStep's state), checked as DeviceArgs::buf does.
DevBuf element_buf(DeviceArgs& a, Napi::Value v, const std::string& name, DType dtype, std::size_t count) {
  const std::string expected =
      std::string("a ") + dtype_name(dtype) + " cuda tensor of " + std::to_string(count) + " elements";
  if (!v.IsArray() || v.As<Napi::Array>().Length() != 4) a.fail_type(name, expected, describe(v));
  Napi::Array r = v.As<Napi::Array>();
  Block* b = unwrap_block(a.env(), r.Get(0u), a.fn() + ": " + name);
  Napi::Value off = r.Get(1u), len = r.Get(2u), dt = r.Get(3u);
  if (!off.IsNumber() || !len.IsNumber() || !dt.IsNumber()) a.fail_type(name, expected, "a malformed tensor reference");
  const double o = off.As<Napi::Number>().DoubleValue(), l = len.As<Napi::Number>().DoubleValue();
  const int d = dt.As<Napi::Number>().Int32Value();
  if (d != static_cast<int>(dtype))
    a.fail_type(name, expected, std::string("a ") + dtype_name(static_cast<DType>(d & 3)) + " tensor");
  if (l != static_cast<double>(count)) a.fail_range(name, expected, std::to_string(static_cast<long long>(l)) + " elements");
  const double end = o + l * static_cast<double>(dtype_size(dtype));
  if (!(o >= 0) || o != std::floor(o) || end > static_cast<double>(b->bytes))
    a.fail_range(name, "a range inside its memory block of " + std::to_string(b->bytes) + " bytes",
                 "bytes [" + std::to_string(static_cast<long long>(o)) + ", " +
                     std::to_string(static_cast<long long>(end)) + ")");
  DevBuf out;
  out.p = static_cast<char*>(b->p) + static_cast<std::size_t>(o);
  out.n = count;
  out.dtype = dtype;
  return out;
}

// Outputs that overlap another buffer of the call are refused, as the CPU's require_disjoint.
class Buffers {
 public:
  explicit Buffers(DeviceArgs& a) : a_(a) {}
  const DevBuf& add(const std::string& name, const DevBuf& b) {
    list_.push_back({name, b});
    return b;
  }
  void disjoint(const std::string& name) { require_disjoint(a_, name, list_); }

 private:
  DeviceArgs& a_;
  std::vector<NamedBuf> list_;
};

// After a loss came back non-finite: the CPU's refusal of the first non-finite input, with its
// code (the trainers tell bad input from divergence by it), or nothing when every input is finite.
void refuse_non_finite(DeviceArgs& a, std::initializer_list<std::pair<const char*, DevBuf>> inputs) {
  for (const auto& in : inputs) {
    if (!in.second.p) continue;
    double v = 0;
    index_t i = -1;
    with_float(in.second.dtype, [&](auto t) {
      using T = decltype(t);
      i = first_non_finite<T>(static_cast<index_t>(in.second.n), in.second.as<T>(), &v);
    });
    if (i < 0) continue;
    Napi::Error e = Napi::RangeError::New(a.env(), a.fn() + ": " + in.first + "[" + std::to_string(i) +
                                                       "] must be a finite number, received number " + num(v));
    e.Set("code", Napi::String::New(a.env(), "ERR_RNNKIT_NON_FINITE"));
    throw e;
  }
}

// ---- linear and embedding ----

Napi::Value LinearForward(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "linearForward");
  const std::int64_t N = a.integer("N", 1, kMaxDimCpu), I = a.integer("I", 1, kMaxDimCpu), O = a.integer("O", 1, kMaxDimCpu);
  a.product({N, I}, "N*I");
  a.product({N, O}, "N*O");
  a.product({O, I}, "O*I");
  const DType dt = a.float_dtype("x");
  Buffers bs(a);
  const DevBuf x = bs.add("x", a.buf("x", dt, n(N * I)));
  const DevBuf w = bs.add("weight", a.buf("weight", dt, n(O * I)));
  const DevBuf b = bs.add("bias", a.opt_buf("bias", dt, n(O)));
  const DevBuf y = bs.add("y", a.buf("y", dt, n(N * O)));
  a.check_unknown_fields();
  bs.disjoint("y");
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    linear_forward<T>(N, I, O, x.as<T>(), w.as<T>(), b.as<T>(), y.as<T>());
  });
  return info.Env().Undefined();
}

Napi::Value LinearBackward(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "linearBackward");
  const std::int64_t N = a.integer("N", 1, kMaxDimCpu), I = a.integer("I", 1, kMaxDimCpu), O = a.integer("O", 1, kMaxDimCpu);
  a.product({N, I}, "N*I");
  a.product({N, O}, "N*O");
  a.product({O, I}, "O*I");
  const DType dt = a.float_dtype("x");
  Buffers bs(a);
  const DevBuf x = bs.add("x", a.buf("x", dt, n(N * I)));
  const DevBuf w = bs.add("weight", a.buf("weight", dt, n(O * I)));
  const DevBuf dy = bs.add("dy", a.buf("dy", dt, n(N * O)));
  const DevBuf dx = bs.add("dx", a.opt_buf("dx", dt, n(N * I)));
  const DevBuf dw = bs.add("dWeight", a.buf("dWeight", dt, n(O * I)));
  const DevBuf db = bs.add("dBias", a.opt_buf("dBias", dt, n(O)));
  a.check_unknown_fields();
  bs.disjoint("dx");
  bs.disjoint("dWeight");
  bs.disjoint("dBias");
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    linear_backward<T>(N, I, O, x.as<T>(), w.as<T>(), dy.as<T>(), dx.as<T>(), dw.as<T>(), db.as<T>());
  });
  return info.Env().Undefined();
}

Napi::Value EmbeddingForward(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "embeddingForward");
  const std::int64_t N = a.integer("N", 1, kMaxDimCpu), V = a.integer("V", 1, kMaxDimCpu), E = a.integer("E", 1, kMaxDimCpu);
  a.product({N, E}, "N*E");
  a.product({V, E}, "V*E");
  const DType dt = a.float_dtype("weight");
  Buffers bs(a);
  const DevBuf ids = bs.add("ids", a.buf("ids", DType::I32, n(N)));
  const DevBuf w = bs.add("weight", a.buf("weight", dt, n(V * E)));
  const DevBuf y = bs.add("y", a.buf("y", dt, n(N * E)));
  a.check_unknown_fields();
  bs.disjoint("y");
  host_ints(a, "ids", ids, 0, V - 1);
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    embedding_forward<T>(N, E, ids.as<std::int32_t>(), w.as<T>(), y.as<T>());
  });
  return info.Env().Undefined();
}

Napi::Value EmbeddingBackward(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "embeddingBackward");
  const std::int64_t N = a.integer("N", 1, kMaxDimCpu), V = a.integer("V", 1, kMaxDimCpu), E = a.integer("E", 1, kMaxDimCpu);
  a.product({N, E}, "N*E");
  a.product({V, E}, "V*E");
  const std::int64_t pad = a.integer_or("paddingIdx", -1, V - 1, -1);
  const DType dt = a.float_dtype("dy");
  Buffers bs(a);
  const DevBuf ids = bs.add("ids", a.buf("ids", DType::I32, n(N)));
  const DevBuf dy = bs.add("dy", a.buf("dy", dt, n(N * E)));
  const DevBuf dw = bs.add("dWeight", a.buf("dWeight", dt, n(V * E)));
  a.check_unknown_fields();
  bs.disjoint("dWeight");
  const std::vector<std::int32_t> host_ids = host_ints(a, "ids", ids, 0, V - 1);
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    embedding_backward<T>(N, E, host_ids.data(), static_cast<std::int32_t>(pad), dy.as<T>(), dw.as<T>());
  });
  return info.Env().Undefined();
}

// ---- losses and metrics ----

Napi::Value SoftmaxCrossEntropy(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "softmaxCrossEntropy");
  const std::int64_t N = a.integer("N", 1, kMaxDimCpu), C = a.integer("C", 1, kMaxDimCpu);
  a.product({N, C}, "N*C");
  const std::int64_t ignore = a.integer_or("ignoreIndex", INT32_MIN, INT32_MAX, -100);
  const double scale = number_in(a, info, "scale", -kMaxScalar, kMaxScalar, 1.0);
  const DType dt = a.float_dtype("logits");
  Buffers bs(a);
  const DevBuf logits = bs.add("logits", a.buf("logits", dt, n(N * C)));
  const DevBuf targets = bs.add("targets", a.buf("targets", DType::I32, n(N)));
  const DevBuf weights = bs.add("weights", a.opt_buf("weights", dt, n(C)));
  const DevBuf mask = bs.add("mask", a.opt_buf("mask", DType::U8, n(N)));
  const DevBuf dl = bs.add("dlogits", a.opt_buf("dlogits", dt, n(N * C)));
  a.check_unknown_fields();
  bs.disjoint("dlogits");
  host_ints(a, "targets", targets, 0, C - 1, ignore);
  double loss = 0;
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    loss = softmax_cross_entropy<T>(N, C, logits.as<T>(), targets.as<std::int32_t>(), weights.as<T>(),
                                    static_cast<std::int32_t>(ignore), mask.as<std::uint8_t>(), static_cast<T>(scale),
                                    dl.as<T>());
  });
  if (!std::isfinite(loss)) refuse_non_finite(a, {{"logits", logits}, {"weights", weights}});
  return Napi::Number::New(info.Env(), loss);
}

Napi::Value MseLoss(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "mseLoss");
  const std::int64_t len = a.integer("n", 1, kMaxLen);
  // Optional row structure: F features per row, rows masked by mask [n/F].
  const std::int64_t F = a.integer_or("F", 1, len, 1);
  if (len % F != 0) a.fail_range("F", "a divisor of n = " + std::to_string(len), "number " + std::to_string(F));
  const double scale = number_in(a, info, "scale", -kMaxScalar, kMaxScalar, 1.0);
  const DType dt = a.float_dtype("pred");
  Buffers bs(a);
  const DevBuf pred = bs.add("pred", a.buf("pred", dt, n(len)));
  const DevBuf target = bs.add("target", a.buf("target", dt, n(len)));
  const DevBuf mask = bs.add("mask", a.opt_buf("mask", DType::U8, n(len / F)));
  const DevBuf dpred = bs.add("dpred", a.opt_buf("dpred", dt, n(len)));
  a.check_unknown_fields();
  bs.disjoint("dpred");
  double loss = 0;
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    loss = mask.p ? masked_mse<T>(len / F, F, pred.as<T>(), target.as<T>(), mask.as<std::uint8_t>(), scale, dpred.as<T>())
                  : mse_loss<T>(len, pred.as<T>(), target.as<T>(), static_cast<T>(scale), dpred.as<T>());
  });
  if (!std::isfinite(loss)) refuse_non_finite(a, {{"pred", pred}, {"target", target}});
  return Napi::Number::New(info.Env(), loss);
}

Napi::Value SigmoidBce(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "sigmoidBce");
  const std::int64_t N = a.integer("N", 1, kMaxDimCpu), F = a.integer("F", 1, kMaxDimCpu);
  a.product({N, F}, "N*F");
  const double scale = number_in(a, info, "scale", -kMaxScalar, kMaxScalar, 1.0);
  const DType dt = a.float_dtype("logits");
  Buffers bs(a);
  const DevBuf logits = bs.add("logits", a.buf("logits", dt, n(N * F)));
  const DevBuf targets = bs.add("targets", a.buf("targets", dt, n(N * F)));
  const DevBuf mask = bs.add("mask", a.opt_buf("mask", DType::U8, n(N)));
  const DevBuf dl = bs.add("dlogits", a.opt_buf("dlogits", dt, n(N * F)));
  a.check_unknown_fields();
  bs.disjoint("dlogits");
  double loss = 0;
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    loss = sigmoid_bce<T>(N, F, logits.as<T>(), targets.as<T>(), mask.as<std::uint8_t>(), scale, dl.as<T>());
  });
  if (!std::isfinite(loss)) refuse_non_finite(a, {{"logits", logits}, {"targets", targets}});
  return Napi::Number::New(info.Env(), loss);
}

Napi::Value count_result(Napi::Env env, std::int64_t correct, std::int64_t total) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("correct", static_cast<double>(correct));
  o.Set("total", static_cast<double>(total));
  return o;
}

Napi::Value CountCorrect(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "countCorrect");
  const std::int64_t N = a.integer("N", 1, kMaxDimCpu), C = a.integer("C", 1, kMaxDimCpu);
  a.product({N, C}, "N*C");
  const std::int64_t ignore = a.integer_or("ignoreIndex", INT32_MIN, INT32_MAX, -100);
  const DType dt = a.float_dtype("logits");
  const DevBuf logits = a.buf("logits", dt, n(N * C));
  const DevBuf targets = a.buf("targets", DType::I32, n(N));
  const DevBuf mask = a.opt_buf("mask", DType::U8, n(N));
  a.check_unknown_fields();
  host_ints(a, "targets", targets, 0, C - 1, ignore);
  std::int64_t correct = 0, total = 0;
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    correct = count_correct<T>(N, C, logits.as<T>(), targets.as<std::int32_t>(), static_cast<std::int32_t>(ignore),
                               mask.as<std::uint8_t>(), &total);
  });
  return count_result(info.Env(), correct, total);
}

Napi::Value CountCorrectMultilabel(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "countCorrectMultilabel");
  const std::int64_t N = a.integer("N", 1, kMaxDimCpu), F = a.integer("F", 1, kMaxDimCpu);
  a.product({N, F}, "N*F");
  const DType dt = a.float_dtype("logits");
  const DevBuf logits = a.buf("logits", dt, n(N * F));
  const DevBuf targets = a.buf("targets", dt, n(N * F));
  const DevBuf mask = a.opt_buf("mask", DType::U8, n(N));
  a.check_unknown_fields();
  std::int64_t correct = 0, total = 0;
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    correct = count_correct_multilabel<T>(N, F, logits.as<T>(), targets.as<T>(), mask.as<std::uint8_t>(), &total);
  });
  return count_result(info.Env(), correct, total);
}

// ---- optimizer step ----

Napi::Value OptimStep(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "optimStep");
  const int kind = a.choice("kind", {"sgd", "adam", "adamw", "rmsprop", "adagrad"});
  OptimHyperParams h;
  h.lr = number_in(a, info, "lr", 0, 1e6, 0, true);
  h.weight_decay = number_in(a, info, "weightDecay", 0, 1e6, 0);
  h.momentum = number_in(a, info, "momentum", 0, 1e6, 0);
  h.dampening = number_in(a, info, "dampening", 0, 1, 0);
  h.nesterov = a.boolean_or("nesterov", false);
  if (h.nesterov && (h.momentum <= 0 || h.dampening != 0))
    a.fail_range("nesterov", "used with momentum > 0 and dampening 0",
                 "momentum " + std::to_string(h.momentum) + ", dampening " + std::to_string(h.dampening));
  h.beta1 = number_in(a, info, "beta1", 0, 0.999999999, 0.9);
  h.beta2 = number_in(a, info, "beta2", 0, 0.999999999, 0.999);
  h.eps = number_in(a, info, "eps", 0, 1, kind == 4 ? 1e-10 : 1e-8);
  h.alpha = number_in(a, info, "alpha", 0, 1, 0.99);
  h.centered = a.boolean_or("centered", false);
  h.lr_decay = number_in(a, info, "lrDecay", 0, 1e6, 0);
  const long step = static_cast<long>(a.integer("step", 1, std::int64_t(1) << 50));
  const DType dt = a.float_dtype("params");
  Buffers bs(a);
  const DevBuf p = bs.add("params", a.buf("params", dt, a.whole("params")));
  const DevBuf g = bs.add("grads", a.buf("grads", dt, p.n));
  const int count = optim_state_buffers(kind);
  const std::string expected = "an Array of " + std::to_string(count) + " buffers like params";
  a.has("state");
  Napi::Value sv = field(info, "state");
  if (!sv.IsArray() || sv.As<Napi::Array>().Length() != static_cast<std::uint32_t>(count))
    a.fail_type("state", expected, describe(sv));
  std::vector<DevBuf> st;
  for (int i = 0; i < count; ++i) {
    const std::string name = "state[" + std::to_string(i) + "]";
    st.push_back(bs.add(name, element_buf(a, sv.As<Napi::Array>().Get(static_cast<std::uint32_t>(i)), name, dt, p.n)));
  }
  a.check_unknown_fields();
  bs.disjoint("params");
  for (int i = 0; i < count; ++i) bs.disjoint("state[" + std::to_string(i) + "]");
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    T* bufs[3] = {nullptr, nullptr, nullptr};
    for (int i = 0; i < count; ++i) bufs[i] = st[i].as<T>();
    optim_step<T>(kind, h, step, static_cast<index_t>(p.n), p.as<T>(), g.as<T>(), bufs);
  });
  return info.Env().Undefined();
}

// ---- gradient tools ----

Napi::Value ClipByValue(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "clipByValue");
  const std::int64_t len = a.integer("n", 0, kMaxLen);
  const double value = number_in(a, info, "value", 0, kMaxScalar, 0, true);
  const DType dt = a.float_dtype("x");
  const DevBuf x = a.buf("x", dt, n(len));
  a.check_unknown_fields();
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    clip_by_value<T>(len, x.as<T>(), static_cast<T>(value));
  });
  return info.Env().Undefined();
}

Napi::Value ClipByNorm(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "clipByNorm");
  const std::int64_t len = a.integer("n", 0, kMaxLen);
  const double max_norm = number_in(a, info, "maxNorm", 0, kMaxScalar, 0, true);
  const DType dt = a.float_dtype("x");
  const DevBuf x = a.buf("x", dt, n(len));
  a.check_unknown_fields();
  double norm = 0;
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    norm = clip_by_norm<T>(len, x.as<T>(), max_norm);
  });
  return Napi::Number::New(info.Env(), norm);
}

Napi::Value AddSign(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "addSign");
  const std::int64_t len = a.integer("n", 0, kMaxLen);
  const double alpha = number_in(a, info, "alpha", -kMaxScalar, kMaxScalar, 0, true);
  const DType dt = a.float_dtype("p");
  Buffers bs(a);
  const DevBuf p = bs.add("p", a.buf("p", dt, n(len)));
  const DevBuf g = bs.add("g", a.buf("g", dt, n(len)));
  a.check_unknown_fields();
  bs.disjoint("g");
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    add_sign<T>(len, static_cast<T>(alpha), p.as<T>(), g.as<T>());
  });
  return info.Env().Undefined();
}

}  // namespace

RNNKIT_CUDA_OP("linearForward", LinearForward);
RNNKIT_CUDA_OP("linearBackward", LinearBackward);
RNNKIT_CUDA_OP("embeddingForward", EmbeddingForward);
RNNKIT_CUDA_OP("embeddingBackward", EmbeddingBackward);
RNNKIT_CUDA_OP("softmaxCrossEntropy", SoftmaxCrossEntropy);
RNNKIT_CUDA_OP("mseLoss", MseLoss);
RNNKIT_CUDA_OP("sigmoidBce", SigmoidBce);
RNNKIT_CUDA_OP("countCorrect", CountCorrect);
RNNKIT_CUDA_OP("countCorrectMultilabel", CountCorrectMultilabel);
RNNKIT_CUDA_OP("optimStep", OptimStep);
RNNKIT_CUDA_OP("clipByValue", ClipByValue);
RNNKIT_CUDA_OP("clipByNorm", ClipByNorm);
RNNKIT_CUDA_OP("addSign", AddSign);

}  // namespace cuda
}  // namespace rnnkit
