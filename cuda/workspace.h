// Per-call device scratch, carved from a block kept between calls (cudaMalloc is slow and
// synchronizing): one block per kind, so a backward never reallocates the forward's. Ops run
// one at a time on the device's stream, as the JavaScript device issues them.
#pragma once
#include <cstddef>
#include <vector>

#include "runtime.h"

namespace rnnkit {
namespace cuda {

class Workspace {
 public:
  enum Kind { Forward = 0, Backward = 1, Ops = 2 };
  explicit Workspace(Kind k) : arena_(arena(k)) { arena_.used = 0; }
  ~Workspace() {
    // More than one block this call: next time one block of the total serves.
    if (arena_.blocks.size() > 1) arena_.consolidate();
  }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  template <typename T>
  T* take(index_t n) {
    return static_cast<T*>(arena_.take(sizeof(T) * static_cast<std::size_t>(n > 0 ? n : 0)));
  }
  static double held_bytes();
  static void release_all();

 private:
  struct Block {
    char* p;
    std::size_t bytes;
  };
  struct Arena {
    std::vector<Block> blocks;
    std::size_t used = 0;    // bytes of the last block in use
    std::size_t total = 0;   // bytes taken this call, over every block
    void* take(std::size_t bytes);
    void consolidate();
    void release();
  };
  static Arena& arena(Kind k);
  Arena& arena_;
};

}  // namespace cuda
}  // namespace rnnkit
