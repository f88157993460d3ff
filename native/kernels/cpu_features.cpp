#include "cpu_features.h"

#include <cstdlib>
#include <cstring>

namespace rnnkit {
bool use_avx2() {
  static const bool on = [] {
    const char* env = std::getenv("RNNKIT_SIMD");
    if (env && std::strcmp(env, "generic") == 0) return false;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return false;
#endif
  }();
  return on;
}
bool use_avx512() {
  static const bool on = [] {
    if (!use_avx2()) return false;
    const char* env = std::getenv("RNNKIT_SIMD");
    if (env && std::strcmp(env, "avx2") == 0) return false;
#if defined(__x86_64__) || defined(__i386__)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
#else
    return false;
#endif
  }();
  return on;
}
}  // namespace rnnkit
