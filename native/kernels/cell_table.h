// The cell table: one row per recurrent cell, the only place that knows which cells exist, how
// many gates and state vectors each has, what it keeps in the reserve, and which step kernels
// run it. The sequence code (rnn.cpp forward/BPTT, rtrl.cpp step Jacobians and JVPs) and the
// binding look a cell up once per call and then call its kernels; nothing else branches on the
// cell. Adding a cell: a CellType value, one kernel file (cell_<name>.cpp defining its
// CellSteps, like cell_lstm.cpp) and one row below (plus lib/cells/table.ts for TypeScript).
// Shape letters: docs/conventions.md.
#pragma once
#include <cstdint>

#include "common.h"

namespace rnnkit {

// ---- step kernels ----

struct RnnShape;

// One forward timestep t of a layer over the batch. Pointers are into the caller's buffers at
// step t; `aux` are the cell's reserve blocks at step t ([B,H] each; scratch sinks for inference).
template <typename T>
struct ForwardStep {
  const RnnShape* s;
  const T* w_hh;                 // [G*H,H]
  const T* b_ih; const T* b_hh;  // [G*H], zeros when the layer has none
  const std::uint8_t* valid;     // [B]
  T* gates;                      // [B,G*H] in: input projection, out: activated gates
  T* rec;                        // [B,G*H] scratch for the recurrent product
  T* tmp;                        // [B,H] scratch
  T* h; T* c;                    // [B,H] state (c: second state vector, if any), updated where valid
  T* aux[2];                     // the cell's reserve blocks at t
  T* y; index_t ldy;             // [B,ldy] output
  bool keep;                     // training: aux are kept for backward
};

// One backward timestep t. dh: gradient carried from later steps; dnext receives it for the
// previous state (the caller then swaps dh and dnext).
template <typename T>
struct BackwardStep {
  const RnnShape* s;
  const T* w_hh;                 // [G*H,H]
  const std::uint8_t* valid;     // [B]
  const T* gates;                // [B,G*H] as forward stored them
  const T* hprev;                // [B,H]
  const T* aux[2];               // the cell's reserve blocks at t
  const T* zeros;                // [B,H] of zeros
  const T* dh; const T* dy; index_t lddy;
  T* dc;                         // [B,H] gradient of the second state, in and out (LSTM)
  T* dgx; T* dgh;                // [B,G*H] input-side / recurrent-side pre-activation gradients (same buffer unless split)
  T* drh;                        // [B,H] scratch
  T* dnext;                      // [B,H] out
};

// The weight gradient of W_hh over all steps, dw_hh += Σ_t dgh_tᵀ (recurrent input at t).
// dgh: [T*B,G*H]; hprev: [T*B,H]; aux0: the first reserve block over all steps ([T*B,H]) or null.
template <typename T>
struct RecurrentGrad {
  const RnnShape* s;
  index_t TB;
  const T* dgh; const T* hprev; const T* aux0;
  T* dw_hh;
};

// Forward-mode derivative of one step (T = B = 1) once the forward has run. g: the activated
// gates [G*H]; aux: the reserve blocks [H]; tx: [G*H] = W_ih u (zeros without an input tangent).
template <typename T>
struct JvpStep {
  const RnnShape* s;
  const T* w_hh;
  const T* g; const T* aux[2];
  const T* h0; const T* h1;      // previous and new h
  const T* tx;
  const T* vh; const T* vc;      // tangents of the previous h, c
  T* th1; T* tc1;                // tangents of the new h, c
};

template <typename T>
struct CellSteps {
  void (*forward)(const ForwardStep<T>&);
  void (*backward)(const BackwardStep<T>&);
  void (*recurrent_grad)(const RecurrentGrad<T>&);
  void (*jvp)(const JvpStep<T>&);  // null when !step_jacobians
};

// Each cell's kernel file defines its kernels.
template <typename T> const CellSteps<T>& elman_steps();
template <typename T> const CellSteps<T>& lstm_steps();
template <typename T> const CellSteps<T>& gru_steps();

// ---- the table ----

struct CellInfo {
  CellType type;
  const char* name;       // as JavaScript spells it ("elman", "lstm", "gru")
  int gates;              // G: gate blocks along the first axis of the weights
  int states;             // state vectors: 1 (h) or 2 (h, c)
  int reserve_blocks;     // [T,B,H] blocks the reserve keeps after gates [T,B,G*H] and hprev [T,B,H]
  bool split_gate_grads;  // backward keeps the recurrent-side pre-activation gradients apart (GRU)
  bool step_jacobians;    // rnn_step_jacobians / rnn_step_jvp (RTRL, SnAp-1, UORO)
  const CellSteps<float>& (*steps_f32)();
  const CellSteps<double>& (*steps_f64)();
};

// Indexed by CellType.
inline constexpr CellInfo kCellTable[] = {
    // type            name     G  states reserve split  jacobians
    {CellType::Elman, "elman", 1, 1, 0, false, true, &elman_steps<float>, &elman_steps<double>},  // reserve: none
    {CellType::LSTM, "lstm", 4, 2, 2, false, true, &lstm_steps<float>, &lstm_steps<double>},      // reserve: cprev, cnew
    {CellType::GRU, "gru", 3, 1, 1, true, true, &gru_steps<float>, &gru_steps<double>},           // reserve: W_hn h + b_hn (pytorch) or r*h (original)
};
inline constexpr int kCellCount = static_cast<int>(sizeof(kCellTable) / sizeof(kCellTable[0]));

constexpr bool table_is_indexed_by_type() {
  for (int i = 0; i < kCellCount; ++i)
    if (static_cast<int>(kCellTable[i].type) != i) return false;
  return true;
}
static_assert(table_is_indexed_by_type(), "kCellTable rows must be in CellType order");

constexpr const CellInfo& cell_info(CellType c) { return kCellTable[static_cast<int>(c)]; }
constexpr int gate_count(CellType c) { return cell_info(c).gates; }
constexpr int state_count(CellType c) { return cell_info(c).states; }

// The kernels of a cell (one lookup per call).
template <typename T>
const CellSteps<T>& cell_steps(CellType c);
template <>
inline const CellSteps<float>& cell_steps<float>(CellType c) { return cell_info(c).steps_f32(); }
template <>
inline const CellSteps<double>& cell_steps<double>(CellType c) { return cell_info(c).steps_f64(); }

}  // namespace rnnkit
