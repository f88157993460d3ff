// Per-thread growable scratch memory for kernels, so hot calls never hit the allocator.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace rnnkit {

// Bytes all Scratch objects hold now (memoryInfo()).
inline std::atomic<std::size_t>& scratch_bytes_held() {
  static std::atomic<std::size_t> n{0};
  return n;
}

// A call that needed more than this keeps nothing afterwards: one long predict must not hold
// its peak (hundreds of MB) for the life of the process, while the scratch of ordinary training
// steps stays allocated and is reused.
constexpr std::size_t kScratchKeepBytes = std::size_t(64) << 20;

class Scratch {
 public:
  ~Scratch() { release(); }
  // Returns at least `bytes` of 64-byte aligned memory; earlier pointers are invalidated.
  void* get(std::size_t bytes) {
    if (bytes > cap_) {
      release();
      const std::size_t cap = (bytes + 63) / 64 * 64;
      data_ = std::aligned_alloc(64, cap);
      if (!data_) throw std::bad_alloc();
      cap_ = cap;
      scratch_bytes_held() += cap_;
    }
    return data_;
  }
  void trim(std::size_t keep = kScratchKeepBytes) {
    if (cap_ > keep) release();
  }

 private:
  void release() {
    std::free(data_);
    scratch_bytes_held() -= cap_;
    data_ = nullptr;
    cap_ = 0;
  }
  void* data_ = nullptr;
  std::size_t cap_ = 0;
};

// Trims a scratch when the call that used it ends (also when it throws).
class TrimOnExit {
 public:
  explicit TrimOnExit(Scratch& s) : s_(s) {}
  ~TrimOnExit() { s_.trim(); }
  TrimOnExit(const TrimOnExit&) = delete;
  TrimOnExit& operator=(const TrimOnExit&) = delete;

 private:
  Scratch& s_;
};

// Carves typed, aligned pieces out of one block.
class Carver {
 public:
  explicit Carver(void* base) : p_(static_cast<char*>(base)) {}
  template <typename T>
  T* take(std::size_t n) {
    T* r = reinterpret_cast<T*>(p_);
    p_ += (n * sizeof(T) + 63) / 64 * 64;
    return r;
  }
  template <typename T>
  static std::size_t bytes(std::size_t n) { return (n * sizeof(T) + 63) / 64 * 64; }

 private:
  char* p_;
};

}  // namespace rnnkit
