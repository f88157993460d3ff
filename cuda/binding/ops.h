// The op table of the CUDA addon: each binding file registers its ops here (RNNKIT_CUDA_OP), so
// adding an op touches only its own file. Every op runs inside Guard: a CudaError becomes a JS
// Error naming the CUDA call.
#pragma once
#include <napi.h>

#include <vector>

#include "../runtime.h"
#include "device_args.h"

namespace rnnkit {
namespace cuda {

struct OpEntry {
  const char* name;
  Napi::Function::Callback fn;
};
std::vector<OpEntry>& op_table();

struct RegisterOp {
  RegisterOp(const char* name, Napi::Function::Callback fn) { op_table().push_back({name, fn}); }
};

template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value Guarded(const Napi::CallbackInfo& info) {
  try {
    return F(info);
  } catch (const CudaError& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

// The float type of an op: T = float or double after DeviceArgs::float_dtype.
template <typename F>
void with_float(DType d, F&& f) {
  if (d == DType::F64) f(double{});
  else f(float{});
}

constexpr std::int64_t kMaxDim = std::int64_t(1) << 31;
constexpr std::int64_t kMaxElements = std::int64_t(1) << 40;  // the CPU addon's bound on a buffer
inline std::size_t n(std::int64_t v) { return static_cast<std::size_t>(v); }

}  // namespace cuda
}  // namespace rnnkit

#define RNNKIT_CUDA_OP_CAT2(a, b) a##b
#define RNNKIT_CUDA_OP_CAT(a, b) RNNKIT_CUDA_OP_CAT2(a, b)
#define RNNKIT_CUDA_OP(name, fn) \
  static ::rnnkit::cuda::RegisterOp RNNKIT_CUDA_OP_CAT(register_op_, __LINE__)(name, &::rnnkit::cuda::Guarded<fn>)
