// The attention core (native/kernels/attention.cpp) on the device. Scores, context and the
// gradients are batched matrix products, one per sequence b: the [T,B,*] layouts make each
// sequence's rows a strided matrix (leading dimension B*width), so gemm<T> runs them without
// copies. A decoder stepping one target position at a time (T small) would make those products
// B thin launches, so below kGemmMinT every output element is one thread's dot product instead.
// The softmax and its backward are one thread per (t, b) row over that row's source positions.
#include "attention.h"

#include <cmath>

#include "runtime.h"
#include "workspace.h"

namespace rnnkit {
namespace cuda {

namespace {

constexpr index_t kGemmMinT = 4;

RNNKIT_HD index_t src_len(const std::int32_t* lengths, index_t b, index_t S) { return lengths ? lengths[b] : S; }

// a (row [t,b] of alpha) holds the scores of j < L: softmax in place, 0 beyond L, as the CPU
// (max from the first score, so a row's result is the CPU's up to the scores' rounding).
template <typename T>
void softmax_rows(index_t Tn, index_t S, index_t B, const std::int32_t* lengths, T* alpha) {
  for_each(
      Tn * B,
      [=] RNNKIT_LAMBDA(index_t r) {
        const index_t L = src_len(lengths, r % B, S);
        T* a = alpha + r * S;
        T m = T(0);
        for (index_t j = 0; j < L; ++j) m = j == 0 ? a[j] : (a[j] > m ? a[j] : m);
        T sum = T(0);
        for (index_t j = 0; j < L; ++j) {
          a[j] = std::exp(a[j] - m);
          sum += a[j];
        }
        for (index_t j = 0; j < L; ++j) a[j] /= sum;
        for (index_t j = L; j < S; ++j) a[j] = T(0);
      },
      "attention_softmax");
}

// g (row [t,b]) holds dalpha; becomes ds = alpha (dalpha - alpha·dalpha) for j < L, 0 beyond.
template <typename T>
void softmax_backward_rows(index_t Tn, index_t S, index_t B, const std::int32_t* lengths, const T* alpha, T* g) {
  for_each(
      Tn * B,
      [=] RNNKIT_LAMBDA(index_t r) {
        const index_t L = src_len(lengths, r % B, S);
        const T* a = alpha + r * S;
        T* d = g + r * S;
        T dot = T(0);
        for (index_t j = 0; j < L; ++j) dot += a[j] * d[j];
        for (index_t j = 0; j < L; ++j) d[j] = a[j] * (d[j] - dot);
        for (index_t j = L; j < S; ++j) d[j] = T(0);
      },
      "attention_softmax_backward");
}

}  // namespace

template <typename T>
void attention_forward(index_t Tn, index_t S, index_t B, index_t Hd, index_t He, const T* q, const T* keys,
                       const T* values, const std::int32_t* lengths, T* alpha, T* context) {
  if (Tn >= kGemmMinT) {
    // Scores of every source position; the softmax zeroes those past the length, so the context
    // product adds exactly 0 for them (values are finite).
    for (index_t b = 0; b < B; ++b)
      gemm<T>(false, true, Tn, S, Hd, T(1), q + b * Hd, B * Hd, keys + b * Hd, B * Hd, T(0), alpha + b * S, B * S);
    softmax_rows<T>(Tn, S, B, lengths, alpha);
    for (index_t b = 0; b < B; ++b)
      gemm<T>(false, false, Tn, He, S, T(1), alpha + b * S, B * S, values + b * He, B * He, T(0), context + b * He,
              B * He);
    return;
  }
  for_each(
      Tn * B * S,
      [=] RNNKIT_LAMBDA(index_t e) {
        const index_t r = e / S, j = e % S, b = r % B;
        if (j >= src_len(lengths, b, S)) return;  // the softmax writes 0 there
        const T* h = q + r * Hd;
        const T* k = keys + (j * B + b) * Hd;
        T sc = T(0);
        for (index_t i = 0; i < Hd; ++i) sc += h[i] * k[i];
        alpha[e] = sc;
      },
      "attention_scores");
  softmax_rows<T>(Tn, S, B, lengths, alpha);
  for_each(
      Tn * B * He,
      [=] RNNKIT_LAMBDA(index_t e) {
        const index_t r = e / He, i = e % He, b = r % B;
        const index_t L = src_len(lengths, b, S);
        const T* a = alpha + r * S;
        T c = T(0);
        for (index_t j = 0; j < L; ++j) c += a[j] * values[(j * B + b) * He + i];
        context[e] = c;
      },
      "attention_context");
}

template <typename T>
void attention_backward(index_t Tn, index_t S, index_t B, index_t Hd, index_t He, const T* q, const T* keys,
                        const T* values, const std::int32_t* lengths, const T* alpha, const T* dcontext, T* dq,
                        T* dkeys, T* dvalues) {
  if (!dq && !dkeys && !dvalues) return;
  Workspace ws(Workspace::Backward);
  T* ds = ws.take<T>(Tn * B * S);
  if (Tn >= kGemmMinT) {
    if (dvalues) {
      // alpha past a length is 0 when it comes from attentionForward; masking it here keeps
      // dvalues' rows j >= L untouched whatever the caller passed, as on the CPU.
      const T* am = alpha;
      if (lengths) {
        T* m = ws.take<T>(Tn * B * S);
        for_each(
            Tn * B * S,
            [=] RNNKIT_LAMBDA(index_t e) {
              m[e] = (e % S) < src_len(lengths, (e / S) % B, S) ? alpha[e] : T(0);
            },
            "attention_mask_alpha");
        am = m;
      }
      for (index_t b = 0; b < B; ++b)
        gemm<T>(true, false, S, He, Tn, T(1), am + b * S, B * S, dcontext + b * He, B * He, T(1), dvalues + b * He,
                B * He);
    }
    if (!dq && !dkeys) return;
    for (index_t b = 0; b < B; ++b)
      gemm<T>(false, true, Tn, S, He, T(1), dcontext + b * He, B * He, values + b * He, B * He, T(0), ds + b * S,
              B * S);
    softmax_backward_rows<T>(Tn, S, B, lengths, alpha, ds);
    for (index_t b = 0; b < B; ++b) {
      if (dq)
        gemm<T>(false, false, Tn, Hd, S, T(1), ds + b * S, B * S, keys + b * Hd, B * Hd, T(1), dq + b * Hd, B * Hd);
      if (dkeys)
        gemm<T>(true, false, S, Hd, Tn, T(1), ds + b * S, B * S, q + b * Hd, B * Hd, T(1), dkeys + b * Hd, B * Hd);
    }
    return;
  }
  // One thread per gradient element, summing over its contraction index in the CPU's order
  // (t ascending, j ascending) onto the value already there.
  if (dvalues)
    for_each(
        S * B * He,
        [=] RNNKIT_LAMBDA(index_t e) {
          const index_t r = e / He, i = e % He, j = r / B, b = r % B;
          if (j >= src_len(lengths, b, S)) return;
          T acc = dvalues[e];
          for (index_t t = 0; t < Tn; ++t) acc += alpha[(t * B + b) * S + j] * dcontext[(t * B + b) * He + i];
          dvalues[e] = acc;
        },
        "attention_dvalues");
  if (!dq && !dkeys) return;
  for_each(
      Tn * B * S,
      [=] RNNKIT_LAMBDA(index_t e) {
        const index_t r = e / S, j = e % S, b = r % B;
        if (j >= src_len(lengths, b, S)) return;  // the softmax backward writes 0 there
        const T* dc = dcontext + r * He;
        const T* v = values + (j * B + b) * He;
        T g = T(0);
        for (index_t i = 0; i < He; ++i) g += dc[i] * v[i];
        ds[e] = g;
      },
      "attention_dalpha");
  softmax_backward_rows<T>(Tn, S, B, lengths, alpha, ds);
  if (dq)
    for_each(
        Tn * B * Hd,
        [=] RNNKIT_LAMBDA(index_t e) {
          const index_t r = e / Hd, i = e % Hd, b = r % B;
          const index_t L = src_len(lengths, b, S);
          const T* d = ds + r * S;
          T acc = dq[e];
          for (index_t j = 0; j < L; ++j) acc += d[j] * keys[(j * B + b) * Hd + i];
          dq[e] = acc;
        },
        "attention_dq");
  if (dkeys)
    for_each(
        S * B * Hd,
        [=] RNNKIT_LAMBDA(index_t e) {
          const index_t r = e / Hd, i = e % Hd, j = r / B, b = r % B;
          if (j >= src_len(lengths, b, S)) return;
          T acc = dkeys[e];
          for (index_t t = 0; t < Tn; ++t) acc += ds[(t * B + b) * S + j] * q[(t * B + b) * Hd + i];
          dkeys[e] = acc;
        },
        "attention_dkeys");
}

#define RNNKIT_CUDA_ATTENTION(T)                                                                                       \
  template void attention_forward<T>(index_t, index_t, index_t, index_t, index_t, const T*, const T*, const T*,        \
                                     const std::int32_t*, T*, T*);                                                     \
  template void attention_backward<T>(index_t, index_t, index_t, index_t, index_t, const T*, const T*, const T*,       \
                                      const std::int32_t*, const T*, const T*, T*, T*, T*);
RNNKIT_CUDA_ATTENTION(float)
RNNKIT_CUDA_ATTENTION(double)

}  // namespace cuda
}  // namespace rnnkit
