// Per-call device scratch, carved from a block kept between calls (cudaMalloc is slow and
// synchronizing): one block per kind, so a backward never reallocates the forward's. Ops run
// one at a time on the device's stream, as the JavaScript device issues them.
#pragma once
#include <cstddef>
#include <vector>

#include "runtime.h"

namespace rnnkit {
namespace cuda {

// A stack: a Workspace of a kind opened while another of that kind is open (an op whose
// reduction takes scratch of its own) carves after the outer one's memory and gives its part
// back when it closes; the outermost one's close keeps the memory for the next call.
class Workspace {
 public:
  enum Kind { Forward = 0, Backward = 1, Ops = 2 };
  explicit Workspace(Kind k);
  ~Workspace();
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
    std::size_t cur = 0;   // the block being carved
    std::size_t used = 0;  // bytes of it in use
    int depth = 0;         // open Workspaces of this kind
    void* take(std::size_t bytes);
    void consolidate();
    void release();
  };
  static Arena& arena(Kind k);
  Arena& arena_;
  std::size_t mark_cur_, mark_used_;
};

}  // namespace cuda
}  // namespace rnnkit
