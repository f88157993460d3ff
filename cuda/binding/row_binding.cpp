// gatherRows, scatterAddRows, copyCols, mergeHalves, splitHalvesBackward, softmaxRows,
// logSoftmaxRows, argmaxRows, topkRows, timePoolForward and timePoolBackward, with the CPU
// addon's fields, bounds and checks (native/binding/tensor_ops_binding.cpp, layer_ops_binding.cpp):
// ids, lengths and argmax steps are copied to the host and range-checked (a bad one would make a
// kernel write outside its buffer), inputs the CPU requires finite are counted on the device, and
// outputs may not overlap the op's other buffers.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../row_ops.h"
#include "ops.h"

namespace rnnkit {
namespace cuda {
namespace {

constexpr std::int64_t kDim = 2147483647;  // the CPU binding's bound on every dimension

// The CPU's require_finite: a RangeError flagged ERR_RNNKIT_NON_FINITE (the trainer tells bad
// input from divergence by the flag) naming the first bad element. Counting runs on the device;
// only a failing call copies the tensor back to find which element it was.
template <typename T>
[[noreturn]] void fail_nonfinite(DeviceArgs& a, const char* name, const DevBuf& x) {
  std::vector<T> h(x.n);
  to_host(h.data(), x.p, x.n * sizeof(T));
  std::size_t i = 0;
  while (i < h.size() && std::isfinite(static_cast<double>(h[i]))) ++i;
  const double d = i < h.size() ? static_cast<double>(h[i]) : NAN;
  const char* shown = std::isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity";
  Napi::Error e = Napi::RangeError::New(
      a.env(), a.fn() + ": " + name + "[" + std::to_string(i) + "] must be a finite number, received number " + shown);
  e.Set("code", Napi::String::New(a.env(), "ERR_RNNKIT_NON_FINITE"));
  throw e;
}

void require_finite(DeviceArgs& a, const char* name, const DevBuf& x) {
  with_float(x.dtype, [&](auto t) {
    using T = decltype(t);
    if (count_nonfinite<T>(static_cast<index_t>(x.n), x.as<T>()) != 0) fail_nonfinite<T>(a, name, x);
  });
}

Napi::Value GatherRows(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "gatherRows");
  const std::int64_t R = a.integer("R", 1, kDim), N = a.integer("N", 1, kDim), F = a.integer("F", 1, kDim);
  a.product({R, F}, "R*F");
  a.product({N, F}, "N*F");
  const DType dt = a.float_dtype("src");
  DevBuf src = a.buf("src", dt, n(R * F)), idx = a.buf("idx", DType::I32, n(N));
  host_ints(a, "idx", idx, 0, R - 1);
  DevBuf dst = a.buf("dst", dt, n(N * F));
  require_disjoint(a, "dst", {{"src", src}, {"idx", idx}, {"dst", dst}});
  a.check_unknown_fields();
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    gather_rows<T>(N, F, src.as<T>(), idx.as<std::int32_t>(), dst.as<T>());
  });
  return info.Env().Undefined();
}

Napi::Value ScatterAddRows(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "scatterAddRows");
  const std::int64_t R = a.integer("R", 1, kDim), N = a.integer("N", 1, kDim), F = a.integer("F", 1, kDim);
  a.product({R, F}, "R*F");
  a.product({N, F}, "N*F");
  const DType dt = a.float_dtype("src");
  DevBuf src = a.buf("src", dt, n(N * F)), idx = a.buf("idx", DType::I32, n(N));
  const std::vector<std::int32_t> ids = host_ints(a, "idx", idx, 0, R - 1);
  DevBuf dst = a.buf("dst", dt, n(R * F));
  require_disjoint(a, "dst", {{"src", src}, {"idx", idx}, {"dst", dst}});
  a.check_unknown_fields();
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    scatter_add_rows<T>(R, N, F, src.as<T>(), ids.data(), dst.as<T>());
  });
  return info.Env().Undefined();
}

Napi::Value CopyCols(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "copyCols");
  const std::int64_t N = a.integer("N", 1, kDim);
  const std::int64_t srcF = a.integer("srcF", 1, kDim), srcOff = a.integer("srcOffset", 0, srcF - 1);
  const std::int64_t dstF = a.integer("dstF", 1, kDim), dstOff = a.integer("dstOffset", 0, dstF - 1);
  const std::int64_t width = a.integer("width", 1, std::min(srcF - srcOff, dstF - dstOff));
  a.product({N, srcF}, "N*srcF");
  a.product({N, dstF}, "N*dstF");
  const bool acc = a.boolean_or("accumulate", false);
  const DType dt = a.float_dtype("src");
  DevBuf src = a.buf("src", dt, n(N * srcF)), dst = a.buf("dst", dt, n(N * dstF));
  require_disjoint(a, "dst", {{"src", src}, {"dst", dst}});
  a.check_unknown_fields();
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    copy_cols<T>(N, width, src.as<T>(), srcF, srcOff, dst.as<T>(), dstF, dstOff, acc);
  });
  return info.Env().Undefined();
}

Napi::Value MergeHalves(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "mergeHalves");
  const std::int64_t N = a.integer("N", 1, kDim), H = a.integer("H", 1, kDim);
  a.product({N, H, 2}, "N*2H");
  const bool mean = a.choice("mode", {"sum", "mean"}) == 1;
  const DType dt = a.float_dtype("x");
  DevBuf x = a.buf("x", dt, n(N * 2 * H)), y = a.buf("y", dt, n(N * H));
  require_disjoint(a, "y", {{"x", x}, {"y", y}});
  a.check_unknown_fields();
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    merge_halves<T>(N, H, mean, x.as<T>(), y.as<T>());
  });
  return info.Env().Undefined();
}

Napi::Value SplitHalvesBackward(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "splitHalvesBackward");
  const std::int64_t N = a.integer("N", 1, kDim), H = a.integer("H", 1, kDim);
  a.product({N, H, 2}, "N*2H");
  const bool mean = a.choice("mode", {"sum", "mean"}) == 1;
  const DType dt = a.float_dtype("dy");
  DevBuf dy = a.buf("dy", dt, n(N * H)), dx = a.buf("dx", dt, n(N * 2 * H));
  require_disjoint(a, "dx", {{"dy", dy}, {"dx", dx}});
  a.check_unknown_fields();
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    split_halves_backward<T>(N, H, mean, dy.as<T>(), dx.as<T>());
  });
  return info.Env().Undefined();
}

Napi::Value SoftmaxLike(const Napi::CallbackInfo& info, const char* fn, bool log) {
  DeviceArgs a(info, fn);
  const std::int64_t N = a.integer("N", 1, kDim), C = a.integer("C", 1, kDim);
  a.product({N, C}, "N*C");
  const DType dt = a.float_dtype("x");
  DevBuf x = a.buf("x", dt, n(N * C)), y = a.buf("y", dt, n(N * C));
  a.check_unknown_fields();
  require_finite(a, "x", x);
  require_disjoint(a, "y", {{"x", x}, {"y", y}});
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    if (log) log_softmax_rows<T>(N, C, x.as<T>(), y.as<T>());
    else softmax_rows<T>(N, C, x.as<T>(), y.as<T>());
  });
  return info.Env().Undefined();
}
Napi::Value SoftmaxRows(const Napi::CallbackInfo& info) { return SoftmaxLike(info, "softmaxRows", false); }
Napi::Value LogSoftmaxRows(const Napi::CallbackInfo& info) { return SoftmaxLike(info, "logSoftmaxRows", true); }

Napi::Value ArgmaxRows(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "argmaxRows");
  const std::int64_t N = a.integer("N", 1, kDim), C = a.integer("C", 1, kDim);
  a.product({N, C}, "N*C");
  const DType dt = a.float_dtype("x");
  DevBuf x = a.buf("x", dt, n(N * C)), out = a.buf("out", DType::I32, n(N));
  require_disjoint(a, "out", {{"x", x}, {"out", out}});
  a.check_unknown_fields();
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    argmax_rows<T>(N, C, x.as<T>(), out.as<std::int32_t>());
  });
  return info.Env().Undefined();
}

Napi::Value TopkRows(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "topkRows");
  const std::int64_t N = a.integer("N", 1, kDim), C = a.integer("C", 1, kDim), k = a.integer("k", 1, C);
  a.product({N, C}, "N*C");
  const DType dt = a.float_dtype("x");
  DevBuf x = a.buf("x", dt, n(N * C)), values = a.buf("values", dt, n(N * k));
  DevBuf indices = a.buf("indices", DType::I32, n(N * k));
  a.check_unknown_fields();
  require_finite(a, "x", x);
  const std::vector<NamedBuf> all = {{"x", x}, {"values", values}, {"indices", indices}};
  require_disjoint(a, "values", all);
  require_disjoint(a, "indices", all);
  with_float(dt, [&](auto t) {
    using T = decltype(t);
    topk_rows<T>(N, C, k, x.as<T>(), values.as<T>(), indices.as<std::int32_t>());
  });
  return info.Env().Undefined();
}

Napi::Value TimePoolForward(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "timePoolForward");
  const std::int64_t T = a.integer("T", 1, kDim), B = a.integer("B", 1, kDim), F = a.integer("F", 1, kDim);
  a.product({T, B, F}, "T*B*F");
  const int mode = a.choice("mode", {"last", "mean", "max"});
  const DType dt = a.float_dtype("x");
  DevBuf x = a.buf("x", dt, n(T * B * F));
  DevBuf lengths = a.opt_buf("lengths", DType::I32, n(B));
  host_ints(a, "lengths", lengths, 0, T);
  DevBuf y = a.buf("y", dt, n(B * F));
  DevBuf argmax = mode == 2 ? a.buf("argmax", DType::I32, n(B * F)) : a.opt_buf("argmax", DType::I32, n(B * F));
  a.check_unknown_fields();
  require_finite(a, "x", x);
  const std::vector<NamedBuf> all = {{"x", x}, {"lengths", lengths}, {"y", y}, {"argmax", argmax}};
  require_disjoint(a, "y", all);
  require_disjoint(a, "argmax", all);
  with_float(dt, [&](auto t) {
    using V = decltype(t);
    time_pool_forward<V>(mode, T, B, F, x.as<V>(), lengths.as<std::int32_t>(), y.as<V>(), argmax.as<std::int32_t>());
  });
  return info.Env().Undefined();
}

Napi::Value TimePoolBackward(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "timePoolBackward");
  const std::int64_t T = a.integer("T", 1, kDim), B = a.integer("B", 1, kDim), F = a.integer("F", 1, kDim);
  a.product({T, B, F}, "T*B*F");
  const int mode = a.choice("mode", {"last", "mean", "max"});
  const DType dt = a.float_dtype("dy");
  DevBuf dy = a.buf("dy", dt, n(B * F));
  DevBuf lengths = a.opt_buf("lengths", DType::I32, n(B));
  host_ints(a, "lengths", lengths, 0, T);
  DevBuf argmax;
  if (mode == 2) {
    argmax = a.buf("argmax", DType::I32, n(B * F));
    host_ints(a, "argmax", argmax, 0, T - 1, -1);
  } else {
  }
  DevBuf dx = a.buf("dx", dt, n(T * B * F));
  a.check_unknown_fields();
  require_finite(a, "dy", dy);
  require_disjoint(a, "dx", {{"dy", dy}, {"lengths", lengths}, {"argmax", argmax}, {"dx", dx}});
  with_float(dt, [&](auto t) {
    using V = decltype(t);
    time_pool_backward<V>(mode, T, B, F, dy.as<V>(), lengths.as<std::int32_t>(), argmax.as<std::int32_t>(), dx.as<V>());
  });
  return info.Env().Undefined();
}

}  // namespace

RNNKIT_CUDA_OP("gatherRows", GatherRows);
RNNKIT_CUDA_OP("scatterAddRows", ScatterAddRows);
RNNKIT_CUDA_OP("copyCols", CopyCols);
RNNKIT_CUDA_OP("mergeHalves", MergeHalves);
RNNKIT_CUDA_OP("splitHalvesBackward", SplitHalvesBackward);
RNNKIT_CUDA_OP("softmaxRows", SoftmaxRows);
RNNKIT_CUDA_OP("logSoftmaxRows", LogSoftmaxRows);
RNNKIT_CUDA_OP("argmaxRows", ArgmaxRows);
RNNKIT_CUDA_OP("topkRows", TopkRows);
RNNKIT_CUDA_OP("timePoolForward", TimePoolForward);
RNNKIT_CUDA_OP("timePoolBackward", TimePoolBackward);

}  // namespace cuda
}  // namespace rnnkit
