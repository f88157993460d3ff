// Per-element work of the online learning algorithms (exact RTRL, SnAp-1, UORO; docs/online.md):
// sensitivity updates, the SnAp-1 sparsity pattern, UORO's random signs and rescaling, and the
// gradient accumulated from dL/dh and the sensitivities. The Jacobian rows, tangents and seeded
// backward steps they consume come from rtrl.h and rnn.h. Kernels trust their inputs (the
// binding checks them). Shape letters: docs/conventions.md, plus
//   S  state units of one layer (H, or 2H for LSTM: h then c)
//   P  parameters of the whole stack; Pl of one layer: G*H*(I+H+2) (w_ih, w_hh, b_ih, b_hh)
//   K  state rows per unit (1, or 2 for LSTM); n = G*(I+H+2) parameters owned by one unit
#pragma once
#include <cstdint>

#include "common.h"

namespace rnnkit {

// SnAp-1 keeps, for every unit j of a layer, its K state rows times the n parameters it owns
// (its row in every gate block). Block of unit j: [K, n] at j*K*n; a layer holds [H, K, n].
// Owned parameter q = g*(I+H+2) + r of gate block g (unit row gh = g*H + j) is, in the layer's
// flat parameters: r < I: w_ih[gh, r]; r < I+H: w_hh[gh, r-I]; r = I+H: b_ih[gh]; else b_hh[gh].
struct SnapLayout {
  index_t G = 1, K = 1, I = 1, H = 1;
  index_t n() const { return G * (I + H + 2); }
  index_t layer_params() const { return G * H * (I + H + 2); }
  index_t kept() const { return H * K * n(); }
};

// Exact RTRL, one layer of a stack: out = jss·prev + jsx·below, plus jth added at the layer's
// own columns [offset, offset+Pl).
// jss: [S,S]; jsx: [S,I]; prev: [S,P] (this layer's rows of P_{t-1}); below: [I,P] (the h rows
// of P_t of the layer below) or null for the first layer; jth: [S,Pl]; out: [S,P] overwritten.
template <typename T>
void rtrl_update(index_t S, index_t P, index_t I, index_t Pl, index_t offset, const T* jss,
                 const T* jsx, const T* prev, const T* below, const T* jth, T* out);

// SnAp-1 from full Jacobian rows (reference path; GRU 'original'). For each unit j:
// block_j ← jth[unit j's rows, own columns] + D_j · block_j with D_j = jss[unit j's rows, its cols].
// jss: [S,S]; jth: [S,Pl]; sens: [H,K,n] updated in place.
template <typename T>
void snap1_update_rows(const SnapLayout& L, const T* jss, const T* jth, T* sens);

// SnAp-1 in O(n²) for unit-local cells, from K backward steps of the layer seeded with ones on
// every h (seed 0) and on every c (seed 1, LSTM). For seed i: g: [K,Pl] row i, its parameter
// gradient (w_ih, w_hh, b_ih, b_hh); dh0, dc0: [K,H] row i, its gradient w.r.t. the previous h, c
// (dc0 null unless LSTM). The diagonal block of J for unit j is
//   D[i][0] = dh0[i,j] − (W_hhᵀ db_hh,i)_j + Σ_g db_hh,i[g*H+j] W_hh[g*H+j, j],  D[i][1] = dc0[i,j]
// and block_j ← g[·, own columns] + D · block_j.
// w_hh: [G*H,H]; sens: [H,K,n] updated in place.
template <typename T>
void snap1_update_local(const SnapLayout& L, const T* w_hh, const T* g, const T* dh0, const T* dc0,
                        T* sens);

// SnAp-1 gradient of one sequence: grads[own(j,q)] += dh[j] · block_j[0,q] (the h row).
// dh: [H]; sens: [H,K,n]; grads: [Pl] (the layer's own gradient block) accumulated.
template <typename T>
void snap1_accumulate(const SnapLayout& L, const T* dh, const T* sens, T* grads);

// UORO's random signs: nu[k] = -1 or +1 with probability 1/2, drawn from the xoshiro128** state
// (lib/rng.ts: two 32-bit draws per sign, sign from Rng.next() < 0.5), advanced in place.
// state: [4]; nu: [S] overwritten.
template <typename T>
void uoro_signs(std::uint32_t* state, index_t S, T* nu);

// UORO rescaling, ρ0 = sqrt((|θ̃|+ε)/(|J s̃|+ε)), ρ1 = sqrt((|νᵀI|+ε)/(|ν|+ε)), ε = 1e-7:
//   s̃ ← ρ0 js + ρ1 ν,  θ̃ ← θ̃/ρ0 + nuI/ρ1.
// s̃ and θ̃ are float64 whatever T. js: [S] (J s̃ plus the input term); nu: [S]; nuI: [P] (νᵀI);
// s_tilde: [S] and th_tilde: [P] updated; s_model: [S] receives s̃ in T (the next tangent) or null.
template <typename T>
void uoro_update(index_t S, index_t P, const T* js, const T* nu, const T* nuI, double* s_tilde,
                 double* th_tilde, T* s_model);

// UORO gradient of one sequence: grads += (dh · s̃[row, row+H)) θ̃.
// dh: [H]; s_tilde: [S_total] float64; th_tilde: [P] float64; grads: [P] accumulated.
template <typename T>
void uoro_accumulate(index_t H, index_t row, index_t P, const T* dh, const double* s_tilde,
                     const double* th_tilde, T* grads);

}  // namespace rnnkit
