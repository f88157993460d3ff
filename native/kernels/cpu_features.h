#pragma once
namespace rnnkit {
// True when the CPU runs AVX2 and FMA and the avx2 builds of the kernels may be used.
// RNNKIT_SIMD=generic in the environment forces the portable kernels.
bool use_avx2();
// True when the CPU runs AVX-512 F/DQ/VL/BW (and use_avx2()): the avx512 build of the GEMM may
// be used. RNNKIT_SIMD=avx2 in the environment keeps the AVX2 kernels.
bool use_avx512();
}  // namespace rnnkit
