// A recurrent layer (one direction) over a whole sequence: forward and BPTT backward.
// Not reentrant: calls share process-wide scratch memory; the binding serializes them.
// Shape letters and layouts: docs/conventions.md.
#pragma once
#include <cstdint>

#include "cell_table.h"
#include "common.h"

namespace rnnkit {

struct RnnShape {
  index_t T = 0, B = 0, I = 0, H = 0;
  CellType cell = CellType::LSTM;
  Activation act = Activation::Tanh;   // Elman only
  GruVariant gru = GruVariant::PyTorch;
  bool reverse = false;                // process t = T-1 .. 0
  // Row stride of y (forward) and dy (backward): H for a plain [T,B,H] buffer, 2H when both
  // directions of a bidirectional layer write into one [T,B,2H] buffer (pass y + H for the
  // reverse direction).
  index_t ldy = 0;                     // 0 means H
  index_t y_stride() const { return ldy > 0 ? ldy : H; }
  int G() const { return gate_count(cell); }
};

// Elements of the reserve buffer forward fills for backward.
index_t rnn_reserve_size(const RnnShape& s);

// x: [T,B,I]; h0, c0: [B,H] or null (zeros; c0 LSTM only); lengths: [B] in [0,T] or null
// (all T); w_ih: [G*H,I]; w_hh: [G*H,H]; b_ih, b_hh: [G*H] or null (no bias).
// Out: y: [T,B,H] (row stride s.y_stride()); h_n, c_n: [B,H] (c_n LSTM only, may be null); reserve: [rnn_reserve_size]
// or null for inference.
template <typename T>
void rnn_forward(const RnnShape& s, const T* x, const T* h0, const T* c0,
                 const std::int32_t* lengths, const T* w_ih, const T* w_hh, const T* b_ih,
                 const T* b_hh, T* y, T* h_n, T* c_n, T* reserve);

// Same inputs as the forward that filled reserve. dy: [T,B,H] (row stride s.y_stride()) or null; dh_n, dc_n: [B,H] or
// null. dx: [T,B,I] accumulated (+=) or null; dh0, dc0: [B,H] overwritten or null.
// dw_ih, dw_hh, db_ih, db_hh: accumulated (+=); db_* null when the layer has no bias.
template <typename T>
void rnn_backward(const RnnShape& s, const T* x, const std::int32_t* lengths, const T* w_ih,
                  const T* w_hh, const T* reserve, const T* dy, const T* dh_n, const T* dc_n,
                  T* dx, T* dh0, T* dc0, T* dw_ih, T* dw_hh, T* db_ih, T* db_hh);

}  // namespace rnnkit
