// The fused step kernels compiled for AVX-512 (the rnnkit_simd512 target: -mavx512f ... -mfma).
#define RNNKIT_SIMD_NS avx512
#include "rnn_steps_impl.h"
