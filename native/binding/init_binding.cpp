// Weight initialization: orthogonalize({ n, q }) turns the n×n Float64Array q into an
// orthogonal matrix in place (lib/init.ts orthogonalBlocks draws q and applies the gain).
#include "../kernels/init.h"
#include "bindings.h"

namespace rnnkit {
namespace binding {

Napi::Value Orthogonalize(const Napi::CallbackInfo& info) {
  Args a(info, "orthogonalize");
  const std::int64_t n = a.integer("n", 1, 46340);  // n*n within 2^31-1
  // Only double precision reproduces the JavaScript reference bit for bit.
  if (a.dtype_of("q") != Dtype::F64) a.fail_type("q", "a Float64Array", describe(a.field("q")));
  FloatView q = a.floats("q", Dtype::F64, a.product({n, n}, "n*n"), "[n,n]");
  a.require_finite("q", q);
  Job job;
  job.work = [=]() {
    orthogonalize_rows(n, q.as<double>());
    return 0.0;
  };
  return run_job(a, std::move(job), false);
}

}  // namespace binding
}  // namespace rnnkit
