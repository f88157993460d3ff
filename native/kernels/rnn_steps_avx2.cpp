#define RNNKIT_SIMD_NS avx2
#include "rnn_steps_impl.h"
