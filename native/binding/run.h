// Runs a validated job synchronously on the calling thread or, for the *Async variants, on a
// libuv worker thread, returning a Promise. Jobs that use the thread pool are serialized
// process-wide (engine_mutex): the kernels already use every core, and one job at a time keeps
// the pool's state simple. An async job waits for the engine on its worker thread; a synchronous
// call never waits: when the engine is busy it runs in a serial lane on the calling thread
// (threads.h), so the event loop is not held up by another model's long job.
#pragma once
#include <napi.h>

#include <functional>
#include <mutex>

#include "args.h"

namespace rnnkit {
namespace binding {

std::mutex& engine_mutex();

// A job returns a number (a loss) or NaN-free "nothing" when has_result is false.
struct Job {
  std::function<double()> work;
  bool has_result = false;
  // When set (with has_result), turns work()'s number into the JS result (a boolean, an object).
  std::function<Napi::Value(Napi::Env, double)> to_js;
  // Multiply-adds the work does, when known (-1: unknown). A synchronous job below
  // kInlineWork runs its chunks on the calling thread (a serial lane: the same partition, the
  // same results): waking the pool costs more than such a job, a decoder step at batch 1.
  double macs = -1;
};
constexpr double kInlineWork = double(1 << 19);

Napi::Value run_job(Args& args, Job job, bool async);
// Runs work() on the calling thread as a synchronous job does (the engine, or a serial lane
// below kInlineWork multiply-adds or while another job holds the engine). Errors become JS
// errors named after fn; a Napi::Error thrown by work() passes through unchanged.
void run_sync(const std::function<double()>& work, double macs, const std::string& fn, Napi::Env env,
              double* result = nullptr);

// Memory for the copies of an async job's buffers (args.h, Staging), 64-byte aligned. Blocks are
// kept for reuse (up to a bound): a job's copies have the sizes of the previous job's, and fresh
// pages cost the main thread a page fault each (several ms for a recurrent layer's reserve).
void* staging_alloc(std::size_t bytes);
void staging_release(void* p, std::size_t bytes);
// Bytes of freed staging blocks kept for the next async job (memoryInfo()).
std::size_t staging_cache_bytes();

}  // namespace binding
}  // namespace rnnkit
