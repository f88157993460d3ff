#include "ops.h"

namespace rnnkit {
namespace cuda {

std::vector<OpEntry>& op_table() {
  static std::vector<OpEntry> t;  // filled by the static registrations of the binding files
  return t;
}

}  // namespace cuda
}  // namespace rnnkit
