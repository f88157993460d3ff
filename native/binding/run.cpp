#include "run.h"

#include "../kernels/scratch.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <utility>
#include <vector>

#include "../kernels/threads.h"

namespace rnnkit {
namespace binding {

std::mutex& engine_mutex() {
  static std::mutex m;
  return m;
}

namespace {

// Free staging blocks by rounded size, most recently released last; at most kKeepBytes in all
// (the same bound as the kernels' scratch: what a large call used is given back).
constexpr std::size_t kKeepBytes = kScratchKeepBytes;
struct StagingCache {
  std::mutex m;
  std::vector<std::pair<std::size_t, void*>> free;  // (rounded bytes, block)
  std::size_t bytes = 0;
};
StagingCache& staging_cache() {
  static StagingCache* c = new StagingCache;  // never destroyed: jobs may finish during exit
  return *c;
}
std::size_t rounded(std::size_t bytes) { return (bytes + 63) / 64 * 64; }

}  // namespace

void* staging_alloc(std::size_t bytes) {
  const std::size_t r = rounded(bytes);
  StagingCache& c = staging_cache();
  {
    std::lock_guard<std::mutex> lk(c.m);
    for (std::size_t i = c.free.size(); i-- > 0;) {
      if (c.free[i].first != r) continue;
      void* p = c.free[i].second;
      c.free.erase(c.free.begin() + static_cast<std::ptrdiff_t>(i));
      c.bytes -= r;
      return p;
    }
  }
  return std::aligned_alloc(64, r);
}

std::size_t staging_cache_bytes() {
  StagingCache& c = staging_cache();
  std::lock_guard<std::mutex> lk(c.m);
  return c.bytes;
}

void staging_release(void* p, std::size_t bytes) {
  if (!p) return;
  const std::size_t r = rounded(bytes);
  StagingCache& c = staging_cache();
  std::vector<void*> drop;
  {
    std::lock_guard<std::mutex> lk(c.m);
    if (r > kKeepBytes) {
      drop.push_back(p);
    } else {
      c.free.emplace_back(r, p);
      c.bytes += r;
      std::size_t k = 0;  // oldest first
      while (c.bytes > kKeepBytes) {
        c.bytes -= c.free[k].first;
        drop.push_back(c.free[k].second);
        ++k;
      }
      c.free.erase(c.free.begin(), c.free.begin() + static_cast<std::ptrdiff_t>(k));
    }
  }
  for (void* q : drop) std::free(q);
}

namespace {

class Worker : public Napi::AsyncWorker {
 public:
  Worker(Napi::Env env, const std::string& fn, Job job, std::shared_ptr<Staging> staging)
      : Napi::AsyncWorker(env, "rnnkit"),
        fn_(fn),
        job_(std::move(job)),
        deferred_(Napi::Promise::Deferred::New(env)),
        staging_(std::move(staging)) {
    // The job works on copies (args.h); these references are where outputs go back to.
    if (staging_)
      for (const auto& e : staging_->entries) refs_.push_back(Napi::Persistent(e.array));
  }
  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      std::lock_guard<std::mutex> lk(engine_mutex());
      result_ = job_.work();
    } catch (const std::bad_alloc&) {
      SetError("rnnkit: out of memory");
    } catch (const std::exception& e) {
      SetError(std::string("rnnkit: ") + e.what());
    }
  }
  // When the environment is being torn down (worker.terminate() while this job ran), settling
  // the promise throws: nobody can observe it any more, and an exception escaping this callback
  // would abort the whole process, so it is dropped.
  void OnOK() override {
    try {
      Napi::Env env = Env();
      std::string lost = write_back(env);
      if (!lost.empty()) {
        deferred_.Reject(Napi::Error::New(env, fn_ + ": " + lost + " was detached or resized while the job ran, so " +
                                                   "no result was written (keep a job's buffers until it settles)")
                             .Value());
        return;
      }
      deferred_.Resolve(!job_.has_result ? env.Undefined()
                        : job_.to_js      ? job_.to_js(env, result_)
                                          : Napi::Number::New(env, result_));
    } catch (const Napi::Error&) {
    }
  }
  void OnError(const Napi::Error& e) override {
    try {
      deferred_.Reject(e.Value());
    } catch (const Napi::Error&) {
    }
  }
  void OnWorkComplete(Napi::Env env, napi_status status) override {
    try {
      Napi::AsyncWorker::OnWorkComplete(env, status);
    } catch (const Napi::Error&) {
    }
  }

 private:
  // Copies the job's outputs into the caller's buffers, all or none: returns the name of an
  // output that is no longer where it was (detached, or moved by a transfer), or "".
  std::string write_back(Napi::Env env) {
    if (!staging_) return "";
    std::vector<void*> dst(staging_->entries.size(), nullptr);
    for (std::size_t i = 0; i < staging_->entries.size(); ++i) {
      const Staging::Entry& e = staging_->entries[i];
      if (!e.output || e.block) continue;  // in place: nothing to copy
      napi_typedarray_type type;
      size_t length = 0, offset = 0;
      void* data = nullptr;
      napi_value ab = nullptr;
      Napi::Value v = refs_[i].Value();
      if (napi_get_typedarray_info(env, v, &type, &length, &data, &ab, &offset) != napi_ok) return e.name;
      bool detached = false;
      napi_is_detached_arraybuffer(env, ab, &detached);
      if (detached || reinterpret_cast<std::uintptr_t>(data) != e.orig ||
          length * static_cast<size_t>(v.As<Napi::TypedArray>().ElementSize()) < e.bytes)
        return e.name;
      dst[i] = data;
    }
    for (std::size_t i = 0; i < dst.size(); ++i)
      if (dst[i]) std::memcpy(dst[i], staging_->entries[i].copy, staging_->entries[i].bytes);
    return "";
  }

  std::string fn_;
  Job job_;
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<Staging> staging_;
  std::vector<Napi::Reference<Napi::Value>> refs_;
  double result_ = 0;
};

}  // namespace

void run_sync(const std::function<double()>& work, double macs, const std::string& fn, Napi::Env env,
              double* result) {
  double r = 0;
  try {
    // A synchronous call never waits for the engine: while another thread's job holds it (an
    // async job of another model, for seconds perhaps) this one runs in a serial lane on the
    // calling thread, with the pool's partition and no shared state (threads.h).
    std::unique_lock<std::mutex> lk;
    if (macs >= 0 && macs < kInlineWork) {
      SerialLane lane;
      r = work();
    } else if ((lk = std::unique_lock<std::mutex>(engine_mutex(), std::try_to_lock)).owns_lock()) {
      r = work();
    } else {
      SerialLane lane;
      r = work();
    }
  } catch (const Napi::Error&) {
    throw;  // a check between kernels (decoderStep): already the JS error to throw
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(env, fn + ": out of memory");
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, fn + ": " + e.what());
  }
  if (result) *result = r;
}

Napi::Value run_job(Args& args, Job job, bool async) {
  Napi::Env env = args.env();
  args.check_unknown_fields();
  if (async) {
    auto* w = new Worker(env, args.fn(), std::move(job), args.staging());
    Napi::Promise p = w->promise();
    w->Queue();
    return p;
  }
  double r = 0;
  run_sync(job.work, job.macs, args.fn(), env, &r);
  if (!job.has_result) return env.Undefined();
  return job.to_js ? job.to_js(env, r) : Napi::Number::New(env, r);
}

}  // namespace binding
}  // namespace rnnkit
