// The training core as the CPU kernels compute it (native/kernels/ops.cpp, losses.cpp, optim.cpp,
// grad_tools.cpp): the same expressions in the same order and precision, so the emulation build
// matches the CPU to the bit where no reduction is reordered and the GPU to rounding.
// Row kernels use one thread per row or per output element: no cooperation between threads.
#include "train_ops.h"

#include <math.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "reduce.cuh"
#include "workspace.h"

namespace rnnkit {
namespace cuda {

namespace {
// The C functions of each precision: the CPU's std::exp(float) is expf, and nvcc has both in
// device code (a plain exp on a float would round through double in the emulation).
RNNKIT_HD float ex(float x) { return expf(x); }
RNNKIT_HD double ex(double x) { return exp(x); }
RNNKIT_HD float sq(float x) { return sqrtf(x); }
RNNKIT_HD double sq(double x) { return sqrt(x); }
}  // namespace

// ---- linear and embedding ----

template <typename T>
void linear_forward(index_t N, index_t I, index_t O, const T* x, const T* w, const T* b, T* y) {
  if (b) for_each(N * O, [=] RNNKIT_LAMBDA(index_t i) { y[i] = b[i % O]; }, "linear_bias_rows");
  gemm<T>(false, true, N, O, I, T(1), x, I, w, I, b ? T(1) : T(0), y, O);
}

template <typename T>
void linear_backward(index_t N, index_t I, index_t O, const T* x, const T* w, const T* dy, T* dx, T* dw, T* db) {
  gemm<T>(true, false, O, I, N, T(1), dy, O, x, I, T(1), dw, I);
  if (db)
    for_each(
        O,
        [=] RNNKIT_LAMBDA(index_t o) {
          T acc = db[o];  // the CPU's order: row after row
          for (index_t n = 0; n < N; ++n) acc += dy[n * O + o];
          db[o] = acc;
        },
        "linear_bias_grad");
  if (dx) gemm<T>(false, false, N, I, O, T(1), dy, O, w, I, T(1), dx, I);
}

template <typename T>
void embedding_forward(index_t N, index_t E, const std::int32_t* ids, const T* w, T* y) {
  for_each(
      N * E, [=] RNNKIT_LAMBDA(index_t i) { y[i] = w[static_cast<index_t>(ids[i / E]) * E + i % E]; },
      "embedding_forward");
}

template <typename T>
void embedding_backward(index_t N, index_t E, const std::int32_t* host_ids, std::int32_t padding_idx, const T* dy,
                        T* dw) {
  // Repeated ids would race as a scatter: group the sources by row on the host (the ids are
  // there already), then one thread per (row, column) adds its sources in index order.
  std::vector<std::int32_t> order;
  order.reserve(static_cast<std::size_t>(N));
  for (index_t n = 0; n < N; ++n)
    if (host_ids[n] != padding_idx) order.push_back(static_cast<std::int32_t>(n));
  if (order.empty()) return;
  std::stable_sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) { return host_ids[a] < host_ids[b]; });
  const index_t M = static_cast<index_t>(order.size());
  // One upload: order [M], then each segment's start [U+1], then its row [U].
  std::vector<std::int32_t> starts, rows;
  for (index_t k = 0; k < M; ++k)
    if (k == 0 || host_ids[order[k]] != host_ids[order[k - 1]]) {
      starts.push_back(static_cast<std::int32_t>(k));
      rows.push_back(host_ids[order[k]]);
    }
  const index_t U = static_cast<index_t>(rows.size());
  starts.push_back(static_cast<std::int32_t>(M));
  std::vector<std::int32_t> host(order);
  host.insert(host.end(), starts.begin(), starts.end());
  host.insert(host.end(), rows.begin(), rows.end());
  Workspace ws(Workspace::Ops);
  std::int32_t* dev = ws.take<std::int32_t>(static_cast<index_t>(host.size()));
  to_device(dev, host.data(), host.size() * sizeof(std::int32_t));
  const std::int32_t* src = dev;
  const std::int32_t* seg = dev + M;
  const std::int32_t* row = dev + M + U + 1;
  for_each(
      U * E,
      [=] RNNKIT_LAMBDA(index_t i) {
        const index_t u = i / E, e = i % E;
        T* out = dw + static_cast<index_t>(row[u]) * E + e;
        T acc = *out;
        for (std::int32_t k = seg[u]; k < seg[u + 1]; ++k) acc += dy[static_cast<index_t>(src[k]) * E + e];
        *out = acc;
      },
      "embedding_backward");
}

// ---- losses and metrics ----
// Each loss adds (v - v) for every input element to its sum: 0 for a finite v, NaN otherwise,
// so a non-finite input (even in a masked row) shows in the returned value at no extra pass.

template <typename T>
double softmax_cross_entropy(index_t N, index_t C, const T* logits, const std::int32_t* targets, const T* weights,
                             std::int32_t ignore_index, const std::uint8_t* mask, T scale, T* dlogits) {
  const index_t nw = weights ? C : 0;
  const double denom = sum_to_host(
      N + nw,
      [=] RNNKIT_LAMBDA(index_t i) -> double {
        if (i >= N) return static_cast<double>(weights[i - N] - weights[i - N]);
        if (targets[i] == ignore_index || (mask && !mask[i])) return 0.0;
        return weights ? static_cast<double>(weights[targets[i]]) : 1.0;
      },
      "softmax_cross_entropy_denominator");
  if (!std::isfinite(denom)) return denom;
  const double total = sum_to_host(
      N,
      [=] RNNKIT_LAMBDA(index_t n) -> double {
        const T* z = logits + n * C;
        T* d = dlogits ? dlogits + n * C : nullptr;
        double probe = 0;
        for (index_t c = 0; c < C; ++c) probe += static_cast<double>(z[c] - z[c]);
        const std::int32_t t = targets[n];
        if (t == ignore_index || (mask && !mask[n])) {
          if (d)
            for (index_t c = 0; c < C; ++c) d[c] = T(0);
          return probe;
        }
        T m = z[0];
        for (index_t c = 1; c < C; ++c) m = m < z[c] ? z[c] : m;
        double s = 0;
        for (index_t c = 0; c < C; ++c) s += ex(static_cast<double>(z[c] - m));
        const double lse = static_cast<double>(m) + log(s);
        const double wy = weights ? static_cast<double>(weights[t]) : 1.0;
        if (d) {
          if (denom <= 0) {
            for (index_t c = 0; c < C; ++c) d[c] = T(0);
          } else {
            T st = 0;  // the gradient in T, as the CPU computes it
            for (index_t c = 0; c < C; ++c) {
              d[c] = ex(static_cast<T>(z[c] - m));
              st += d[c];
            }
            const T wt = weights ? weights[t] : T(1);
            const T k = static_cast<T>(scale * wt / denom);
            for (index_t c = 0; c < C; ++c) d[c] = d[c] / st * k;
            d[t] -= k;
          }
        }
        return wy * (lse - static_cast<double>(z[t])) + probe;
      },
      "softmax_cross_entropy");
  if (!std::isfinite(total)) return total;
  return denom > 0 ? total / denom : 0.0;
}

template <typename T>
double mse_loss(index_t n, const T* pred, const T* target, T scale, T* dpred) {
  if (n == 0) return 0.0;
  const T k = static_cast<T>(2.0 * static_cast<double>(scale) / static_cast<double>(n));
  // (p - t)^2 is already non-finite when p or t is.
  const double s = sum_to_host(
      n,
      [=] RNNKIT_LAMBDA(index_t i) -> double {
        const double d = static_cast<double>(pred[i]) - static_cast<double>(target[i]);
        if (dpred) dpred[i] = k * (pred[i] - target[i]);
        return d * d;
      },
      "mse_loss");
  return s / static_cast<double>(n);
}

namespace {
double counted_rows(index_t N, const std::uint8_t* mask) {
  if (!mask) return static_cast<double>(N);
  return sum_to_host(N, [=] RNNKIT_LAMBDA(index_t r) -> double { return mask[r] ? 1.0 : 0.0; }, "counted_rows");
}
}  // namespace

template <typename T>
double masked_mse(index_t N, index_t F, const T* pred, const T* target, const std::uint8_t* mask, double scale, T* dpred) {
  const double n = counted_rows(N, mask) * static_cast<double>(F);
  const double total = sum_to_host(
      N * F,
      [=] RNNKIT_LAMBDA(index_t i) -> double {
        const bool on = n > 0 && (!mask || mask[i / F]);
        if (!on) {
          if (dpred) dpred[i] = T(0);
          return static_cast<double>(pred[i] - pred[i]) + static_cast<double>(target[i] - target[i]);
        }
        const double e = static_cast<double>(pred[i]) - static_cast<double>(target[i]);
        if (dpred) dpred[i] = static_cast<T>(2.0 * e / n * scale);
        return e * e;
      },
      "masked_mse");
  if (!std::isfinite(total)) return total;
  return n > 0 ? total / n : 0.0;
}

template <typename T>
double sigmoid_bce(index_t N, index_t F, const T* logits, const T* targets, const std::uint8_t* mask, double scale,
                   T* dlogits) {
  const double n = counted_rows(N, mask) * static_cast<double>(F);
  const double total = sum_to_host(
      N * F,
      [=] RNNKIT_LAMBDA(index_t i) -> double {
        const double probe = static_cast<double>(logits[i] - logits[i]) + static_cast<double>(targets[i] - targets[i]);
        const bool on = n > 0 && (!mask || mask[i / F]);
        if (!on) {
          if (dlogits) dlogits[i] = T(0);
          return probe;
        }
        const double z = static_cast<double>(logits[i]), t = static_cast<double>(targets[i]);
        if (dlogits) dlogits[i] = static_cast<T>((1.0 / (1.0 + exp(-z)) - t) / n * scale);
        return (z < 0.0 ? 0.0 : z) - z * t + log1p(exp(-fabs(z))) + probe;
      },
      "sigmoid_bce");
  if (!std::isfinite(total)) return total;
  return n > 0 ? total / n : 0.0;
}

template <typename T>
std::int64_t count_correct(index_t N, index_t C, const T* logits, const std::int32_t* targets, std::int32_t ignore_index,
                           const std::uint8_t* mask, std::int64_t* total) {
  *total = static_cast<std::int64_t>(sum_to_host(
      N,
      [=] RNNKIT_LAMBDA(index_t r) -> double {
        return (mask && !mask[r]) || targets[r] == ignore_index ? 0.0 : 1.0;
      },
      "count_total"));
  return static_cast<std::int64_t>(sum_to_host(
      N,
      [=] RNNKIT_LAMBDA(index_t r) -> double {
        if ((mask && !mask[r]) || targets[r] == ignore_index) return 0.0;
        const T* z = logits + r * C;
        index_t best = 0;  // the first maximum
        for (index_t c = 1; c < C; ++c)
          if (z[c] > z[best]) best = c;
        return best == targets[r] ? 1.0 : 0.0;
      },
      "count_correct"));
}

template <typename T>
std::int64_t count_correct_multilabel(index_t N, index_t F, const T* logits, const T* targets, const std::uint8_t* mask,
                                      std::int64_t* total) {
  *total = static_cast<std::int64_t>(counted_rows(N, mask));
  return static_cast<std::int64_t>(sum_to_host(
      N,
      [=] RNNKIT_LAMBDA(index_t r) -> double {
        if (mask && !mask[r]) return 0.0;
        bool ok = true;
        for (index_t j = 0; j < F && ok; ++j) ok = (logits[r * F + j] > T(0)) == (targets[r * F + j] > T(0.5));
        return ok ? 1.0 : 0.0;
      },
      "count_correct_multilabel"));
}

// ---- optimizer steps (PyTorch's single-tensor update rules, as native/kernels/optim.cpp) ----

int optim_state_buffers(int kind) { return kind == 1 || kind == 2 ? 2 : kind == 3 ? 3 : 1; }

namespace {
// The step's constants, computed on the host in the CPU kernel's precision.
template <typename T>
struct OptimConsts {
  int kind;
  T lr, wd, mom, damp, b1, b2, eps, step_size, bc2_sqrt, decay, alpha, clr;
  bool first, nesterov, centered, sgd_momentum, rms_momentum;
};
}  // namespace

template <typename T>
void optim_step(int kind, const OptimHyperParams& h, long step, index_t n, T* p, const T* g, T* const* state) {
  OptimConsts<T> c{};
  c.kind = kind;
  c.lr = static_cast<T>(h.lr);
  c.wd = static_cast<T>(h.weight_decay);
  c.mom = static_cast<T>(h.momentum);
  c.damp = static_cast<T>(h.dampening);
  c.b1 = static_cast<T>(h.beta1);
  c.b2 = static_cast<T>(h.beta2);
  c.eps = static_cast<T>(h.eps);
  const double bc1 = 1.0 - std::pow(h.beta1, static_cast<double>(step));
  const double bc2 = 1.0 - std::pow(h.beta2, static_cast<double>(step));
  c.step_size = static_cast<T>(h.lr / bc1);
  c.bc2_sqrt = static_cast<T>(std::sqrt(bc2));
  c.decay = static_cast<T>(1.0 - h.lr * h.weight_decay);
  c.alpha = static_cast<T>(h.alpha);
  c.clr = static_cast<T>(h.lr / (1.0 + static_cast<double>(step - 1) * h.lr_decay));
  c.first = step <= 1;
  c.nesterov = h.nesterov;
  c.centered = h.centered;
  c.sgd_momentum = h.momentum != 0;
  c.rms_momentum = h.momentum > 0;
  T* s0 = state[0];
  T* s1 = optim_state_buffers(kind) > 1 ? state[1] : nullptr;
  T* s2 = optim_state_buffers(kind) > 2 ? state[2] : nullptr;
  for_each(
      n,
      [=] RNNKIT_LAMBDA(index_t i) {
        if (c.kind == 0) {  // SGD
          T d = g[i] + c.wd * p[i];
          if (c.sgd_momentum) {
            s0[i] = c.first ? d : c.mom * s0[i] + (T(1) - c.damp) * d;
            d = c.nesterov ? d + c.mom * s0[i] : s0[i];
          }
          p[i] -= c.lr * d;
        } else if (c.kind == 1 || c.kind == 2) {  // Adam, AdamW (decoupled decay)
          T d = g[i];
          if (c.kind == 2) p[i] *= c.decay;
          else d += c.wd * p[i];
          s0[i] = c.b1 * s0[i] + (T(1) - c.b1) * d;
          s1[i] = c.b2 * s1[i] + (T(1) - c.b2) * d * d;
          p[i] -= c.step_size * s0[i] / (sq(s1[i]) / c.bc2_sqrt + c.eps);
        } else if (c.kind == 3) {  // RMSprop
          T d = g[i] + c.wd * p[i];
          s0[i] = c.alpha * s0[i] + (T(1) - c.alpha) * d * d;
          T avg;
          if (c.centered) {
            s1[i] = c.alpha * s1[i] + (T(1) - c.alpha) * d;
            avg = sq(s0[i] - s1[i] * s1[i]) + c.eps;
          } else {
            avg = sq(s0[i]) + c.eps;
          }
          if (c.rms_momentum) {
            s2[i] = c.mom * s2[i] + d / avg;
            p[i] -= c.lr * s2[i];
          } else {
            p[i] -= c.lr * d / avg;
          }
        } else {  // Adagrad
          T d = g[i] + c.wd * p[i];
          s0[i] += d * d;
          p[i] -= c.clr * d / (sq(s0[i]) + c.eps);
        }
      },
      "optim_step");
}

// ---- gradient tools ----

template <typename T>
void clip_by_value(index_t n, T* x, T value) {
  for_each(
      n,
      [=] RNNKIT_LAMBDA(index_t i) {
        const T v = x[i];
        x[i] = v > value ? value : (v < -value ? -value : v);
      },
      "clip_by_value");
}

template <typename T>
double clip_by_norm(index_t n, T* x, double max_norm) {
  const double norm = std::sqrt(sum_to_host(
      n, [=] RNNKIT_LAMBDA(index_t i) { return static_cast<double>(x[i]) * static_cast<double>(x[i]); }, "clip_norm"));
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1.0) {
    const T k = static_cast<T>(coef);
    for_each(n, [=] RNNKIT_LAMBDA(index_t i) { x[i] *= k; }, "clip_by_norm");
  }
  return norm;
}

template <typename T>
void add_sign(index_t n, T alpha, const T* p, T* g) {
  for_each(
      n, [=] RNNKIT_LAMBDA(index_t i) { g[i] += p[i] > T(0) ? alpha : (p[i] < T(0) ? -alpha : T(0)); }, "add_sign");
}

template <typename T>
index_t first_non_finite(index_t n, const T* x, double* value) {
  std::vector<T> h(static_cast<std::size_t>(n));
  if (n > 0) to_host(h.data(), x, h.size() * sizeof(T));
  for (index_t i = 0; i < n; ++i)
    if (!std::isfinite(static_cast<double>(h[i]))) {
      *value = static_cast<double>(h[i]);
      return i;
    }
  return -1;
}

#define RNNKIT_CUDA_TRAIN_OPS(T)                                                                                        \
  template void linear_forward<T>(index_t, index_t, index_t, const T*, const T*, const T*, T*);                        \
  template void linear_backward<T>(index_t, index_t, index_t, const T*, const T*, const T*, T*, T*, T*);               \
  template void embedding_forward<T>(index_t, index_t, const std::int32_t*, const T*, T*);                            \
  template void embedding_backward<T>(index_t, index_t, const std::int32_t*, std::int32_t, const T*, T*);              \
  template double softmax_cross_entropy<T>(index_t, index_t, const T*, const std::int32_t*, const T*, std::int32_t,    \
                                           const std::uint8_t*, T, T*);                                                \
  template double mse_loss<T>(index_t, const T*, const T*, T, T*);                                                     \
  template double masked_mse<T>(index_t, index_t, const T*, const T*, const std::uint8_t*, double, T*);                \
  template double sigmoid_bce<T>(index_t, index_t, const T*, const T*, const std::uint8_t*, double, T*);               \
  template std::int64_t count_correct<T>(index_t, index_t, const T*, const std::int32_t*, std::int32_t,                \
                                         const std::uint8_t*, std::int64_t*);                                          \
  template std::int64_t count_correct_multilabel<T>(index_t, index_t, const T*, const T*, const std::uint8_t*,         \
                                                    std::int64_t*);                                                    \
  template void optim_step<T>(int, const OptimHyperParams&, long, index_t, T*, const T*, T* const*);                   \
  template void clip_by_value<T>(index_t, T*, T);                                                                      \
  template double clip_by_norm<T>(index_t, T*, double);                                                                \
  template void add_sign<T>(index_t, T, const T*, T*);                                                                 \
  template index_t first_non_finite<T>(index_t, const T*, double*);
RNNKIT_CUDA_TRAIN_OPS(float)
RNNKIT_CUDA_TRAIN_OPS(double)

}  // namespace cuda
}  // namespace rnnkit
