// Row ops and pooling over time, as native/kernels/rows.cpp and pooling.cpp compute them. Every
// kernel gives each output element to one thread (or, where the CPU runs a sequential loop over
// a row, each row), so no two threads write one element and no result depends on scheduling:
// the sums run in the CPU's order and round as it does.
#include "row_ops.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "reduce.cuh"
#include "runtime.h"
#include "workspace.h"

namespace rnnkit {
namespace cuda {

template <typename T>
void gather_rows(index_t N, index_t F, const T* src, const std::int32_t* idx, T* dst) {
  for_each(
      N * F,
      [=] RNNKIT_LAMBDA(index_t i) {
        const index_t n = i / F, f = i - n * F;
        dst[i] = src[static_cast<index_t>(idx[n]) * F + f];
      },
      "gather_rows");
}

// Repeated ids make this a reduction into shared rows. Rather than atomics (whose order, and so
// rounding, changes run to run), the host groups the sources by destination row (a stable sort
// of the ids it already holds) and one thread per (row, column) adds its sources in the order of
// n, exactly the CPU's sequence of += into dst.
template <typename T>
void scatter_add_rows(index_t R, index_t N, index_t F, const T* src, const std::int32_t* host_idx, T* dst) {
  (void)R;
  if (N <= 0 || F <= 0) return;
  std::vector<std::int32_t> order(static_cast<std::size_t>(N));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) { return host_idx[a] < host_idx[b]; });
  // plan = rows[U] | starts[U+1] | order[N]: one upload.
  std::vector<std::int32_t> rows, starts;
  for (index_t p = 0; p < N; ++p)
    if (p == 0 || host_idx[order[p]] != host_idx[order[p - 1]]) {
      rows.push_back(host_idx[order[p]]);
      starts.push_back(static_cast<std::int32_t>(p));
    }
  starts.push_back(static_cast<std::int32_t>(N));
  const index_t U = static_cast<index_t>(rows.size());
  std::vector<std::int32_t> plan;
  plan.reserve(static_cast<std::size_t>(U + U + 1 + N));
  plan.insert(plan.end(), rows.begin(), rows.end());
  plan.insert(plan.end(), starts.begin(), starts.end());
  plan.insert(plan.end(), order.begin(), order.end());
  Workspace ws(Workspace::Ops);
  std::int32_t* d_plan = ws.take<std::int32_t>(static_cast<index_t>(plan.size()));
  // A pageable upload returns once staged, so the host vector may go when this returns.
  to_device(d_plan, plan.data(), plan.size() * sizeof(std::int32_t));
  const std::int32_t* d_rows = d_plan;
  const std::int32_t* d_starts = d_plan + U;
  const std::int32_t* d_order = d_plan + U + U + 1;
  for_each(
      U * F,
      [=] RNNKIT_LAMBDA(index_t i) {
        const index_t u = i / F, f = i - u * F;
        T* d = dst + static_cast<index_t>(d_rows[u]) * F + f;
        T acc = *d;
        for (std::int32_t p = d_starts[u]; p < d_starts[u + 1]; ++p) acc += src[static_cast<index_t>(d_order[p]) * F + f];
        *d = acc;
      },
      "scatter_add_rows");
}

template <typename T>
void copy_cols(index_t N, index_t width, const T* src, index_t src_F, index_t src_off, T* dst, index_t dst_F,
               index_t dst_off, bool accumulate) {
  for_each(
      N * width,
      [=] RNNKIT_LAMBDA(index_t i) {
        const index_t n = i / width, j = i - n * width;
        const T v = src[n * src_F + src_off + j];
        T& d = dst[n * dst_F + dst_off + j];
        if (accumulate) d += v;
        else d = v;
      },
      "copy_cols");
}

template <typename T>
void merge_halves(index_t N, index_t H, bool mean, const T* x, T* y) {
  for_each(
      N * H,
      [=] RNNKIT_LAMBDA(index_t i) {
        const index_t n = i / H, j = i - n * H;
        const T s = x[n * 2 * H + j] + x[n * 2 * H + H + j];
        y[i] = mean ? s * T(0.5) : s;
      },
      "merge_halves");
}

template <typename T>
void split_halves_backward(index_t N, index_t H, bool mean, const T* dy, T* dx) {
  const T k = mean ? T(0.5) : T(1);
  for_each(
      N * 2 * H,
      [=] RNNKIT_LAMBDA(index_t i) {
        const index_t n = i / (2 * H), j = i - n * 2 * H;
        dx[i] += k * dy[n * H + (j < H ? j : j - H)];
      },
      "split_halves_backward");
}

// Softmax in two launches: one thread per row finds the max and the sum (sequentially, in the
// CPU's order and precision), then one thread per element writes its probability, so a wide row
// is not written by a single thread.
template <typename T>
void softmax_rows(index_t N, index_t C, const T* x, T* y) {
  Workspace ws(Workspace::Ops);
  T* stats = ws.take<T>(2 * N);  // max, sum per row
  for_each(
      N,
      [=] RNNKIT_LAMBDA(index_t n) {
        const T* z = x + n * C;
        T m = z[0];
        for (index_t c = 1; c < C; ++c) m = m < z[c] ? z[c] : m;  // std::max
        T s = 0;
        for (index_t c = 0; c < C; ++c) s += std::exp(z[c] - m);
        stats[2 * n] = m;
        stats[2 * n + 1] = s;
      },
      "softmax_rows_stats");
  for_each(
      N * C,
      [=] RNNKIT_LAMBDA(index_t i) {
        const index_t n = i / C;
        y[i] = std::exp(x[i] - stats[2 * n]) / stats[2 * n + 1];
      },
      "softmax_rows");
}

// The CPU sums exp in double whatever T is, then rounds log(sum) to T.
template <typename T>
void log_softmax_rows(index_t N, index_t C, const T* x, T* y) {
  Workspace ws(Workspace::Ops);
  T* stats = ws.take<T>(2 * N);  // max, log-sum-exp per row
  for_each(
      N,
      [=] RNNKIT_LAMBDA(index_t n) {
        const T* z = x + n * C;
        T m = z[0];
        for (index_t c = 1; c < C; ++c) m = m < z[c] ? z[c] : m;
        double s = 0;
        for (index_t c = 0; c < C; ++c) s += std::exp(static_cast<double>(z[c] - m));
        stats[2 * n] = m;
        stats[2 * n + 1] = static_cast<T>(std::log(s));
      },
      "log_softmax_rows_stats");
  for_each(
      N * C,
      [=] RNNKIT_LAMBDA(index_t i) {
        const index_t n = i / C;
        y[i] = (x[i] - stats[2 * n]) - stats[2 * n + 1];
      },
      "log_softmax_rows");
}

// `>` as on the CPU: the first maximum wins, and a NaN never replaces the current best.
template <typename T>
void argmax_rows(index_t N, index_t C, const T* x, std::int32_t* out) {
  for_each(
      N,
      [=] RNNKIT_LAMBDA(index_t n) {
        const T* z = x + n * C;
        index_t best = 0;
        for (index_t c = 1; c < C; ++c)
          if (z[c] > z[best]) best = c;
        out[n] = static_cast<std::int32_t>(best);
      },
      "argmax_rows");
}

// One thread per row keeps its k best so far, sorted, in the output row itself (an insertion
// sort: O(C) for most columns, which fail the test against the k-th). Columns arrive in
// increasing order, so an equal value never moves ahead of an earlier one: value descending,
// ties by the lower column, the order the CPU's partial_sort comparator defines (x is finite).
template <typename T>
void topk_rows(index_t N, index_t C, index_t k, const T* x, T* values, std::int32_t* indices) {
  for_each(
      N,
      [=] RNNKIT_LAMBDA(index_t n) {
        const T* z = x + n * C;
        T* v = values + n * k;
        std::int32_t* id = indices + n * k;
        index_t count = 0;
        for (index_t c = 0; c < C; ++c) {
          const T zc = z[c];
          if (count == k && !(zc > v[k - 1])) continue;
          index_t p = count < k ? count : k - 1;
          while (p > 0 && v[p - 1] < zc) {
            v[p] = v[p - 1];
            id[p] = id[p - 1];
            --p;
          }
          v[p] = zc;
          id[p] = static_cast<std::int32_t>(c);
          if (count < k) ++count;
        }
      },
      "topk_rows");
}

// One thread per (b, f), looping over the row's steps as the CPU does for every f at once.
template <typename T>
void time_pool_forward(int mode, index_t Tn, index_t B, index_t F, const T* x, const std::int32_t* lengths, T* y,
                       std::int32_t* argmax) {
  for_each(
      B * F,
      [=] RNNKIT_LAMBDA(index_t i) {
        const index_t b = i / F, f = i - b * F;
        const index_t L = lengths ? static_cast<index_t>(lengths[b]) : Tn;
        if (L == 0 || mode != 2) {
          if (argmax) argmax[i] = -1;
        }
        if (L == 0) {
          y[i] = T(0);
          return;
        }
        if (mode == 0) {
          y[i] = x[((L - 1) * B + b) * F + f];
        } else if (mode == 1) {
          T acc = T(0);
          for (index_t t = 0; t < L; ++t) acc += x[(t * B + b) * F + f];
          y[i] = acc / static_cast<T>(L);
        } else {
          T o = x[b * F + f];
          std::int32_t at = 0;
          for (index_t t = 1; t < L; ++t) {
            const T s = x[(t * B + b) * F + f];
            if (s > o) {
              o = s;
              at = static_cast<std::int32_t>(t);
            }
          }
          y[i] = o;
          if (argmax) argmax[i] = at;
        }
      },
      "time_pool_forward");
}

// Each (b, f) of dy feeds distinct elements of dx (one step for last and max, a thread per step
// for mean), so every thread owns what it adds to.
template <typename T>
void time_pool_backward(int mode, index_t Tn, index_t B, index_t F, const T* dy, const std::int32_t* lengths,
                        const std::int32_t* argmax, T* dx) {
  if (mode == 1) {
    for_each(
        Tn * B * F,
        [=] RNNKIT_LAMBDA(index_t i) {
          const index_t t = i / (B * F), bf = i - t * (B * F), b = bf / F;
          const index_t L = lengths ? static_cast<index_t>(lengths[b]) : Tn;
          if (t < L) dx[i] += dy[bf] / static_cast<T>(L);
        },
        "time_pool_backward_mean");
    return;
  }
  for_each(
      B * F,
      [=] RNNKIT_LAMBDA(index_t i) {
        const index_t b = i / F, f = i - b * F;
        if (mode == 2) {
          const std::int32_t at = argmax[i];
          if (at >= 0) dx[(static_cast<index_t>(at) * B + b) * F + f] += dy[i];
          return;
        }
        const index_t L = lengths ? static_cast<index_t>(lengths[b]) : Tn;
        if (L > 0) dx[((L - 1) * B + b) * F + f] += dy[i];
      },
      "time_pool_backward");
}

template <typename T>
double count_nonfinite(index_t n, const T* x) {
  return sum_to_host(
      n,
      [=] RNNKIT_LAMBDA(index_t i) {
        const T v = x[i];
        return (v - v == T(0)) ? 0.0 : 1.0;  // inf - inf and NaN - NaN are NaN
      },
      "count_nonfinite");
}

#define RNNKIT_CUDA_ROW_OPS(T)                                                                                        \
  template void gather_rows<T>(index_t, index_t, const T*, const std::int32_t*, T*);                                 \
  template void scatter_add_rows<T>(index_t, index_t, index_t, const T*, const std::int32_t*, T*);                   \
  template void copy_cols<T>(index_t, index_t, const T*, index_t, index_t, T*, index_t, index_t, bool);              \
  template void merge_halves<T>(index_t, index_t, bool, const T*, T*);                                               \
  template void split_halves_backward<T>(index_t, index_t, bool, const T*, T*);                                      \
  template void softmax_rows<T>(index_t, index_t, const T*, T*);                                                     \
  template void log_softmax_rows<T>(index_t, index_t, const T*, T*);                                                 \
  template void argmax_rows<T>(index_t, index_t, const T*, std::int32_t*);                                           \
  template void topk_rows<T>(index_t, index_t, index_t, const T*, T*, std::int32_t*);                                \
  template void time_pool_forward<T>(int, index_t, index_t, index_t, const T*, const std::int32_t*, T*, std::int32_t*); \
  template void time_pool_backward<T>(int, index_t, index_t, index_t, const T*, const std::int32_t*, const std::int32_t*, \
                                      T*);                                                                            \
  template double count_nonfinite<T>(index_t, const T*);
RNNKIT_CUDA_ROW_OPS(float)
RNNKIT_CUDA_ROW_OPS(double)

}  // namespace cuda
}  // namespace rnnkit
