#include "optim.h"

#include <cmath>

#include "threads.h"

namespace rnnkit {

int optim_state_count(OptimKind k) {
  switch (k) {
    case OptimKind::SGD: return 1;
    case OptimKind::Adam:
    case OptimKind::AdamW: return 2;
    case OptimKind::RMSprop: return 3;
    case OptimKind::Adagrad: return 1;
  }
  return 0;
}

template <typename T>
static void optim_range(OptimKind k, const OptimHyper& h, long step, index_t n, T* p, const T* g,
                        T* const* state);

template <typename T>
void optim_step(OptimKind k, const OptimHyper& h, long step, index_t n, T* p, const T* g,
                T* const* state) {
  // Element-wise: split the flat buffer over the pool.
  parallel_for(static_cast<long>(n), 1 << 15, [&](long b, long e) {
    T* part[3] = {nullptr, nullptr, nullptr};
    for (int i = 0; i < optim_state_count(k); ++i) part[i] = state[i] + b;
    optim_range<T>(k, h, step, e - b, p + b, g + b, part);
  });
}

template <typename T>
static void optim_range(OptimKind k, const OptimHyper& h, long step, index_t n, T* p, const T* g,
                        T* const* state) {
  const T lr = static_cast<T>(h.lr), wd = static_cast<T>(h.weight_decay);
  switch (k) {
    case OptimKind::SGD: {
      const T mom = static_cast<T>(h.momentum), damp = static_cast<T>(h.dampening);
      T* buf = state[0];
      for (index_t i = 0; i < n; ++i) {
        T d = g[i] + wd * p[i];
        if (h.momentum != 0) {
          buf[i] = step <= 1 ? d : mom * buf[i] + (T(1) - damp) * d;
          d = h.nesterov ? d + mom * buf[i] : buf[i];
        }
        p[i] -= lr * d;
      }
      break;
    }
    case OptimKind::Adam:
    case OptimKind::AdamW: {
      const bool decoupled = k == OptimKind::AdamW;
      const T b1 = static_cast<T>(h.beta1), b2 = static_cast<T>(h.beta2), eps = static_cast<T>(h.eps);
      const double bc1 = 1.0 - std::pow(h.beta1, static_cast<double>(step));
      const double bc2 = 1.0 - std::pow(h.beta2, static_cast<double>(step));
      const T step_size = static_cast<T>(h.lr / bc1);
      const T bc2_sqrt = static_cast<T>(std::sqrt(bc2));
      const T decay = static_cast<T>(1.0 - h.lr * h.weight_decay);
      T *m = state[0], *v = state[1];
      for (index_t i = 0; i < n; ++i) {
        T d = g[i];
        if (decoupled) p[i] *= decay; else d += wd * p[i];
        m[i] = b1 * m[i] + (T(1) - b1) * d;
        v[i] = b2 * v[i] + (T(1) - b2) * d * d;
        p[i] -= step_size * m[i] / (std::sqrt(v[i]) / bc2_sqrt + eps);
      }
      break;
    }
    case OptimKind::RMSprop: {
      const T a = static_cast<T>(h.alpha), eps = static_cast<T>(h.eps), mom = static_cast<T>(h.momentum);
      T *sq = state[0], *ga = state[1], *buf = state[2];
      for (index_t i = 0; i < n; ++i) {
        T d = g[i] + wd * p[i];
        sq[i] = a * sq[i] + (T(1) - a) * d * d;
        T avg;
        if (h.centered) {
          ga[i] = a * ga[i] + (T(1) - a) * d;
          avg = std::sqrt(sq[i] - ga[i] * ga[i]) + eps;
        } else {
          avg = std::sqrt(sq[i]) + eps;
        }
        if (h.momentum > 0) {
          buf[i] = mom * buf[i] + d / avg;
          p[i] -= lr * buf[i];
        } else {
          p[i] -= lr * d / avg;
        }
      }
      break;
    }
    case OptimKind::Adagrad: {
      const T clr = static_cast<T>(h.lr / (1.0 + static_cast<double>(step - 1) * h.lr_decay));
      const T eps = static_cast<T>(h.eps);
      T* sum = state[0];
      for (index_t i = 0; i < n; ++i) {
        T d = g[i] + wd * p[i];
        sum[i] += d * d;
        p[i] -= clr * d / (std::sqrt(sum[i]) + eps);
      }
      break;
    }
  }
}

template void optim_step<float>(OptimKind, const OptimHyper&, long, index_t, float*, const float*, float* const*);
template void optim_step<double>(OptimKind, const OptimHyper&, long, index_t, double*, const double*, double* const*);

}  // namespace rnnkit
