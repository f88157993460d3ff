// A float32 layer forward whose every timestep is one parallel region: each pool thread takes a
// slice of the hidden units, computes its columns of h W_hh^T for every gate block and then
// those units' gate math, so a step costs one fork-join instead of two (the product, then the
// gate kernel) and each thread's slice of the product is still in its cache when the gates read
// it. The same kernels on the same elements as rnn_forward's cell steps: the same bits.
#pragma once
#include <cstdint>

#include "rnn.h"

namespace rnnkit {

struct FusedForward {
  const RnnShape* s;
  const std::int32_t* lengths;   // [B] or null
  const float* w_hh;             // [G*H,H]
  const float* b_ih;             // [G*H] (zeros when the layer has none)
  const float* b_hh;             // [G*H]
  float* gates;                  // [T,B,G*H] in: input projections, out: activated gates
  float* hprev;                  // [T,B,H] receives the state before each step, or null
  float* aux[2];                 // the cell's reserve blocks, [T,B,H] each
  bool keep;                     // training: LSTM's aux[0] (c before the step) is filled
  float* rec;                    // [B,G*H] scratch
  float* h;                      // [B,H] in: h0, out: h_n
  float* h2;                     // [B,H] scratch (the other state buffer)
  float* c;                      // [B,H] LSTM cell state, in and out
  float* bsum;                   // [G*H] scratch
  std::uint8_t* valid;           // [B] scratch
  float* y;                      // [T,B,ldy]
  index_t ldy;
};

// valid[b] = whether row b is inside its sequence at time t, for rows [b0, b1) (lengths null: all).
inline void fill_valid(const std::int32_t* lengths, index_t t, index_t b0, index_t b1, std::uint8_t* valid) {
  for (index_t b = b0; b < b1; ++b) valid[b] = lengths ? (t < lengths[b]) : 1;
}

// Runs the forward and returns true, or returns false having done nothing where the step does
// not split so (the recurrent product on OpenBLAS, H not a multiple of the panel width, GRU's
// original variant, RNNKIT_FUSED_STEP=off).
bool rnn_forward_fused(const FusedForward& f);
// Turns the fused step off, and the backward's split of its recurrence by batch rows
// (rnn_backward): benchmarks compare them with the cells' own steps in one process.
void set_fused_step(bool on);
bool fused_step_enabled();

}  // namespace rnnkit
