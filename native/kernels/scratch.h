// Per-thread growable scratch memory for kernels, so hot calls never hit the allocator.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <new>

namespace rnnkit {

class Scratch {
 public:
  ~Scratch() { std::free(data_); }
  // Returns at least `bytes` of 64-byte aligned memory; earlier pointers are invalidated.
  void* get(std::size_t bytes) {
    if (bytes > cap_) {
      std::free(data_);
      cap_ = (bytes + 63) / 64 * 64;
      data_ = std::aligned_alloc(64, cap_);
      if (!data_) { cap_ = 0; throw std::bad_alloc(); }
    }
    return data_;
  }

 private:
  void* data_ = nullptr;
  std::size_t cap_ = 0;
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
