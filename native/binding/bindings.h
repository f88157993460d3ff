// Declarations shared by the binding's translation units.
#pragma once
#include <napi.h>

#include "args.h"
#include "run.h"

namespace rnnkit {
namespace binding {

// Calls f(float{}) or f(double{}) for the call's dtype.
template <typename F>
auto with_dtype(Dtype dt, F&& f) {
  return dt == Dtype::F32 ? f(float{}) : f(double{});
}

Napi::Value RnnReserveSize(const Napi::CallbackInfo& info);
Napi::Value RnnForward(const Napi::CallbackInfo& info, bool async);
Napi::Value RnnBackward(const Napi::CallbackInfo& info, bool async);
Napi::Value RnnStepJacobians(const Napi::CallbackInfo& info);
Napi::Value RnnStepJvp(const Napi::CallbackInfo& info);

Napi::Value OnlineRtrlUpdate(const Napi::CallbackInfo& info);
Napi::Value OnlineSnap1Update(const Napi::CallbackInfo& info);
Napi::Value OnlineSnap1LocalUpdate(const Napi::CallbackInfo& info);
Napi::Value OnlineSnap1Accumulate(const Napi::CallbackInfo& info);
Napi::Value OnlineUoroSigns(const Napi::CallbackInfo& info);
Napi::Value OnlineUoroUpdate(const Napi::CallbackInfo& info);
Napi::Value OnlineUoroAccumulate(const Napi::CallbackInfo& info);

Napi::Value LinearForward(const Napi::CallbackInfo& info);
Napi::Value LinearBackward(const Napi::CallbackInfo& info);
Napi::Value EmbeddingForward(const Napi::CallbackInfo& info);
Napi::Value EmbeddingBackward(const Napi::CallbackInfo& info);
Napi::Value SoftmaxCrossEntropy(const Napi::CallbackInfo& info);
Napi::Value MseLoss(const Napi::CallbackInfo& info);
Napi::Value DropoutMask(const Napi::CallbackInfo& info);
Napi::Value L2Norm(const Napi::CallbackInfo& info);
Napi::Value Gemm(const Napi::CallbackInfo& info);
Napi::Value OptimStep(const Napi::CallbackInfo& info, bool async);
Napi::Value OptimStateCount(const Napi::CallbackInfo& info);

}  // namespace binding
}  // namespace rnnkit
