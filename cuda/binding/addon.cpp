// The CUDA addon (rnnkit_cuda.node, or rnnkit_cuda_emu.node for the host emulation): device
// memory and the ops of lib/device/cuda.ts. It loads without a driver; info() then says why no
// device is usable and every other call throws that reason. Ops run on one stream, in order.
#include <napi.h>

#include "../runtime.h"
#include "../workspace.h"
#include "device_args.h"
#include "ops.h"

namespace rnnkit {
namespace cuda {
namespace {

// Every CUDA failure reaches JavaScript as an Error naming the call and the CUDA error.
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value Guard(const Napi::CallbackInfo& info) {
  try {
    return F(info);
  } catch (const CudaError& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const DeviceInfo& d = device_info();
  Napi::Object o = Napi::Object::New(env);
  o.Set("backend", "cuda");
  o.Set("available", d.available);
  o.Set("emulated", d.emulated);
  if (!d.available) {
    o.Set("reason", d.reason);
    return o;
  }
  o.Set("device", d.name);
  o.Set("deviceCount", d.count);
  o.Set("computeCapability", std::to_string(d.major) + "." + std::to_string(d.minor));
  o.Set("totalBytes", d.total_bytes);
  o.Set("freeBytesAtStart", d.free_bytes);
  o.Set("gemm", d.gemm);
  o.Set("cublas", d.cublas_path);
  return o;
}

Napi::Value MemoryInfo(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("allocatedBytes", allocated_bytes());
  o.Set("workspaceBytes", Workspace::held_bytes());
  return o;
}

Napi::Value Alloc(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "cuda.alloc");
  auto bytes = static_cast<std::size_t>(a.integer("bytes", 0, std::int64_t(1) << 46));
  require_device();
  auto* b = new Block;
  try {
    b->p = device_alloc(bytes);
  } catch (...) {
    delete b;
    throw;
  }
  b->bytes = bytes;
  device_zero(b->p, bytes);
  return wrap_block(info.Env(), b);
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  if (info.Length() < 1) throw Napi::TypeError::New(info.Env(), "cuda.free: expected a memory block, received no argument");
  Block* b = unwrap_block(info.Env(), info[0], "cuda.free: the block");
  synchronize();  // kernels queued on the stream may still use it
  device_free(b->p);
  note_freed(b->bytes);
  Napi::MemoryManagement::AdjustExternalMemory(info.Env(), -static_cast<std::int64_t>(b->bytes));
  b->freed = true;
  b->p = nullptr;
  return info.Env().Undefined();
}

void* block_range(DeviceArgs& a, const char* name, std::size_t offset, std::size_t bytes, Napi::Value v) {
  Block* b = unwrap_block(a.env(), v, a.fn() + ": " + name);
  if (offset + bytes > b->bytes || offset + bytes < offset)
    a.fail_range(name, "a range inside its block of " + std::to_string(b->bytes) + " bytes",
                 "bytes [" + std::to_string(offset) + ", " + std::to_string(offset + bytes) + ")");
  return static_cast<char*>(b->p) + offset;
}

// upload({ block, offset, data }): data (a typed array) into the block at byte offset.
Napi::Value Upload(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "cuda.upload");
  Napi::Object o = info[0].As<Napi::Object>();
  Napi::Value data = o.Get("data");
  if (!data.IsTypedArray()) a.fail_type("data", "a typed array", describe(data));
  Napi::TypedArray ta = data.As<Napi::TypedArray>();
  const std::size_t bytes = ta.ByteLength();
  auto offset = static_cast<std::size_t>(a.integer("offset", 0, std::int64_t(1) << 46));
  void* dst = block_range(a, "block", offset, bytes, o.Get("block"));
  const void* src = static_cast<const char*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  to_device(dst, src, bytes);  // synchronous: the typed array may change once we return
  return info.Env().Undefined();
}

// download({ block, offset, data }): the block's bytes at offset into data (a typed array).
Napi::Value Download(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "cuda.download");
  Napi::Object o = info[0].As<Napi::Object>();
  Napi::Value data = o.Get("data");
  if (!data.IsTypedArray()) a.fail_type("data", "a typed array", describe(data));
  Napi::TypedArray ta = data.As<Napi::TypedArray>();
  const std::size_t bytes = ta.ByteLength();
  auto offset = static_cast<std::size_t>(a.integer("offset", 0, std::int64_t(1) << 46));
  const void* src = block_range(a, "block", offset, bytes, o.Get("block"));
  void* dst = static_cast<char*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  to_host(dst, src, bytes);
  return info.Env().Undefined();
}

// copy({ src, srcOffset, dst, dstOffset, bytes }) on the device.
Napi::Value Copy(const Napi::CallbackInfo& info) {
  DeviceArgs a(info, "cuda.copy");
  Napi::Object o = info[0].As<Napi::Object>();
  auto bytes = static_cast<std::size_t>(a.integer("bytes", 0, std::int64_t(1) << 46));
  auto so = static_cast<std::size_t>(a.integer("srcOffset", 0, std::int64_t(1) << 46));
  auto dof = static_cast<std::size_t>(a.integer("dstOffset", 0, std::int64_t(1) << 46));
  const void* src = block_range(a, "src", so, bytes, o.Get("src"));
  void* dst = block_range(a, "dst", dof, bytes, o.Get("dst"));
  if (bytes) device_copy(dst, src, bytes);
  return info.Env().Undefined();
}

Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  synchronize();
  return info.Env().Undefined();
}

Napi::Value ReleaseWorkspace(const Napi::CallbackInfo& info) {
  Workspace::release_all();
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto fn = [&](const char* name, Napi::Function::Callback cb) { exports.Set(name, Napi::Function::New(env, cb, name)); };
  fn("info", Guard<Info>);
  fn("memoryInfo", Guard<MemoryInfo>);
  fn("alloc", Guard<Alloc>);
  fn("free", Guard<Free>);
  fn("upload", Guard<Upload>);
  fn("download", Guard<Download>);
  fn("copy", Guard<Copy>);
  fn("synchronize", Guard<Synchronize>);
  fn("releaseWorkspace", Guard<ReleaseWorkspace>);
  for (const OpEntry& op : op_table()) exports.Set(op.name, Napi::Function::New(env, op.fn, op.name));
  return exports;
}

}  // namespace
}  // namespace cuda
}  // namespace rnnkit

static Napi::Object InitCudaAddon(Napi::Env env, Napi::Object exports) { return rnnkit::cuda::Init(env, exports); }
NODE_API_MODULE(rnnkit_cuda, InitCudaAddon)
