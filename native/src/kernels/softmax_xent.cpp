// SIMD softmax and fused softmax + cross-entropy (contract in kernels.hpp). Per row: max, exp(x − max) with its
// sum, one scale — so large logits never overflow — and the loss as log(sum) − (x[target] − max), which never
// takes the log of an underflowed probability.
#include <cmath>

#include "kernels/kernels.hpp"
#include "kernels/simd.hpp"

namespace tinylm {

namespace {

using simd::fbatch;
using simd::load_as;
using simd::store;
using index_t = std::ptrdiff_t;

struct RowStats {
  float max;
  float sum;  // Σ exp(x − max)
};

// out (n) = exp(in − max(in)), unnormalised; out may alias in. Returns the max and the sum.
RowStats exp_shifted(float* out, const float* in, int n) {
  fbatch max_vector(-INFINITY);
  float max = -INFINITY;
  simd::for_each_lane(n, [&](int j, auto lane) {
    if constexpr (std::is_same_v<decltype(lane), float>) {
      max = std::fmax(max, in[j]);
    } else {
      max_vector = xsimd::max(max_vector, simd::load(in + j));
    }
  });
  max = std::fmax(max, simd::reduce_max(max_vector));

  fbatch sum_vector(0.0f);
  float sum = 0.0f;
  simd::for_each_lane(n, [&](int j, auto lane) {
    using T = decltype(lane);
    const T e = simd::exp(load_as<T>(in + j) - T(max));
    store(out + j, e);
    if constexpr (std::is_same_v<T, float>) {
      sum += e;
    } else {
      sum_vector += e;
    }
  });
  return {max, sum + simd::reduce_add(sum_vector)};
}

void scale_row(float* x, int n, float factor) {
  simd::for_each_lane(n, [&](int j, auto lane) {
    using T = decltype(lane);
    store(x + j, load_as<T>(x + j) * T(factor));
  });
}

double softmax_xent_forward_simd(float* probs, float* losses, const float* logits, const int32_t* targets, int N,
                                 int V) {
  double total = 0.0;
  for (int r = 0; r < N; ++r) {
    const float* x = logits + index_t(r) * V;
    float* p = probs + index_t(r) * V;
    const int32_t target = targets[r];
    const float target_logit = target < 0 ? 0.0f : x[target];  // read before p (which may alias x) is written
    const RowStats stats = exp_shifted(p, x, V);
    scale_row(p, V, 1.0f / stats.sum);
    const float loss = target < 0 ? 0.0f : std::log(stats.sum) - (target_logit - stats.max);
    losses[r] = loss;
    total += loss;
  }
  return total;
}

void softmax_xent_backward_simd(float* dlogits, const float* probs, const int32_t* targets, float dloss, int N,
                                int V) {
  for (int r = 0; r < N; ++r) {
    float* d = dlogits + index_t(r) * V;
    const float* p = probs + index_t(r) * V;
    const int32_t target = targets[r];
    const float scale = target < 0 ? 0.0f : dloss;  // ignored rows contribute nothing
    simd::for_each_lane(V, [&](int j, auto lane) {
      using T = decltype(lane);
      store(d + j, load_as<T>(p + j) * T(scale));
    });
    if (target >= 0) d[target] -= dloss;
  }
}

void softmax_inplace_simd(float* x, int n) {
  if (n <= 0) return;
  const RowStats stats = exp_shifted(x, x, n);
  scale_row(x, n, 1.0f / stats.sum);
}

}  // namespace

double softmax_xent_forward(float* probs, float* losses, const float* logits, const int32_t* targets, int N, int V) {
  return simd::pick(ref::softmax_xent_forward, softmax_xent_forward_simd)(probs, losses, logits, targets, N, V);
}
void softmax_xent_backward(float* dlogits, const float* probs, const int32_t* targets, float dloss, int N, int V) {
  simd::pick(ref::softmax_xent_backward, softmax_xent_backward_simd)(dlogits, probs, targets, dloss, N, V);
}
void softmax_inplace(float* x, int n) { simd::pick(ref::softmax_inplace, softmax_inplace_simd)(x, n); }

}  // namespace tinylm
