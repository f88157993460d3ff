// The built-in GEMM compiled for the AVX2/FMA target (built with -mavx2 -mfma).
#define RNNKIT_SIMD_NS avx2
#include "gemm_builtin_impl.h"

namespace rnnkit {
namespace builtin {
namespace avx2 {
template void gemm<float>(bool, bool, index_t, index_t, index_t, float, const float*, index_t,
                          const float*, index_t, float, float*, index_t);
template void gemm<double>(bool, bool, index_t, index_t, index_t, double, const double*, index_t,
                           const double*, index_t, double, double*, index_t);
template void gemm_small_tb<float>(index_t, index_t, index_t, float, const float*, index_t, const float*,
                                   index_t, float, float*, index_t);
template void gemm_small_tb<double>(index_t, index_t, index_t, double, const double*, index_t, const double*,
                                    index_t, double, double*, index_t);
template index_t packed_b_size<float>(index_t, index_t);
template void pack_b<float>(bool, index_t, index_t, const float*, index_t, float*);
template void gemm_packed<float>(bool, index_t, index_t, index_t, float, const float*, index_t, const float*, index_t,
                                 const float*, float, float*, index_t);
template void gemm_packed_block<float>(bool, index_t, index_t, index_t, const float*, index_t, const float*, index_t,
                                       const float*, float*, index_t, index_t, index_t, index_t, index_t);
template void gemm_small_tb_block<float>(index_t, index_t, const float*, index_t, const float*, index_t, float*,
                                         index_t, index_t, index_t);
}  // namespace avx2
}  // namespace builtin
}  // namespace rnnkit
