// The cell table (native/kernels/cell_table.h) names each cell's CPU step kernels. The CUDA
// addon reads only the table's shape columns (gates, states, reserve blocks) and runs its own
// kernels (rnn.cu), so the CPU entries resolve here to a lookup that refuses to be used.
#include <stdexcept>

#include "../native/kernels/cell_table.h"

namespace rnnkit {
namespace {
template <typename T>
const CellSteps<T>& absent() {
  throw std::logic_error("the CPU step kernels are not part of the CUDA addon");
}
}  // namespace
template <typename T>
const CellSteps<T>& elman_steps() {
  return absent<T>();
}
template <typename T>
const CellSteps<T>& lstm_steps() {
  return absent<T>();
}
template <typename T>
const CellSteps<T>& gru_steps() {
  return absent<T>();
}
template const CellSteps<float>& elman_steps<float>();
template const CellSteps<double>& elman_steps<double>();
template const CellSteps<float>& lstm_steps<float>();
template const CellSteps<double>& lstm_steps<double>();
template const CellSteps<float>& gru_steps<float>();
template const CellSteps<double>& gru_steps<double>();
}  // namespace rnnkit
