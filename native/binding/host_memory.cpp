#include "host_memory.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

namespace rnnkit {
namespace binding {

struct HostBlock {
  void* data;
  std::size_t bytes;
  int users;  // the ArrayBuffer (until it is collected) and each async job using it
};

namespace {
std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
// Blocks by start address; a lookup finds the block whose range holds a pointer.
std::map<std::uintptr_t, HostBlock*>& registry() {
  static auto* r = new std::map<std::uintptr_t, HostBlock*>();  // never destroyed: finalizers may run at exit
  return *r;
}
std::atomic<std::size_t> live_bytes{0};

void drop(HostBlock* b) {  // registry_mutex held
  if (--b->users > 0) return;
  registry().erase(reinterpret_cast<std::uintptr_t>(b->data));
  live_bytes -= b->bytes;
  std::free(b->data);
  delete b;
}
}  // namespace

#ifdef NODE_API_NO_EXTERNAL_BUFFERS_ALLOWED
// Electron's V8 memory cage forbids ArrayBuffers over memory V8 did not allocate; this build
// proves the addon needs none: the CPU device then uses plain JavaScript memory.
Napi::ArrayBuffer alloc_host_buffer(Napi::Env env, std::size_t) {
  throw Napi::Error::New(env,
                         "external ArrayBuffers are not allowed in this build (NODE_API_NO_EXTERNAL_BUFFERS_ALLOWED)");
}
#else
Napi::ArrayBuffer alloc_host_buffer(Napi::Env env, std::size_t bytes) {
  void* p = std::calloc(bytes, 1);
  if (!p) throw Napi::RangeError::New(env, "out of memory: " + std::to_string(bytes) + " bytes could not be allocated");
  auto* b = new HostBlock{p, bytes, 1};
  {
    std::lock_guard<std::mutex> lk(registry_mutex());
    registry()[reinterpret_cast<std::uintptr_t>(p)] = b;
  }
  live_bytes += bytes;
  napi_value ab;
  napi_status st = napi_create_external_arraybuffer(
      env, p, bytes,
      [](napi_env, void*, void* hint) {
        std::lock_guard<std::mutex> lk(registry_mutex());
        drop(static_cast<HostBlock*>(hint));
      },
      b, &ab);
  if (st != napi_ok) {
    {
      std::lock_guard<std::mutex> lk(registry_mutex());
      drop(b);
    }
    throw Napi::Error::New(env, "external ArrayBuffers are not available in this runtime");
  }
  return Napi::ArrayBuffer(env, ab);
}
#endif

namespace {
// The block holding [p, p+bytes), or null (registry_mutex held).
HostBlock* find_block(const void* p, std::size_t bytes) {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  auto& r = registry();
  auto it = r.upper_bound(a);
  if (it == r.begin()) return nullptr;
  --it;
  return a + bytes <= it->first + it->second->bytes ? it->second : nullptr;
}
}  // namespace

HostBlock* acquire_host_block(const void* p, std::size_t bytes) {
  std::lock_guard<std::mutex> lk(registry_mutex());
  HostBlock* b = find_block(p, bytes);
  if (b) ++b->users;
  return b;
}

bool is_host_memory(const void* p, std::size_t bytes) {
  std::lock_guard<std::mutex> lk(registry_mutex());
  return find_block(p, bytes) != nullptr;
}

void release_host_block(HostBlock* b) {
  std::lock_guard<std::mutex> lk(registry_mutex());
  drop(b);
}

std::size_t host_block_bytes() { return live_bytes.load(); }

}  // namespace binding
}  // namespace rnnkit
