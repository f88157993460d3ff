// One process-wide worker pool. Every kernel splits its work over it; OpenBLAS, when linked,
// is kept single-threaded and called per block from this pool, so one pool alone ever spins
// on the cores.
#pragma once
#include <functional>

namespace rnnkit {

// Number of threads (the caller included) used by parallel_for. At least 1.
int num_threads();
// Sets the pool size. Callers must not run kernels concurrently with this call.
void set_num_threads(int n);

// Runs fn(begin, end) over [0, n) split into at most num_threads() contiguous chunks of at
// least `grain` items. The calling thread takes part. Nested calls run serially.
void parallel_for(long n, long grain, const std::function<void(long, long)>& fn);

}  // namespace rnnkit
