// Module entry: exports every kernel. Node-API addons are context-aware, so the module loads
// in worker_threads too; it keeps no per-environment state.
#include <cstdlib>
#include <napi.h>

#include "../kernels/gemm.h"
#include "../kernels/scratch.h"
#include "../kernels/threads.h"
#include "bindings.h"
#include "host_memory.h"

namespace rnnkit {
namespace binding {
namespace {

Napi::Value BackendInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("backend", "cpu");
  o.Set("gemm", gemm_name());
  o.Set("simd", simd_name());
  o.Set("threads", num_threads());
#ifdef RNNKIT_OPENBLAS
  o.Set("openblasLinked", true);
#else
  o.Set("openblasLinked", false);
#endif
#ifdef NODE_API_NO_EXTERNAL_BUFFERS_ALLOWED
  o.Set("externalBuffers", false);
#else
  o.Set("externalBuffers", true);
#endif
  return o;
}

// The cell table (cell_table.h) as JavaScript sees it: lib/cells/table.ts is checked against it.
Napi::Value CellTable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array rows = Napi::Array::New(env, kCellCount);
  for (int i = 0; i < kCellCount; ++i) {
    const CellInfo& c = kCellTable[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", c.name);
    o.Set("gates", c.gates);
    o.Set("states", c.states);
    o.Set("stepJacobians", c.step_jacobians);
    rows.Set(static_cast<std::uint32_t>(i), o);
  }
  return rows;
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  Args a(info, "setNumThreads");
  int n = static_cast<int>(a.integer("threads", 1, 256));
  a.check_unknown_fields();
  std::lock_guard<std::mutex> lk(engine_mutex());  // never resize under a running job
  set_num_threads(n);
  return info.Env().Undefined();
}

Napi::Value SetGemm(const Napi::CallbackInfo& info) {
  Args a(info, "setGemm");
  int k = a.choice("gemm", {"openblas", "builtin"});
  a.check_unknown_fields();
#ifndef RNNKIT_OPENBLAS
  if (k == 0) a.fail_range("gemm", "'builtin' (this build has no OpenBLAS)", "string \"openblas\"");
#endif
  std::lock_guard<std::mutex> lk(engine_mutex());
  set_force_builtin_gemm(k == 1);
  return info.Env().Undefined();
}

template <Napi::Value (*F)(const Napi::CallbackInfo&, bool), bool Async>
Napi::Value Bind(const Napi::CallbackInfo& info) {
  return F(info, Async);
}

// What native code holds between calls (the per-call scratch of the recurrent kernels).
Napi::Value MemoryInfo(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("scratchBytes", static_cast<double>(scratch_bytes_held().load() + staging_cache_bytes()));
  o.Set("scratchKeepBytes", static_cast<double>(kScratchKeepBytes));
  o.Set("hostBlockBytes", static_cast<double>(host_block_bytes()));
  return o;
}

// Zero-filled host memory for rnnkit's own tensors (the CPU device, and the test device whose
// tensors JavaScript cannot read, lib/device/opaque.ts): async jobs use it in place, since a
// job keeps the block alive even if the ArrayBuffer is transferred and collected (host_memory.h).
Napi::Value AllocExternal(const Napi::CallbackInfo& info) {
  Args a(info, "allocExternal");
  std::int64_t bytes = a.integer("bytes", 1, std::int64_t(1) << 40);
  a.check_unknown_fields();
  return alloc_host_buffer(info.Env(), static_cast<std::size_t>(bytes));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  capture_builtins(env);
  // Every export turns a C++ Napi::Error into a JavaScript exception itself. While a worker's
  // environment is being torn down even that can fail (no handle scope can be opened); the error
  // is then dropped, since no JavaScript can observe it, instead of escaping and aborting the
  // process.
  auto fn = [&](const char* name, Napi::Function::Callback cb) {
    exports.Set(name, Napi::Function::New(
                          env,
                          [cb](const Napi::CallbackInfo& info) -> Napi::Value {
                            try {
                              return cb(info);
                            } catch (const Napi::Error& e) {
                              try {
                                e.ThrowAsJavaScriptException();
                              } catch (...) {
                              }
                              return Napi::Value();
                            }
                          },
                          name));
  };
  fn("backendInfo", BackendInfo);
  fn("allocExternal", AllocExternal);
  fn("memoryInfo", MemoryInfo);
  fn("cellTable", CellTable);
  fn("setNumThreads", SetNumThreads);
  fn("setGemm", SetGemm);
  fn("rnnReserveSize", RnnReserveSize);
  fn("rnnForward", Bind<RnnForward, false>);
  fn("rnnForwardAsync", Bind<RnnForward, true>);
  fn("rnnBackward", Bind<RnnBackward, false>);
  fn("rnnBackwardAsync", Bind<RnnBackward, true>);
  fn("rnnStepJacobians", RnnStepJacobians);
  fn("rnnStepJvp", RnnStepJvp);
  fn("onlineRtrlUpdate", OnlineRtrlUpdate);
  fn("onlineSnap1Update", OnlineSnap1Update);
  fn("onlineSnap1LocalUpdate", OnlineSnap1LocalUpdate);
  fn("onlineSnap1Accumulate", OnlineSnap1Accumulate);
  fn("onlineUoroSigns", OnlineUoroSigns);
  fn("onlineUoroUpdate", OnlineUoroUpdate);
  fn("onlineUoroAccumulate", OnlineUoroAccumulate);
  fn("linearForward", LinearForward);
  fn("linearBackward", LinearBackward);
  fn("embeddingForward", EmbeddingForward);
  fn("embeddingBackward", EmbeddingBackward);
  fn("softmaxCrossEntropy", SoftmaxCrossEntropy);
  fn("mseLoss", MseLoss);
  fn("dropoutMask", DropoutMask);
  fn("l2Norm", L2Norm);
  fn("orthogonalize", Orthogonalize);
  fn("gemm", Gemm);
  fn("optimStateCount", OptimStateCount);
  fn("optimStep", Bind<OptimStep, false>);
  fn("optimStepAsync", Bind<OptimStep, true>);
  fn("axpby", Axpby);
  fn("mul", Mul);
  fn("scale", Scale);
  fn("activationForward", ActivationForward);
  fn("activationBackward", ActivationBackward);
  fn("gatherRows", GatherRows);
  fn("scatterAddRows", ScatterAddRows);
  fn("copyCols", CopyCols);
  fn("mergeHalves", MergeHalves);
  fn("splitHalvesBackward", SplitHalvesBackward);
  fn("softmaxRows", SoftmaxRows);
  fn("logSoftmaxRows", LogSoftmaxRows);
  fn("argmaxRows", ArgmaxRows);
  fn("topkRows", TopkRows);
  fn("clipByValue", ClipByValue);
  fn("clipByNorm", ClipByNorm);
  fn("allFinite", AllFinite);
  fn("addSign", AddSign);
  fn("timePoolForward", TimePoolForward);
  fn("timePoolBackward", TimePoolBackward);
  fn("attentionForward", AttentionForward);
  fn("attentionBackward", AttentionBackward);
  fn("timeDelayForward", TimeDelayForward);
  fn("timeDelayBackward", TimeDelayBackward);
  fn("sigmoidBce", SigmoidBce);
  fn("countCorrect", CountCorrect);
  fn("countCorrectMultilabel", CountCorrectMultilabel);
  fn("decoderPlan", DecoderPlan);
  fn("decoderStep", DecoderStep);
  return exports;
}

}  // namespace
}  // namespace binding
}  // namespace rnnkit

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  return rnnkit::binding::Init(env, exports);
}
NODE_API_MODULE(rnnkit, InitModule)
