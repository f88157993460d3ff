// Host memory that rnnkit allocates for its own tensors: ArrayBuffers over native blocks that
// count their users. JavaScript may detach (transfer) such a buffer and the garbage collector
// may then drop it, but the block lives on while an async job still uses it, so async jobs can
// work on these buffers in place instead of on copies (args.h).
#pragma once
#include <napi.h>

#include <cstddef>

namespace rnnkit {
namespace binding {

struct HostBlock;

// A zero-filled ArrayBuffer of `bytes` over a new block; throws RangeError when out of memory
// and Napi::Error when the runtime refuses external buffers (Electron's V8 sandbox).
Napi::ArrayBuffer alloc_host_buffer(Napi::Env env, std::size_t bytes);

// The block holding [p, p+bytes), with one more user, or null when the memory is not one of
// ours (then the caller copies it). Thread-safe.
HostBlock* acquire_host_block(const void* p, std::size_t bytes);
void release_host_block(HostBlock* b);
// Whether [p, p+bytes) lies in one of the blocks (without holding it): the ArrayBuffer over it is
// then one of ours, fixed-size and not shared. Thread-safe.
bool is_host_memory(const void* p, std::size_t bytes);

// Bytes in live blocks (memoryInfo()).
std::size_t host_block_bytes();

}  // namespace binding
}  // namespace rnnkit
