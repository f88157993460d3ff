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

// While one is alive on a thread, parallel_for on that thread runs the chunks the pool would
// run, one after another on the calling thread, without touching the pool: the same partition,
// so the same results bit for bit, and no wait for a job that holds the pool on another thread.
// Kernels that keep process-wide scratch check in_serial_lane() and use memory of their own.
class SerialLane {
 public:
  SerialLane();
  ~SerialLane();
  SerialLane(const SerialLane&) = delete;
  SerialLane& operator=(const SerialLane&) = delete;

 private:
  bool prev_;
};
bool in_serial_lane();

}  // namespace rnnkit
