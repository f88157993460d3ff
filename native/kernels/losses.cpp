#include "losses.h"

#include <algorithm>
#include <cmath>

namespace rnnkit {

namespace {
index_t counted_rows(index_t N, const std::uint8_t* mask) {
  if (!mask) return N;
  index_t c = 0;
  for (index_t n = 0; n < N; ++n) c += mask[n] ? 1 : 0;
  return c;
}
}  // namespace

template <typename T>
double sigmoid_bce(index_t N, index_t F, const T* logits, const T* targets, const std::uint8_t* mask,
                   double scale, T* dlogits) {
  const double n = static_cast<double>(counted_rows(N, mask) * F);
  double total = 0;
  for (index_t r = 0; r < N; ++r) {
    const bool on = n > 0 && (!mask || mask[r]);
    T* d = dlogits ? dlogits + r * F : nullptr;
    if (!on) { if (d) std::fill(d, d + F, T(0)); continue; }
    for (index_t j = 0; j < F; ++j) {
      const double z = static_cast<double>(logits[r * F + j]), t = static_cast<double>(targets[r * F + j]);
      total += std::max(z, 0.0) - z * t + std::log1p(std::exp(-std::abs(z)));
      if (d) d[j] = static_cast<T>((1.0 / (1.0 + std::exp(-z)) - t) / n * scale);
    }
  }
  return n > 0 ? total / n : 0.0;
}

template <typename T>
double masked_mse(index_t N, index_t F, const T* pred, const T* target, const std::uint8_t* mask,
                  double scale, T* dpred) {
  const double n = static_cast<double>(counted_rows(N, mask) * F);
  double total = 0;
  for (index_t r = 0; r < N; ++r) {
    const bool on = n > 0 && (!mask || mask[r]);
    T* d = dpred ? dpred + r * F : nullptr;
    if (!on) { if (d) std::fill(d, d + F, T(0)); continue; }
    for (index_t j = 0; j < F; ++j) {
      const double e = static_cast<double>(pred[r * F + j]) - static_cast<double>(target[r * F + j]);
      total += e * e;
      if (d) d[j] = static_cast<T>(2.0 * e / n * scale);
    }
  }
  return n > 0 ? total / n : 0.0;
}

template <typename T>
std::int64_t count_correct(index_t N, index_t C, const T* logits, const std::int32_t* targets,
                           std::int32_t ignore_index, const std::uint8_t* mask, std::int64_t* total) {
  std::int64_t correct = 0, counted = 0;
  for (index_t r = 0; r < N; ++r) {
    if ((mask && !mask[r]) || targets[r] == ignore_index) continue;
    const T* z = logits + r * C;
    index_t best = 0;
    for (index_t c = 1; c < C; ++c)
      if (z[c] > z[best]) best = c;
    ++counted;
    if (best == targets[r]) ++correct;
  }
  *total = counted;
  return correct;
}

template <typename T>
std::int64_t count_correct_multilabel(index_t N, index_t F, const T* logits, const T* targets,
                                      const std::uint8_t* mask, std::int64_t* total) {
  std::int64_t correct = 0, counted = 0;
  for (index_t r = 0; r < N; ++r) {
    if (mask && !mask[r]) continue;
    ++counted;
    bool ok = true;
    for (index_t j = 0; j < F && ok; ++j)
      ok = (logits[r * F + j] > T(0)) == (targets[r * F + j] > T(0.5));
    if (ok) ++correct;
  }
  *total = counted;
  return correct;
}

#define RNNKIT_INSTANTIATE_LOSSES(T)                                                               \
  template double sigmoid_bce<T>(index_t, index_t, const T*, const T*, const std::uint8_t*,       \
                                 double, T*);                                                     \
  template double masked_mse<T>(index_t, index_t, const T*, const T*, const std::uint8_t*, double, \
                                T*);                                                              \
  template std::int64_t count_correct<T>(index_t, index_t, const T*, const std::int32_t*,         \
                                         std::int32_t, const std::uint8_t*, std::int64_t*);       \
  template std::int64_t count_correct_multilabel<T>(index_t, index_t, const T*, const T*,         \
                                                    const std::uint8_t*, std::int64_t*);
RNNKIT_INSTANTIATE_LOSSES(float)
RNNKIT_INSTANTIATE_LOSSES(double)

}  // namespace rnnkit
