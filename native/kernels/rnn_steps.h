// Fused element-wise kernels for one timestep of a recurrent layer. Compiled three times
// (rnn_steps_avx512.cpp with -mavx512f -mavx512dq -mavx512vl -mavx512bw -mfma,
// rnn_steps_avx2.cpp with -mavx2 -mfma, rnn_steps_generic.cpp portable); the cells pick one at
// run time (RNNKIT_STEP, cell_impl.h). Every buffer is row-major; G*H-wide rows hold the gate blocks in PyTorch order.
#pragma once
#include "common.h"

namespace rnnkit {
namespace steps {

#define RNNKIT_STEP_DECLS                                                                          \
  template <typename T>                                                                            \
  void elman_fwd(index_t B, index_t H, Activation act,                                             \
                 const T* xg,  /* [B,H] input projection (no bias) */                              \
                 const T* rec, /* [B,H] recurrent product (no bias) */                             \
                 const T* b_ih, const T* b_hh, /* [H], zeros when the layer has none */            \
                 const std::uint8_t* valid,    /* [B] */                                           \
                 T* gates,                     /* [B,H] new h stored (may alias xg) */             \
                 T* h,                         /* [B,H] state, updated where valid */              \
                 T* y, index_t ldy);           /* [B,ldy] output, 0 where not valid */            \
  template <typename T>                                                                            \
  void lstm_fwd(index_t B, index_t H, const T* xg /*[B,4H]*/, const T* rec /*[B,4H]*/,             \
                const T* b_ih, const T* b_hh, const std::uint8_t* valid,                           \
                T* gates /*[B,4H] activated i,f,g,o (may alias xg)*/, T* h /*[B,H]*/,              \
                T* c /*[B,H]*/, T* c_new /*[B,H]*/, T* y /*[B,ldy]*/, index_t ldy);                       \
  /* GRU phase 1: r and z. rh (original variant) receives r*h for the W_hn product. */             \
  template <typename T>                                                                            \
  void gru_rz_fwd(index_t B, index_t H, const T* xg /*[B,3H]*/, const T* rec /*[B,ldr]*/,          \
                  index_t ldr, const T* b_ih, const T* b_hh, const T* h /*[B,H]*/,                 \
                  T* gates /*[B,3H]*/, T* rh /*[B,H]*/);                                   \
  /* GRU phase 2: n and the new state. recn: [B,ldn] product for the n block (no bias). */        \
  template <typename T>                                                                            \
  void gru_n_fwd(index_t B, index_t H, bool reset_after, const T* xg /*[B,3H]*/,                   \
                 const T* recn, index_t ldn, const T* b_ih, const T* b_hh,                         \
                 const std::uint8_t* valid, T* gates /*[B,3H]*/, T* h /*[B,H]*/,                   \
                 T* hn_store /*[B,H]*/, T* y /*[B,ldy]*/, index_t ldy);                                   \
  /* Backward of one step. dh: [B,H] gradient carried from later steps; dy: [B,lddy] (zeros when absent).      \
     dgx: [B,GH] gradient w.r.t. the input-side pre-activations (bias_ih); dnext: [B,H]         \
     receives the direct part of the gradient w.r.t. the previous state (rows that are not       \
     valid pass dh through, their dgx rows are 0). */                                              \
  template <typename T>                                                                            \
  void elman_bwd(index_t B, index_t H, Activation act, const T* gates /*[B,H]*/, const T* dh,      \
                 const T* dy, index_t lddy, const std::uint8_t* valid, T* dgx /*[B,H]*/, T* dnext);              \
  template <typename T>                                                                            \
  void lstm_bwd(index_t B, index_t H, const T* gates /*[B,4H]*/, const T* c_prev /*[B,H]*/,        \
                const T* c_new /*[B,H]*/, const T* dh, const T* dy, index_t lddy,                  \
                const std::uint8_t* valid,                                                         \
                T* dc /*[B,H] in: from later steps, out: to earlier*/, T* dgx /*[B,4H]*/,          \
                T* dnext);                                                                         \
  /* dgh: [B,3H] gradient w.r.t. the recurrent-side pre-activations (bias_hh). For the original  \
     variant the r columns of dgx/dgh are finished by gru_reset_before_bwd. */                     \
  template <typename T>                                                                            \
  void gru_bwd(index_t B, index_t H, bool reset_after, const T* gates /*[B,3H]*/,                  \
               const T* hn /*[B,H] (read only when reset_after)*/, const T* h_prev /*[B,H]*/,             \
               const T* dh, const T* dy, index_t lddy, const std::uint8_t* valid, T* dgx, T* dgh,  \
               T* dnext);                                                                          \
  /* Fused-step slices (rnn_fused.cpp): hidden units [u0,u1) of every row, on the calling thread.  \
     rec: [B,G*H] with the slice's columns of h_in W_hh^T; bsum: b_ih + b_hh [G*H]; h_in read,     \
     h_out written (distinct [B,H] buffers); h_keep: [B,H] receives h_in's slice (training) or    \
     null. Each element gets the same operations as in the whole-row kernels above. */            \
  template <typename T>                                                                            \
  void elman_fwd_units(index_t B, index_t H, index_t u0, index_t u1, Activation act, const T* rec, \
                       const T* bsum, const std::uint8_t* valid, T* gates, const T* h_in, T* h_out,\
                       T* h_keep, T* y, index_t ldy);                                              \
  /* c: [B,H] updated in place; c_keep: receives c before the step, or null; c_new: after it. */  \
  template <typename T>                                                                            \
  void lstm_fwd_units(index_t B, index_t H, index_t u0, index_t u1, const T* rec, const T* bsum,   \
                      const std::uint8_t* valid, T* gates, const T* h_in, T* h_out, T* h_keep,     \
                      T* c, T* c_keep, T* c_new, T* y, index_t ldy);                               \
  /* The PyTorch variant (reset after W_hn). hn_store: [B,H] receives W_hn h + b_hn. */          \
  template <typename T>                                                                            \
  void gru_fwd_units(index_t B, index_t H, index_t u0, index_t u1, const T* rec, const T* bsum,    \
                     const T* b_ih, const T* b_hh, const std::uint8_t* valid, T* gates,            \
                     const T* h_in, T* h_out, T* h_keep, T* hn_store, T* y, index_t ldy);         \
  template <typename T>                                                                            \
  void gru_reset_before_bwd(index_t B, index_t H, const T* gates, const T* h_prev,                 \
                            const T* drh /*[B,H]*/, const std::uint8_t* valid, T* dgx, T* dgh,     \
                            T* dnext);

namespace avx512 {
RNNKIT_STEP_DECLS
}
namespace avx2 {
RNNKIT_STEP_DECLS
}
namespace generic {
RNNKIT_STEP_DECLS
}

}  // namespace steps
}  // namespace rnnkit
