#pragma once
namespace rnnkit {
// True when the CPU runs AVX2 and FMA and the avx2 builds of the kernels may be used.
// RNNKIT_SIMD=generic in the environment forces the portable kernels.
bool use_avx2();
}  // namespace rnnkit
