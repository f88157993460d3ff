// Shared by the cell kernel files (cell_<name>.cpp): the pieces a cell's step functions use.
#pragma once
#include <cstring>
#include <vector>

#include "cell_math.h"
#include "cell_table.h"
#include "cpu_features.h"
#include "gemm.h"
#include "rnn.h"
#include "rnn_steps.h"

// The AVX-512, AVX2/FMA or portable build of a fused step kernel (rnn_steps.h), chosen at run
// time like the GEMM's (RNNKIT_SIMD=avx2 or generic forces a lower one).
#define RNNKIT_STEP(fn, ...)                                     \
  (use_avx512() ? steps::avx512::fn(__VA_ARGS__)                 \
   : use_avx2() ? steps::avx2::fn(__VA_ARGS__)                   \
                : steps::generic::fn(__VA_ARGS__))
// At most the AVX2 build: GRU's backward kernels, whose AVX-512 build measured 0.6-0.9x of the
// AVX2 one's speed (npm run bench:steps).
#define RNNKIT_STEP_AVX2(fn, ...) (use_avx2() ? steps::avx2::fn(__VA_ARGS__) : steps::generic::fn(__VA_ARGS__))

namespace rnnkit {
namespace cells {

// dw_hh += dghᵀ hprev over all steps: every cell whose recurrent input is h itself.
template <typename T>
void standard_recurrent_grad(const RecurrentGrad<T>& a) {
  const index_t H = a.s->H, GH = a.s->G() * H;
  gemm<T>(true, false, GH, H, a.TB, T(1), a.dgh, GH, a.hprev, H, T(1), a.dw_hh, H);
}

}  // namespace cells
}  // namespace rnnkit
