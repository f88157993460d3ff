#define RNNKIT_SIMD_NS generic
#include "rnn_steps_impl.h"
