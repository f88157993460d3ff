// One process-wide worker pool. Every kernel splits its work over it; OpenBLAS, when linked,
// is kept single-threaded and called per block from this pool, so one pool alone ever spins
// on the cores.
#pragma once
#include <atomic>
#include <functional>

namespace rnnkit {

// Number of threads (the caller included) used by parallel_for. At least 1.
int num_threads();
// Sets the pool size. Callers must not run kernels concurrently with this call.
void set_num_threads(int n);

// Runs fn(begin, end) over [0, n) split into at most num_threads() contiguous chunks of at
// least `grain` items. The calling thread takes part. Nested calls run serially.
void parallel_for(long n, long grain, const std::function<void(long, long)>& fn);

// Runs fn(part, parts) for part in [0, parts) on parts threads at once, parts = min(want,
// num_threads()), so the parts may wait for each other (SpinBarrier). Returns false having run
// nothing where they could not all run at once: one thread, a nested call, a serial lane.
bool parallel_team(int want, const std::function<void(int, int)>& fn);

// A reusable barrier for the parts of one parallel_team call: wait() returns once all n have
// called it. Spins (yielding after a while): the parts wait microseconds, a timestep's work.
class SpinBarrier {
 public:
  explicit SpinBarrier(int n) : n_(n) {}
  void wait();

 private:
  const int n_;
  std::atomic<int> count_{0};
  std::atomic<unsigned> generation_{0};
};

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
