#include "run.h"

#include <exception>
#include <new>

namespace rnnkit {
namespace binding {

std::mutex& engine_mutex() {
  static std::mutex m;
  return m;
}

namespace {

class Worker : public Napi::AsyncWorker {
 public:
  Worker(Napi::Env env, Job job, const std::vector<Napi::Value>& keep)
      : Napi::AsyncWorker(env, "rnnkit"), job_(std::move(job)), deferred_(Napi::Promise::Deferred::New(env)) {
    // Strong references keep the typed arrays alive until the work is done.
    for (const auto& v : keep) refs_.push_back(Napi::Persistent(v));
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
  Job job_;
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::Reference<Napi::Value>> refs_;
  double result_ = 0;
};

}  // namespace

Napi::Value run_job(Args& args, Job job, bool async) {
  Napi::Env env = args.env();
  if (async) {
    auto* w = new Worker(env, std::move(job), args.buffers());
    Napi::Promise p = w->promise();
    w->Queue();
    return p;
  }
  double r = 0;
  try {
    std::lock_guard<std::mutex> lk(engine_mutex());
    r = job.work();
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(env, args.fn() + ": out of memory");
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, args.fn() + ": " + e.what());
  }
  if (!job.has_result) return env.Undefined();
  return job.to_js ? job.to_js(env, r) : Napi::Number::New(env, r);
}

}  // namespace binding
}  // namespace rnnkit
