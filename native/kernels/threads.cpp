#include "threads.h"

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace rnnkit {
namespace {

thread_local bool t_serial_lane = false;

// Kernel threads yield to the event loop: on a machine with as many busy threads as cores, the
// main thread (timers, I/O, a 10 ms tick) would otherwise wait for a time slice behind threads
// that spin at every timestep's join. A nice of +5 costs training nothing when the main thread
// is idle (Linux sets nice per thread; elsewhere this is a no-op).
void yield_priority_to_main_thread() {
#if defined(__linux__)
  const pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
  errno = 0;
  const int now = getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
  if (errno == 0 && now < 5) setpriority(PRIO_PROCESS, static_cast<id_t>(tid), 5);
#endif
}

// A fork-join pool: workers wait for a job ticket to move, run their chunk, and count
// down. Short spinning before sleeping keeps the per-timestep joins cheap.
class Pool {
 public:
  explicit Pool(int n) { resize(n); }
  ~Pool() { stop(); }

  // Read without a lock by serial lanes (SerialLane) while another thread may resize the pool.
  int size() const { return size_.load(std::memory_order_acquire); }

  void resize(int n) {
    stop();
    stopping_ = false;
    size_.store(std::max(1, n), std::memory_order_release);
    // A worker must start from the generation current now: a job posted before the thread
    // gets scheduled still has to be seen as new.
    const unsigned long long start = ticket_.load(std::memory_order_acquire);
    for (int i = 1; i < n; ++i) workers_.emplace_back([this, i, start] { loop(i, start); });
  }

  // Whether parts started now from this thread would all run at once.
  bool can_team() const { return size() > 1 && !in_parallel_ && !t_serial_lane; }

  void run(long n, long grain, const std::function<void(long, long)>& fn) {
    int parts = static_cast<int>(std::min<long>(size(), std::max<long>(1, n / std::max<long>(grain, 1))));
    if (parts <= 1 || in_parallel_) { fn(0, n); return; }
    if (t_serial_lane) {  // the pool's chunks, in order, on this thread (nested calls: serial)
      struct Nested {
        Nested() { in_parallel_ = true; }
        ~Nested() { in_parallel_ = false; }
      } nested;
      for (int part = 0; part < parts; ++part) fn(n * part / parts, n * (part + 1) / parts);
      return;
    }
    std::lock_guard<std::mutex> serial(run_mutex_);
    job_ = &fn; job_n_ = n; job_parts_ = parts;
    pending_.store(parts - 1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lk(m_);
      const unsigned long long next = ((ticket_.load(std::memory_order_relaxed) >> kPartBits) + 1) << kPartBits;
      ticket_.store(next | static_cast<unsigned long long>(parts), std::memory_order_release);
    }
    cv_.notify_all();
    in_parallel_ = true;
    fn(0, chunk_end(0));
    in_parallel_ = false;
    while (pending_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
    job_ = nullptr;
  }

 private:
  long chunk_end(int part) const { return job_n_ * (part + 1) / job_parts_; }

  void loop(int index, unsigned long long seen) {
    yield_priority_to_main_thread();
    for (;;) {
      unsigned long long g;
      long spins = 0;
      auto spin_until = std::chrono::steady_clock::time_point{};
      while ((g = ticket_.load(std::memory_order_acquire)) == seen && !stopping_) {
        // Spin for about 200 µs before sleeping: a decoder or a server issues many small calls
        // with a little JavaScript between them, and a wake-up from sleep costs more than the
        // GEMV a call splits. Past the first few microseconds the spin yields its core, so
        // other processes on a busy machine still get it.
        if (++spins < 20000) continue;
        if (spins == 20000) spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
        if ((spins & 255) != 0 || std::chrono::steady_clock::now() < spin_until) {
          std::this_thread::yield();
          continue;
        }
        std::unique_lock<std::mutex> lk(m_);
        cv_.wait(lk, [&] { return ticket_.load(std::memory_order_acquire) != seen || stopping_; });
      }
      if (stopping_) return;
      seen = g;
      // The part count comes with the ticket: a worker left out of a job may look only after
      // the next job has replaced job_ and job_parts_, and must not run (or count down for) a
      // job it read the ticket of. A worker that takes part holds run() until it counts down,
      // so job_ and job_n_ are this ticket's while it runs.
      if (index < static_cast<int>(g & kPartMask)) {
        in_parallel_ = true;
        (*job_)(job_n_ * index / job_parts_, chunk_end(index));
        in_parallel_ = false;
        pending_.fetch_sub(1, std::memory_order_acq_rel);
      }
    }
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lk(m_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
  }

  std::vector<std::thread> workers_;
  std::mutex m_, run_mutex_;
  std::condition_variable cv_;
  // A job's sequence number above kPartBits, its number of parts below: one atomic word, so a
  // worker reads both at once.
  static constexpr int kPartBits = 16;
  static constexpr unsigned long long kPartMask = (1ull << kPartBits) - 1;
  std::atomic<unsigned long long> ticket_{0};
  std::atomic<int> pending_{0};
  std::atomic<int> size_{1};
  std::atomic<bool> stopping_{false};
  const std::function<void(long, long)>* job_ = nullptr;
  long job_n_ = 0;
  int job_parts_ = 1;
  static thread_local bool in_parallel_;
};

thread_local bool Pool::in_parallel_ = false;

int default_threads() {
  unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : static_cast<int>(std::min(hc, 64u));
}

std::mutex g_pool_mutex;
Pool& pool() {
  static Pool p(default_threads());
  return p;
}

}  // namespace

int num_threads() { return pool().size(); }

void set_num_threads(int n) {
  n = std::max(1, std::min(n, 256));
  std::lock_guard<std::mutex> lk(g_pool_mutex);
  pool().resize(n);
}

SerialLane::SerialLane() : prev_(t_serial_lane) { t_serial_lane = true; }
SerialLane::~SerialLane() { t_serial_lane = prev_; }
bool in_serial_lane() { return t_serial_lane; }

void parallel_for(long n, long grain, const std::function<void(long, long)>& fn) {
  if (n <= 0) return;
  pool().run(n, grain, fn);
}

bool parallel_team(int want, const std::function<void(int, int)>& fn) {
  Pool& p = pool();
  const int parts = std::min(want, p.size());
  if (parts <= 1 || !p.can_team()) return false;
  // parts items of grain 1: the pool runs one per thread, every part on its own thread.
  p.run(parts, 1, [&](long b, long e) {
    for (long i = b; i < e; ++i) fn(int(i), parts);
  });
  return true;
}

void SpinBarrier::wait() {
  const unsigned g = generation_.load(std::memory_order_acquire);
  if (count_.fetch_add(1, std::memory_order_acq_rel) + 1 == n_) {
    count_.store(0, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    return;
  }
  for (long spins = 0; generation_.load(std::memory_order_acquire) == g; ++spins)
    if (spins > 2000) std::this_thread::yield();
}

}  // namespace rnnkit
