// Runs a validated job synchronously on the calling thread or, for the *Async variants, on a
// libuv worker thread, returning a Promise. Jobs are serialized process-wide: the kernels
// already use every core, and one job at a time keeps the thread pool's state simple.
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
};

Napi::Value run_job(Args& args, Job job, bool async);

}  // namespace binding
}  // namespace rnnkit
