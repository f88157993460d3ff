// Linear, embedding, losses, dropout masks, norms, GEMM and optimizer steps.
#include <cmath>

#include "../kernels/gemm.h"
#include "../kernels/losses.h"
#include "../kernels/ops.h"
#include "../kernels/optim.h"
#include "bindings.h"

namespace rnnkit {
namespace binding {

namespace {
constexpr std::int64_t kMaxDim = 2147483647;
}

Napi::Value LinearForward(const Napi::CallbackInfo& info) {
  Args a(info, "linearForward");
  std::int64_t N = a.integer("N", 1, kMaxDim), I = a.integer("I", 1, kMaxDim), O = a.integer("O", 1, kMaxDim);
  a.product({N, I}, "N*I"); a.product({N, O}, "N*O"); a.product({O, I}, "O*I");
  Dtype dt = a.dtype_of("x");
  FloatView x = a.floats("x", dt, N * I, "[N,I]");
  FloatView w = a.floats("weight", dt, O * I, "[O,I]");
  FloatView b = a.floats("bias", dt, O, "[O]", false);
  FloatView y = a.floats("y", dt, N * O, "[N,O]");
  a.require_finite("x", x);
  a.require_disjoint("y", y);
  Job job;
  job.work = [=]() {
    with_dtype(dt, [&](auto t) { using T = decltype(t); linear_forward<T>(N, I, O, x.as<T>(), w.as<T>(), b.as<T>(), y.as<T>()); });
    return 0.0;
  };
  job.macs = static_cast<double>(N) * I * O;
  return run_job(a, std::move(job), false);
}

Napi::Value LinearBackward(const Napi::CallbackInfo& info) {
  Args a(info, "linearBackward");
  std::int64_t N = a.integer("N", 1, kMaxDim), I = a.integer("I", 1, kMaxDim), O = a.integer("O", 1, kMaxDim);
  a.product({N, I}, "N*I"); a.product({N, O}, "N*O"); a.product({O, I}, "O*I");
  Dtype dt = a.dtype_of("x");
  FloatView x = a.floats("x", dt, N * I, "[N,I]");
  FloatView w = a.floats("weight", dt, O * I, "[O,I]");
  FloatView dy = a.floats("dy", dt, N * O, "[N,O]");
  FloatView dx = a.floats("dx", dt, N * I, "[N,I]", false);
  FloatView dw = a.floats("dWeight", dt, O * I, "[O,I]");
  FloatView db = a.floats("dBias", dt, O, "[O]", false);
  a.require_finite("dy", dy);
  a.require_disjoint("dx", dx); a.require_disjoint("dWeight", dw); a.require_disjoint("dBias", db);
  Job job;
  job.work = [=]() {
    with_dtype(dt, [&](auto t) {
      using T = decltype(t);
      linear_backward<T>(N, I, O, x.as<T>(), w.as<T>(), dy.as<T>(), dx.as<T>(), dw.as<T>(), db.as<T>());
    });
    return 0.0;
  };
  return run_job(a, std::move(job), false);
}

Napi::Value EmbeddingForward(const Napi::CallbackInfo& info) {
  Args a(info, "embeddingForward");
  std::int64_t N = a.integer("N", 1, kMaxDim), V = a.integer("V", 1, kMaxDim), E = a.integer("E", 1, kMaxDim);
  a.product({N, E}, "N*E"); a.product({V, E}, "V*E");
  Dtype dt = a.dtype_of("weight");
  const std::int32_t* ids = a.ints("ids", N, "[N]", 0, V - 1);
  FloatView w = a.floats("weight", dt, V * E, "[V,E]");
  FloatView y = a.floats("y", dt, N * E, "[N,E]");
  a.require_disjoint("y", y);
  Job job;
  job.work = [=]() {
    with_dtype(dt, [&](auto t) { using T = decltype(t); embedding_forward<T>(N, E, ids, w.as<T>(), y.as<T>()); });
    return 0.0;
  };
  return run_job(a, std::move(job), false);
}

Napi::Value EmbeddingBackward(const Napi::CallbackInfo& info) {
  Args a(info, "embeddingBackward");
  std::int64_t N = a.integer("N", 1, kMaxDim), V = a.integer("V", 1, kMaxDim), E = a.integer("E", 1, kMaxDim);
  a.product({N, E}, "N*E"); a.product({V, E}, "V*E");
  std::int64_t pad = a.integer("paddingIdx", -1, V - 1, -1);
  Dtype dt = a.dtype_of("dy");
  const std::int32_t* ids = a.ints("ids", N, "[N]", 0, V - 1);
  FloatView dy = a.floats("dy", dt, N * E, "[N,E]");
  FloatView dw = a.floats("dWeight", dt, V * E, "[V,E]");
  a.require_finite("dy", dy);
  a.require_disjoint("dWeight", dw);
  Job job;
  job.work = [=]() {
    with_dtype(dt, [&](auto t) {
      using T = decltype(t);
      embedding_backward<T>(N, E, ids, static_cast<std::int32_t>(pad), dy.as<T>(), dw.as<T>());
    });
    return 0.0;
  };
  return run_job(a, std::move(job), false);
}

Napi::Value SoftmaxCrossEntropy(const Napi::CallbackInfo& info) {
  Args a(info, "softmaxCrossEntropy");
  std::int64_t N = a.integer("N", 1, kMaxDim), C = a.integer("C", 1, kMaxDim);
  a.product({N, C}, "N*C");
  std::int64_t ignore = a.integer("ignoreIndex", INT32_MIN, INT32_MAX, -100);
  double scale = a.number("scale", -1e30, 1e30, 1.0);
  Dtype dt = a.dtype_of("logits");
  FloatView logits = a.floats("logits", dt, N * C, "[N,C]");
  const std::int32_t* targets = a.ints("targets", N, "[N]", 0, C - 1, true, ignore);
  FloatView weights = a.floats("weights", dt, C, "[C]", false);
  const std::uint8_t* mask = a.bytes("mask", N, "[N]", false);
  FloatView dl = a.floats("dlogits", dt, N * C, "[N,C]", false);
  a.require_finite("logits", logits);
  a.require_finite("weights", weights);
  a.require_disjoint("dlogits", dl);
  Job job;
  job.has_result = true;
  job.work = [=]() {
    return with_dtype(dt, [&](auto t) {
      using T = decltype(t);
      return softmax_cross_entropy<T>(N, C, logits.as<T>(), targets, weights.as<T>(),
                                      static_cast<std::int32_t>(ignore), mask, static_cast<T>(scale), dl.as<T>());
    });
  };
  return run_job(a, std::move(job), false);
}

Napi::Value MseLoss(const Napi::CallbackInfo& info) {
  Args a(info, "mseLoss");
  std::int64_t n = a.integer("n", 1, std::int64_t(1) << 40);
  // Optional row structure: F features per row, rows masked by mask [n/F].
  std::int64_t F = a.integer("F", 1, n, 1);
  if (n % F != 0) a.fail_range("F", "a divisor of n = " + std::to_string(n), "number " + std::to_string(F));
  double scale = a.number("scale", -1e30, 1e30, 1.0);
  Dtype dt = a.dtype_of("pred");
  FloatView pred = a.floats("pred", dt, n, "[n]");
  FloatView target = a.floats("target", dt, n, "[n]");
  const std::uint8_t* mask = a.bytes("mask", n / F, "[N] (N = n/F)", false);
  FloatView dpred = a.floats("dpred", dt, n, "[n]", false);
  a.require_finite("pred", pred);
  a.require_finite("target", target);
  a.require_disjoint("dpred", dpred);
  Job job;
  job.has_result = true;
  job.work = [=]() {
    return with_dtype(dt, [&](auto t) {
      using T = decltype(t);
      if (mask) return masked_mse<T>(n / F, F, pred.as<T>(), target.as<T>(), mask, scale, dpred.as<T>());
      return mse_loss<T>(n, pred.as<T>(), target.as<T>(), static_cast<T>(scale), dpred.as<T>());
    });
  };
  return run_job(a, std::move(job), false);
}

Napi::Value DropoutMask(const Napi::CallbackInfo& info) {
  Args a(info, "dropoutMask");
  double p = a.number("p", 0.0, 1.0);
  // Seeds are integers up to 2^53 so they survive the trip through a JS number.
  std::int64_t seed = a.integer("seed", 0, (std::int64_t(1) << 53));
  Dtype dt = a.dtype_of("mask");
  FloatView mask = a.floats("mask", dt, -1, "[n]");
  Job job;
  job.work = [=]() {
    with_dtype(dt, [&](auto t) { using T = decltype(t); dropout_mask<T>(mask.length, p, static_cast<std::uint64_t>(seed), mask.as<T>()); });
    return 0.0;
  };
  return run_job(a, std::move(job), false);
}

Napi::Value L2Norm(const Napi::CallbackInfo& info) {
  Args a(info, "l2Norm");
  Dtype dt = a.dtype_of("x");
  FloatView x = a.floats("x", dt, -1, "[n]");
  Job job;
  job.has_result = true;
  job.work = [=]() {
    return with_dtype(dt, [&](auto t) { using T = decltype(t); return l2_norm<T>(x.length, x.as<T>()); });
  };
  return run_job(a, std::move(job), false);
}

Napi::Value Gemm(const Napi::CallbackInfo& info) {
  Args a(info, "gemm");
  std::int64_t M = a.integer("M", 1, kMaxDim), N = a.integer("N", 1, kMaxDim), K = a.integer("K", 1, kMaxDim);
  a.product({M, K}, "M*K"); a.product({K, N}, "K*N"); a.product({M, N}, "M*N");
  bool ta = a.boolean("transA", false), tb = a.boolean("transB", false);
  double alpha = a.number("alpha", -1e30, 1e30, 1.0), beta = a.number("beta", -1e30, 1e30, 0.0);
  Dtype dt = a.dtype_of("a");
  FloatView A = a.floats("a", dt, M * K, ta ? "[K,M]" : "[M,K]");
  FloatView B = a.floats("b", dt, K * N, tb ? "[N,K]" : "[K,N]");
  FloatView C = a.floats("c", dt, M * N, "[M,N]");
  a.require_disjoint("c", C);
  Job job;
  job.work = [=]() {
    with_dtype(dt, [&](auto t) {
      using T = decltype(t);
      gemm<T>(ta, tb, M, N, K, static_cast<T>(alpha), A.as<T>(), ta ? M : K, B.as<T>(), tb ? K : N,
              static_cast<T>(beta), C.as<T>(), N);
    });
    return 0.0;
  };
  return run_job(a, std::move(job), false);
}

Napi::Value OptimStateCount(const Napi::CallbackInfo& info) {
  Args a(info, "optimStateCount");
  int k = a.choice("kind", {"sgd", "adam", "adamw", "rmsprop", "adagrad"});
  a.check_unknown_fields();
  return Napi::Number::New(info.Env(), optim_state_count(static_cast<OptimKind>(k)));
}

Napi::Value OptimStep(const Napi::CallbackInfo& info, bool async) {
  Args a(info, async ? "optimStepAsync" : "optimStep", async);
  OptimKind kind = static_cast<OptimKind>(a.choice("kind", {"sgd", "adam", "adamw", "rmsprop", "adagrad"}));
  OptimHyper h;
  h.lr = a.number("lr", 0, 1e6);
  h.weight_decay = a.number("weightDecay", 0, 1e6, 0);
  h.momentum = a.number("momentum", 0, 1e6, 0);
  h.dampening = a.number("dampening", 0, 1, 0);
  h.nesterov = a.boolean("nesterov", false);
  if (h.nesterov && (h.momentum <= 0 || h.dampening != 0))
    a.fail_range("nesterov", "used with momentum > 0 and dampening 0",
                 "momentum " + std::to_string(h.momentum) + ", dampening " + std::to_string(h.dampening));
  h.beta1 = a.number("beta1", 0, 0.999999999, 0.9);
  h.beta2 = a.number("beta2", 0, 0.999999999, 0.999);
  h.eps = a.number("eps", 0, 1, kind == OptimKind::Adagrad ? 1e-10 : 1e-8);
  h.alpha = a.number("alpha", 0, 1, 0.99);
  h.centered = a.boolean("centered", false);
  h.lr_decay = a.number("lrDecay", 0, 1e6, 0);
  long step = static_cast<long>(a.integer("step", 1, std::int64_t(1) << 50));
  Dtype dt = a.dtype_of("params");
  FloatView p = a.floats("params", dt, -1, "[n]");
  const std::int64_t n = p.length;
  FloatView g = a.floats("grads", dt, n, "[n] (like params)");
  a.require_finite("grads", g);
  const int count = optim_state_count(kind);
  const std::string expected = "an Array of " + std::to_string(count) + " buffers like params";
  std::vector<Napi::Value> sv = a.elements("state", expected);
  if (sv.size() != static_cast<std::size_t>(count)) a.fail_type("state", expected, describe(a.field("state")));
  std::vector<FloatView> st;
  for (int i = 0; i < count; ++i)
    st.push_back(a.floats_value(sv[i], "state[" + std::to_string(i) + "]", dt, n, "[n]"));
  a.require_disjoint("params", p);
  for (int i = 0; i < count; ++i) a.require_disjoint(("state[" + std::to_string(i) + "]").c_str(), st[i]);
  Job job;
  job.work = [=]() {
    with_dtype(dt, [&](auto t) {
      using T = decltype(t);
      T* bufs[3] = {nullptr, nullptr, nullptr};
      for (int i = 0; i < count; ++i) bufs[i] = st[i].as<T>();
      optim_step<T>(kind, h, step, n, p.as<T>(), g.as<T>(), bufs);
    });
    return 0.0;
  };
  return run_job(a, std::move(job), async);
}

}  // namespace binding
}  // namespace rnnkit
