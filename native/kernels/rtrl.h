// Jacobians of one recurrent step, for real-time recurrent learning: the rows of ∂s'/∂s,
// ∂s'/∂x and ∂s'/∂θ for one sequence, where s = h (Elman, GRU) or [h; c] (LSTM). Each row is one
// single-step backward pass seeded with one state unit, so the math is exactly BPTT's.
#pragma once
#include "rnn.h"

namespace rnnkit {

// s: one layer with T = 1, B = 1. x: [I]; h0, c0: [H] (c0 LSTM only); weights as rnn_forward
// (biases may be null). Out: h1, c1: [H] the new state; jss: [S,S]; jsx: [S,I];
// jth: [S,P] with P = G*H*(I+H) (+ 2*G*H with biases) laid out w_ih, w_hh, b_ih, b_hh.
template <typename T>
void rnn_step_jacobians(const RnnShape& s, const T* x, const T* h0, const T* c0, const T* w_ih,
                        const T* w_hh, const T* b_ih, const T* b_hh, T* h1, T* c1, T* jss,
                        T* jsx, T* jth);

// Forward-mode derivative of one step (J·v): the tangent of the new state for a tangent v of
// the previous state (vh, and vc for LSTM) and u of the input (or null). O(n²).
// Out: h1, c1: [H] the new state; th1, tc1: [H] its tangent (tc1 LSTM only).
template <typename T>
void rnn_step_jvp(const RnnShape& s, const T* x, const T* h0, const T* c0, const T* w_ih,
                  const T* w_hh, const T* b_ih, const T* b_hh, const T* u, const T* vh,
                  const T* vc, T* h1, T* c1, T* th1, T* tc1);

}  // namespace rnnkit
