#include "workspace.h"

namespace rnnkit {
namespace cuda {

namespace {
constexpr std::size_t kAlign = 256;
std::size_t aligned(std::size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }
}  // namespace

Workspace::Arena& Workspace::arena(Kind k) {
  static Arena arenas[3];
  Arena& a = arenas[k];
  return a;
}

Workspace::Workspace(Kind k) : arena_(arena(k)), mark_cur_(arena_.cur), mark_used_(arena_.used) {
  if (arena_.depth++ == 0) arena_.cur = arena_.used = mark_cur_ = mark_used_ = 0;
}

Workspace::~Workspace() {
  if (--arena_.depth > 0) {  // an inner workspace: the outer one's memory stays as it was
    arena_.cur = mark_cur_;
    arena_.used = mark_used_;
    return;
  }
  // More than one block this call: next time one block of the total serves.
  if (arena_.blocks.size() > 1) arena_.consolidate();
  arena_.cur = arena_.used = 0;
}

void* Workspace::Arena::take(std::size_t bytes) {
  bytes = aligned(bytes ? bytes : 1);
  while (cur < blocks.size() && used + bytes > blocks[cur].bytes) {
    ++cur;
    used = 0;
  }
  if (cur == blocks.size()) {
    std::size_t want = bytes;
    if (blocks.empty()) want = bytes > (std::size_t(1) << 20) ? bytes : (std::size_t(1) << 20);
    blocks.push_back(Block{static_cast<char*>(device_alloc(want)), want});
    used = 0;
  }
  void* p = blocks[cur].p + used;
  used += bytes;
  return p;
}

void Workspace::Arena::consolidate() {
  std::size_t sum = 0;
  for (auto& b : blocks) sum += b.bytes;
  release();
  blocks.push_back(Block{static_cast<char*>(device_alloc(sum)), sum});
}

void Workspace::Arena::release() {
  synchronize();  // kernels of this call may still read the blocks
  for (auto& b : blocks) {
    device_free(b.p);
    note_freed(b.bytes);
  }
  blocks.clear();
  cur = used = 0;
}

double Workspace::held_bytes() {
  double s = 0;
  for (int k = 0; k < 3; ++k)
    for (auto& b : arena(static_cast<Kind>(k)).blocks) s += static_cast<double>(b.bytes);
  return s;
}

void Workspace::release_all() {
  for (int k = 0; k < 3; ++k) arena(static_cast<Kind>(k)).release();
}

}  // namespace cuda
}  // namespace rnnkit
