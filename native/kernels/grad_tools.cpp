#include "grad_tools.h"

#include <cmath>
#include <cstdint>
#include <cstring>

#include "ops.h"

namespace rnnkit {

template <typename T>
void clip_by_value(index_t n, T* x, T value) {
  for (index_t i = 0; i < n; ++i) {
    const T v = x[i];
    x[i] = v > value ? value : (v < -value ? -value : v);
  }
}

template <typename T>
double clip_by_norm(index_t n, T* x, double max_norm) {
  const double norm = l2_norm<T>(n, x);
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1.0) {
    const T c = static_cast<T>(coef);
    for (index_t i = 0; i < n; ++i) x[i] *= c;
  }
  return norm;
}

namespace {
// Exponent bits all ones = Inf or NaN. Bit tests survive -ffast-math, unlike std::isfinite.
template <typename T, typename U>
bool all_finite_bits(index_t n, const T* x, U exp_mask) {
  U bad = 0;
  for (index_t i = 0; i < n; ++i) {
    U u;
    std::memcpy(&u, x + i, sizeof u);
    bad |= static_cast<U>((u & exp_mask) == exp_mask);
  }
  return bad == 0;
}
}  // namespace

template <typename T>
bool all_finite(index_t n, const T* x) {
  if constexpr (sizeof(T) == 4) return all_finite_bits(n, x, std::uint32_t(0x7f800000u));
  else return all_finite_bits(n, x, std::uint64_t(0x7ff0000000000000ull));
}

template <typename T>
void add_sign(index_t n, T alpha, const T* p, T* g) {
  for (index_t i = 0; i < n; ++i) g[i] += p[i] > T(0) ? alpha : (p[i] < T(0) ? -alpha : T(0));
}

#define RNNKIT_INSTANTIATE_GRAD_TOOLS(T)                      \
  template void clip_by_value<T>(index_t, T*, T);             \
  template double clip_by_norm<T>(index_t, T*, double);       \
  template bool all_finite<T>(index_t, const T*);             \
  template void add_sign<T>(index_t, T, const T*, T*);
RNNKIT_INSTANTIATE_GRAD_TOOLS(float)
RNNKIT_INSTANTIATE_GRAD_TOOLS(double)

}  // namespace rnnkit
