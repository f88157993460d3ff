// The core of Luong dot-product attention (the linear maps W_a, W_c and the tanh are separate
// ops): scores, masked softmax and the context vectors, for every decoder step at once.
#pragma once
#include <cstdint>

#include "common.h"

namespace rnnkit {

// score[t,b,j] = q[t,b] · keys[j,b];  alpha[t,b] = softmax over j < L_b (L_b = lengths[b], S when
// null), 0 for j >= L_b;  context[t,b] = Σ_j alpha[t,b,j] values[j,b].
// q: [T,B,Hd]; keys: [S,B,Hd]; values: [S,B,He]; lengths: [B] in [1,S] or null;
// alpha: [T,B,S] overwritten; context: [T,B,He] overwritten.
template <typename T>
void attention_forward(index_t Tn, index_t S, index_t B, index_t Hd, index_t He, const T* q,
                       const T* keys, const T* values, const std::int32_t* lengths, T* alpha,
                       T* context);

// Backward from dContext: dValues[j,b] += alpha dC; ds = alpha ⊙ (dα - Σ alpha dα) with
// dα_j = dC · values[j,b]; dq[t,b] += Σ_j ds_j keys[j,b]; dKeys[j,b] += ds_j q[t,b].
// dContext: [T,B,He]; dq: [T,B,Hd], dKeys: [S,B,Hd], dValues: [S,B,He], each accumulated or null.
// dKeys and dValues may be the same buffer (keys == values, Hd == He): both terms add into it.
template <typename T>
void attention_backward(index_t Tn, index_t S, index_t B, index_t Hd, index_t He, const T* q,
                        const T* keys, const T* values, const std::int32_t* lengths, const T* alpha,
                        const T* dcontext, T* dq, T* dkeys, T* dvalues);

}  // namespace rnnkit
