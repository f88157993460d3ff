// Declarations shared by the binding's translation units.
#pragma once
#include <napi.h>

#include "../kernels/cell_table.h"
#include "args.h"
#include "run.h"

namespace rnnkit {
namespace binding {

// Calls f(float{}) or f(double{}) for the call's dtype.
template <typename F>
auto with_dtype(Dtype dt, F&& f) {
  return dt == Dtype::F32 ? f(float{}) : f(double{});
}

// The `cell` field: one of the cell table's names. step_jacobians: refuse cells without them.
inline CellType read_cell(Args& a, bool step_jacobians = false) {
  static const std::vector<const char*> names = [] {
    std::vector<const char*> n;
    for (const CellInfo& c : kCellTable) n.push_back(c.name);
    return n;
  }();
  const CellInfo& c = kCellTable[a.choice("cell", names)];
  if (step_jacobians && !c.step_jacobians)
    a.fail_range("cell", "a cell with step Jacobians", std::string("string \"") + c.name + "\"");
  return c.type;
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
Napi::Value Orthogonalize(const Napi::CallbackInfo& info);
Napi::Value Gemm(const Napi::CallbackInfo& info);
Napi::Value OptimStep(const Napi::CallbackInfo& info, bool async);
Napi::Value OptimStateCount(const Napi::CallbackInfo& info);

// tensor_ops_binding.cpp
Napi::Value Axpby(const Napi::CallbackInfo& info);
Napi::Value Mul(const Napi::CallbackInfo& info);
Napi::Value Scale(const Napi::CallbackInfo& info);
Napi::Value ActivationForward(const Napi::CallbackInfo& info);
Napi::Value ActivationBackward(const Napi::CallbackInfo& info);
Napi::Value GatherRows(const Napi::CallbackInfo& info);
Napi::Value ScatterAddRows(const Napi::CallbackInfo& info);
Napi::Value CopyCols(const Napi::CallbackInfo& info);
Napi::Value MergeHalves(const Napi::CallbackInfo& info);
Napi::Value SplitHalvesBackward(const Napi::CallbackInfo& info);
Napi::Value SoftmaxRows(const Napi::CallbackInfo& info);
Napi::Value LogSoftmaxRows(const Napi::CallbackInfo& info);
Napi::Value ArgmaxRows(const Napi::CallbackInfo& info);
Napi::Value TopkRows(const Napi::CallbackInfo& info);
Napi::Value ClipByValue(const Napi::CallbackInfo& info);
Napi::Value ClipByNorm(const Napi::CallbackInfo& info);
Napi::Value AllFinite(const Napi::CallbackInfo& info);
Napi::Value AddSign(const Napi::CallbackInfo& info);

// layer_ops_binding.cpp
Napi::Value TimePoolForward(const Napi::CallbackInfo& info);
Napi::Value TimePoolBackward(const Napi::CallbackInfo& info);
Napi::Value AttentionForward(const Napi::CallbackInfo& info);
Napi::Value AttentionBackward(const Napi::CallbackInfo& info);
Napi::Value TimeDelayForward(const Napi::CallbackInfo& info);
Napi::Value TimeDelayBackward(const Napi::CallbackInfo& info);
Napi::Value SigmoidBce(const Napi::CallbackInfo& info);
Napi::Value CountCorrect(const Napi::CallbackInfo& info);
Napi::Value CountCorrectMultilabel(const Napi::CallbackInfo& info);

// decoder_binding.cpp
Napi::Value DecoderPlan(const Napi::CallbackInfo& info);
Napi::Value DecoderStep(const Napi::CallbackInfo& info);

}  // namespace binding
}  // namespace rnnkit
