// Element-wise ops, row ops and gradient tools: the numeric loops the TypeScript layers used to
// run themselves.
#include <algorithm>
#include <cmath>

#include "../kernels/elementwise.h"
#include "../kernels/grad_tools.h"
#include "../kernels/rows.h"
#include "bindings.h"

namespace rnnkit {
namespace binding {

namespace {
constexpr std::int64_t kMaxDim = 2147483647;
constexpr std::int64_t kMaxLen = std::int64_t(1) << 40;
constexpr double kMaxScalar = 1e30;

// A job that returns nothing.
template <typename F>
Napi::Value run_void(Args& a, Dtype dt, F body) {
  Job job;
  job.work = [=]() {
    with_dtype(dt, [&](auto t) { body(t); });
    return 0.0;
  };
  return run_job(a, std::move(job), false);
}
}  // namespace

// ---- element-wise ----

Napi::Value Axpby(const Napi::CallbackInfo& info) {
  Args a(info, "axpby");
  std::int64_t n = a.integer("n", 0, kMaxLen);
  double alpha = a.number("a", -kMaxScalar, kMaxScalar), beta = a.number("b", -kMaxScalar, kMaxScalar);
  Dtype dt = a.dtype_of("x");
  FloatView x = a.floats("x", dt, n, "[n]");
  FloatView y = a.floats("y", dt, n, "[n]");
  a.require_disjoint("y", y);
  return run_void(a, dt, [=](auto t) {
    using T = decltype(t);
    axpby<T>(n, static_cast<T>(alpha), x.as<T>(), static_cast<T>(beta), y.as<T>());
  });
}

Napi::Value Mul(const Napi::CallbackInfo& info) {
  Args a(info, "mul");
  std::int64_t n = a.integer("n", 0, kMaxLen);
  Dtype dt = a.dtype_of("x");
  FloatView x = a.floats("x", dt, n, "[n]");
  FloatView y = a.floats("y", dt, n, "[n]");
  FloatView out = a.floats("out", dt, n, "[n]");
  a.require_disjoint("out", out);
  return run_void(a, dt, [=](auto t) { using T = decltype(t); mul<T>(n, x.as<T>(), y.as<T>(), out.as<T>()); });
}

Napi::Value Scale(const Napi::CallbackInfo& info) {
  Args a(info, "scale");
  std::int64_t n = a.integer("n", 0, kMaxLen);
  double alpha = a.number("alpha", -kMaxScalar, kMaxScalar);
  Dtype dt = a.dtype_of("x");
  FloatView x = a.floats("x", dt, n, "[n]");
  return run_void(a, dt, [=](auto t) { using T = decltype(t); scale<T>(n, static_cast<T>(alpha), x.as<T>()); });
}

Napi::Value ActivationForward(const Napi::CallbackInfo& info) {
  Args a(info, "activationForward");
  ActKind kind = static_cast<ActKind>(a.choice("kind", {"tanh", "sigmoid", "relu", "identity"}));
  std::int64_t n = a.integer("n", 0, kMaxLen);
  Dtype dt = a.dtype_of("x");
  FloatView x = a.floats("x", dt, n, "[n]");
  FloatView y = a.floats("y", dt, n, "[n]");
  a.require_disjoint("y", y);
  return run_void(a, dt, [=](auto t) { using T = decltype(t); activation_forward<T>(kind, n, x.as<T>(), y.as<T>()); });
}

Napi::Value ActivationBackward(const Napi::CallbackInfo& info) {
  Args a(info, "activationBackward");
  ActKind kind = static_cast<ActKind>(a.choice("kind", {"tanh", "sigmoid", "relu", "identity"}));
  std::int64_t n = a.integer("n", 0, kMaxLen);
  Dtype dt = a.dtype_of("y");
  FloatView y = a.floats("y", dt, n, "[n] (forward output)");
  FloatView dy = a.floats("dy", dt, n, "[n]");
  FloatView dx = a.floats("dx", dt, n, "[n]");
  a.require_disjoint("dx", dx);
  return run_void(a, dt, [=](auto t) {
    using T = decltype(t);
    activation_backward<T>(kind, n, y.as<T>(), dy.as<T>(), dx.as<T>());
  });
}

// ---- rows ----

Napi::Value GatherRows(const Napi::CallbackInfo& info) {
  Args a(info, "gatherRows");
  std::int64_t R = a.integer("R", 1, kMaxDim), N = a.integer("N", 1, kMaxDim), F = a.integer("F", 1, kMaxDim);
  a.product({R, F}, "R*F"); a.product({N, F}, "N*F");
  Dtype dt = a.dtype_of("src");
  FloatView src = a.floats("src", dt, R * F, "[R,F]");
  const std::int32_t* idx = a.ints("idx", N, "[N]", 0, R - 1);
  FloatView dst = a.floats("dst", dt, N * F, "[N,F]");
  a.require_disjoint("dst", dst);
  return run_void(a, dt, [=](auto t) { using T = decltype(t); gather_rows<T>(N, F, src.as<T>(), idx, dst.as<T>()); });
}

Napi::Value ScatterAddRows(const Napi::CallbackInfo& info) {
  Args a(info, "scatterAddRows");
  std::int64_t R = a.integer("R", 1, kMaxDim), N = a.integer("N", 1, kMaxDim), F = a.integer("F", 1, kMaxDim);
  a.product({R, F}, "R*F"); a.product({N, F}, "N*F");
  Dtype dt = a.dtype_of("src");
  FloatView src = a.floats("src", dt, N * F, "[N,F]");
  const std::int32_t* idx = a.ints("idx", N, "[N]", 0, R - 1);
  FloatView dst = a.floats("dst", dt, R * F, "[R,F]");
  a.require_disjoint("dst", dst);
  return run_void(a, dt, [=](auto t) { using T = decltype(t); scatter_add_rows<T>(N, F, src.as<T>(), idx, dst.as<T>()); });
}

Napi::Value CopyCols(const Napi::CallbackInfo& info) {
  Args a(info, "copyCols");
  std::int64_t N = a.integer("N", 1, kMaxDim);
  std::int64_t srcF = a.integer("srcF", 1, kMaxDim), srcOff = a.integer("srcOffset", 0, srcF - 1);
  std::int64_t dstF = a.integer("dstF", 1, kMaxDim), dstOff = a.integer("dstOffset", 0, dstF - 1);
  std::int64_t width = a.integer("width", 1, std::min(srcF - srcOff, dstF - dstOff));
  a.product({N, srcF}, "N*srcF"); a.product({N, dstF}, "N*dstF");
  bool acc = a.boolean("accumulate", false);
  Dtype dt = a.dtype_of("src");
  FloatView src = a.floats("src", dt, N * srcF, "[N,srcF]");
  FloatView dst = a.floats("dst", dt, N * dstF, "[N,dstF]");
  a.require_disjoint("dst", dst);
  return run_void(a, dt, [=](auto t) {
    using T = decltype(t);
    copy_cols<T>(N, width, src.as<T>(), srcF, srcOff, dst.as<T>(), dstF, dstOff, acc);
  });
}

Napi::Value MergeHalves(const Napi::CallbackInfo& info) {
  Args a(info, "mergeHalves");
  std::int64_t N = a.integer("N", 1, kMaxDim), H = a.integer("H", 1, kMaxDim);
  a.product({N, H, 2}, "N*2H");
  bool mean = a.choice("mode", {"sum", "mean"}) == 1;
  Dtype dt = a.dtype_of("x");
  FloatView x = a.floats("x", dt, N * 2 * H, "[N,2H]");
  FloatView y = a.floats("y", dt, N * H, "[N,H]");
  a.require_disjoint("y", y);
  return run_void(a, dt, [=](auto t) { using T = decltype(t); merge_halves<T>(N, H, mean, x.as<T>(), y.as<T>()); });
}

Napi::Value SplitHalvesBackward(const Napi::CallbackInfo& info) {
  Args a(info, "splitHalvesBackward");
  std::int64_t N = a.integer("N", 1, kMaxDim), H = a.integer("H", 1, kMaxDim);
  a.product({N, H, 2}, "N*2H");
  bool mean = a.choice("mode", {"sum", "mean"}) == 1;
  Dtype dt = a.dtype_of("dy");
  FloatView dy = a.floats("dy", dt, N * H, "[N,H]");
  FloatView dx = a.floats("dx", dt, N * 2 * H, "[N,2H]");
  a.require_disjoint("dx", dx);
  return run_void(a, dt, [=](auto t) { using T = decltype(t); split_halves_backward<T>(N, H, mean, dy.as<T>(), dx.as<T>()); });
}

namespace {
Napi::Value SoftmaxLike(const Napi::CallbackInfo& info, const char* fn, bool log) {
  Args a(info, fn);
  std::int64_t N = a.integer("N", 1, kMaxDim), C = a.integer("C", 1, kMaxDim);
  a.product({N, C}, "N*C");
  Dtype dt = a.dtype_of("x");
  FloatView x = a.floats("x", dt, N * C, "[N,C]");
  FloatView y = a.floats("y", dt, N * C, "[N,C]");
  a.require_finite("x", x);
  a.require_disjoint("y", y);
  return run_void(a, dt, [=](auto t) {
    using T = decltype(t);
    if (log) log_softmax_rows<T>(N, C, x.as<T>(), y.as<T>());
    else softmax_rows<T>(N, C, x.as<T>(), y.as<T>());
  });
}
}  // namespace

Napi::Value SoftmaxRows(const Napi::CallbackInfo& info) { return SoftmaxLike(info, "softmaxRows", false); }
Napi::Value LogSoftmaxRows(const Napi::CallbackInfo& info) { return SoftmaxLike(info, "logSoftmaxRows", true); }

Napi::Value ArgmaxRows(const Napi::CallbackInfo& info) {
  Args a(info, "argmaxRows");
  std::int64_t N = a.integer("N", 1, kMaxDim), C = a.integer("C", 1, kMaxDim);
  a.product({N, C}, "N*C");
  Dtype dt = a.dtype_of("x");
  FloatView x = a.floats("x", dt, N * C, "[N,C]");
  std::int32_t* out = a.ints_out("out", N, "[N]");
  a.require_disjoint("out", out, N * 4);
  return run_void(a, dt, [=](auto t) { using T = decltype(t); argmax_rows<T>(N, C, x.as<T>(), out); });
}

Napi::Value TopkRows(const Napi::CallbackInfo& info) {
  Args a(info, "topkRows");
  std::int64_t N = a.integer("N", 1, kMaxDim), C = a.integer("C", 1, kMaxDim), k = a.integer("k", 1, C);
  a.product({N, C}, "N*C");
  Dtype dt = a.dtype_of("x");
  FloatView x = a.floats("x", dt, N * C, "[N,C]");
  FloatView values = a.floats("values", dt, N * k, "[N,k]");
  std::int32_t* indices = a.ints_out("indices", N * k, "[N,k]");
  a.require_finite("x", x);
  a.require_disjoint("values", values);
  a.require_disjoint("indices", indices, N * k * 4);
  return run_void(a, dt, [=](auto t) { using T = decltype(t); topk_rows<T>(N, C, k, x.as<T>(), values.as<T>(), indices); });
}

// ---- gradient tools ----

Napi::Value ClipByValue(const Napi::CallbackInfo& info) {
  Args a(info, "clipByValue");
  std::int64_t n = a.integer("n", 0, kMaxLen);
  double value = a.number("value", 0, kMaxScalar);
  Dtype dt = a.dtype_of("x");
  FloatView x = a.floats("x", dt, n, "[n]");
  return run_void(a, dt, [=](auto t) { using T = decltype(t); clip_by_value<T>(n, x.as<T>(), static_cast<T>(value)); });
}

Napi::Value ClipByNorm(const Napi::CallbackInfo& info) {
  Args a(info, "clipByNorm");
  std::int64_t n = a.integer("n", 0, kMaxLen);
  double max_norm = a.number("maxNorm", 0, kMaxScalar);
  Dtype dt = a.dtype_of("x");
  FloatView x = a.floats("x", dt, n, "[n]");
  Job job;
  job.has_result = true;
  job.work = [=]() {
    return with_dtype(dt, [&](auto t) { using T = decltype(t); return clip_by_norm<T>(n, x.as<T>(), max_norm); });
  };
  return run_job(a, std::move(job), false);
}

Napi::Value AllFinite(const Napi::CallbackInfo& info) {
  Args a(info, "allFinite");
  Dtype dt = a.dtype_of("x");
  FloatView x = a.floats("x", dt, -1, "[n]");
  Job job;
  job.has_result = true;
  job.work = [=]() {
    return with_dtype(dt, [&](auto t) { using T = decltype(t); return all_finite<T>(x.length, x.as<T>()) ? 1.0 : 0.0; });
  };
  job.to_js = [](Napi::Env env, double r) -> Napi::Value { return Napi::Boolean::New(env, r != 0); };
  return run_job(a, std::move(job), false);
}

Napi::Value AddSign(const Napi::CallbackInfo& info) {
  Args a(info, "addSign");
  std::int64_t n = a.integer("n", 0, kMaxLen);
  double alpha = a.number("alpha", -kMaxScalar, kMaxScalar);
  Dtype dt = a.dtype_of("p");
  FloatView p = a.floats("p", dt, n, "[n]");
  FloatView g = a.floats("g", dt, n, "[n]");
  a.require_disjoint("g", g);
  return run_void(a, dt, [=](auto t) { using T = decltype(t); add_sign<T>(n, static_cast<T>(alpha), p.as<T>(), g.as<T>()); });
}

}  // namespace binding
}  // namespace rnnkit
