// Orthogonal initialization, bit-identical to the JavaScript reference (see init.h). Speed comes
// from reordering whole operations across rows, never within one: rows are taken R at a time,
// and every finished row is projected out of all R rows of a panel in one sweep, so the R dot
// products run as independent chains (each still summed in index order) in SIMD lanes.
// Contraction of a*b+c into one fused multiply-add would round differently from JavaScript.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include "init.h"

#include <cmath>
#include <vector>

namespace rnnkit {
namespace {

constexpr index_t R = 32;  // rows per panel: the lanes (and independent chains) of the dot products

// AVX2 doubles the lanes where the CPU has it; "avx2" alone enables no FMA, so nothing contracts.
#if defined(__GNUC__) && defined(__x86_64__) && defined(__linux__)
#define RNNKIT_INIT_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define RNNKIT_INIT_CLONES
#endif

// Subtracts the projection onto the finished row `b` from the R rows of panel p ([n][R]).
RNNKIT_INIT_CLONES void project_out(index_t n, const double* b, double* p) {
  double d[R] = {};
  for (index_t k = 0; k < n; ++k) {
    const double bk = b[k];
    const double* pk = p + k * R;
    for (index_t r = 0; r < R; ++r) d[r] += pk[r] * bk;
  }
  for (index_t k = 0; k < n; ++k) {
    const double bk = b[k];
    double* pk = p + k * R;
    for (index_t r = 0; r < R; ++r) pk[r] -= d[r] * bk;
  }
}

}  // namespace

void orthogonalize_rows(index_t n, double* q) {
  std::vector<double> panel(static_cast<size_t>(n) * R);
  double* p = panel.data();
  for (index_t i0 = 0; i0 < n; i0 += R) {
    const index_t rows = n - i0 < R ? n - i0 : R;
    // Unused lanes stay zero: lanes never mix, so they cannot disturb the real rows.
    for (index_t k = 0; k < n; ++k)
      for (index_t r = 0; r < R; ++r) p[k * R + r] = r < rows ? q[(i0 + r) * n + k] : 0.0;
    for (index_t j = 0; j < i0; ++j) project_out(n, q + j * n, p);
    // Within the panel, row r needs rows i0..i0+r-1 finished first: one row at a time.
    for (index_t r = 0; r < rows; ++r) {
      for (index_t j = 0; j < r; ++j) {
        double d = 0;
        for (index_t k = 0; k < n; ++k) d += p[k * R + r] * p[k * R + j];
        for (index_t k = 0; k < n; ++k) p[k * R + r] -= d * p[k * R + j];
      }
      double norm = 0;
      for (index_t k = 0; k < n; ++k) norm += p[k * R + r] * p[k * R + r];
      norm = std::sqrt(norm);
      if (norm == 0 || std::isnan(norm)) norm = 1;  // JavaScript's `Math.sqrt(norm) || 1`
      for (index_t k = 0; k < n; ++k) p[k * R + r] /= norm;
    }
    for (index_t r = 0; r < rows; ++r)
      for (index_t k = 0; k < n; ++k) q[(i0 + r) * n + k] = p[k * R + r];
  }
}

}  // namespace rnnkit
