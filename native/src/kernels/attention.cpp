// SIMD attention kernels (contract in kernels.hpp): the q·k dot products over a causal prefix, the
// probability-weighted sum of values, and the causal softmax with its backward.
//  * attention_scores: four keys at a time share each load of q, so four independent FMA chains hide the
//    latency; one horizontal add per key at the end.
//  * attention_weighted_sum: registers run along D (the head size) and four accumulators along the keys.
//  * causal softmax: per row max, exp(scale·(x − max)) with its sum, one scale — never overflows — and zeros
//    after the prefix so the block GEMMs that follow may read the whole block.
#include <cmath>
#include <type_traits>

#include "kernels/kernels.hpp"
#include "kernels/simd.hpp"

namespace tinylm {

namespace {

using simd::fbatch;
using simd::fwidth;
using simd::load;
using simd::load_as;
using simd::store;
using simd::unroll;
using index_t = std::ptrdiff_t;

void attention_scores_simd(float* scores, const float* q, const float* keys, int ld, int n, int D, float scale) {
  constexpr int keys_per_tile = 4;
  int j = 0;
  for (; j + keys_per_tile <= n; j += keys_per_tile) {
    const float* tile = keys + index_t(j) * ld;
    fbatch acc[keys_per_tile];
    unroll<keys_per_tile>([&](auto k) { acc[k] = fbatch(0.0f); });
    int d = 0;
    for (; d + fwidth <= D; d += fwidth) {
      const fbatch query = load(q + d);
      unroll<keys_per_tile>([&](auto k) { acc[k] = xsimd::fma(query, load(tile + index_t(k) * ld + d), acc[k]); });
    }
    unroll<keys_per_tile>([&](auto k) {
      float dot = simd::reduce_add(acc[k]);
      for (int dd = d; dd < D; ++dd) dot += q[dd] * tile[index_t(k) * ld + dd];
      scores[j + k] = scale * dot;
    });
  }
  for (; j < n; ++j) {
    const float* key = keys + index_t(j) * ld;
    fbatch acc(0.0f);
    int d = 0;
    for (; d + fwidth <= D; d += fwidth) acc = xsimd::fma(load(q + d), load(key + d), acc);
    float dot = simd::reduce_add(acc);
    for (; d < D; ++d) dot += q[d] * key[d];
    scores[j] = scale * dot;
  }
}

void attention_weighted_sum_simd(float* out, const float* probs, const float* values, int ld, int n, int D,
                                 float beta) {
  simd::for_each_lane(D, [&](int d, auto lane) {
    using T = decltype(lane);
    T acc0(0.0f), acc1(0.0f), acc2(0.0f), acc3(0.0f);  // four chains along the keys
    int j = 0;
    for (; j + 4 <= n; j += 4) {
      const float* rows = values + index_t(j) * ld + d;
      acc0 = xsimd::fma(T(probs[j]), load_as<T>(rows), acc0);
      acc1 = xsimd::fma(T(probs[j + 1]), load_as<T>(rows + ld), acc1);
      acc2 = xsimd::fma(T(probs[j + 2]), load_as<T>(rows + 2 * index_t(ld)), acc2);
      acc3 = xsimd::fma(T(probs[j + 3]), load_as<T>(rows + 3 * index_t(ld)), acc3);
    }
    for (; j < n; ++j) acc0 = xsimd::fma(T(probs[j]), load_as<T>(values + index_t(j) * ld + d), acc0);
    const T sum = (acc0 + acc1) + (acc2 + acc3);
    store(out + d, beta == 0.0f ? sum : load_as<T>(out + d) + sum);
  });
}

// Zeros out[from, to).
void zero_range(float* out, int from, int to) {
  if (to > from) simd::for_each_lane(to - from, [&](int j, auto lane) { store(out + from + j, decltype(lane)(0.0f)); });
}

void causal_softmax_forward_simd(float* probs, const float* scores, int ld, int R, int first_row, float scale) {
  const int columns = first_row + R;
  for (int r = 0; r < R; ++r) {
    const float* in = scores + index_t(r) * ld;
    float* out = probs + index_t(r) * ld;
    const int prefix = first_row + r + 1;
    fbatch max_vector(-INFINITY);
    float max = -INFINITY;
    simd::for_each_lane(prefix, [&](int j, auto lane) {
      if constexpr (std::is_same_v<decltype(lane), float>) {
        max = std::fmax(max, in[j]);
      } else {
        max_vector = xsimd::max(max_vector, load(in + j));
      }
    });
    max = std::fmax(max, simd::reduce_max(max_vector));
    fbatch sum_vector(0.0f);
    float sum = 0.0f;
    simd::for_each_lane(prefix, [&](int j, auto lane) {
      using T = decltype(lane);
      const T e = simd::exp(T(scale) * (load_as<T>(in + j) - T(max)));
      store(out + j, e);
      if constexpr (std::is_same_v<T, float>) {
        sum += e;
      } else {
        sum_vector += e;
      }
    });
    const float inverse_sum = 1.0f / (sum + simd::reduce_add(sum_vector));
    simd::for_each_lane(prefix, [&](int j, auto lane) {
      using T = decltype(lane);
      store(out + j, load_as<T>(out + j) * T(inverse_sum));
    });
    zero_range(out, prefix, columns);
  }
}

void causal_softmax_backward_simd(float* dscores, const float* dprobs, const float* probs, int ld, int R,
                                  int first_row, float scale) {
  const int columns = first_row + R;
  for (int r = 0; r < R; ++r) {
    const float* p = probs + index_t(r) * ld;
    const float* dp = dprobs + index_t(r) * ld;
    float* ds = dscores + index_t(r) * ld;
    const int prefix = first_row + r + 1;
    fbatch weighted_vector(0.0f);
    float weighted = 0.0f;  // Σ p·dp, the softmax Jacobian's rank-one part
    simd::for_each_lane(prefix, [&](int j, auto lane) {
      using T = decltype(lane);
      const T term = load_as<T>(p + j) * load_as<T>(dp + j);
      if constexpr (std::is_same_v<T, float>) {
        weighted += term;
      } else {
        weighted_vector += term;
      }
    });
    weighted += simd::reduce_add(weighted_vector);
    simd::for_each_lane(prefix, [&](int j, auto lane) {
      using T = decltype(lane);
      store(ds + j, T(scale) * load_as<T>(p + j) * (load_as<T>(dp + j) - T(weighted)));
    });
    zero_range(ds, prefix, columns);
  }
}

}  // namespace

void attention_scores(float* scores, const float* q, const float* keys, int ld, int n, int D, float scale) {
  simd::pick(ref::attention_scores, attention_scores_simd)(scores, q, keys, ld, n, D, scale);
}
void attention_weighted_sum(float* out, const float* probs, const float* values, int ld, int n, int D, float beta) {
  simd::pick(ref::attention_weighted_sum, attention_weighted_sum_simd)(out, probs, values, ld, n, D, beta);
}
void causal_softmax_forward(float* probs, const float* scores, int ld, int R, int first_row, float scale) {
  simd::pick(ref::causal_softmax_forward, causal_softmax_forward_simd)(probs, scores, ld, R, first_row, scale);
}
void causal_softmax_backward(float* dscores, const float* dprobs, const float* probs, int ld, int R, int first_row,
                             float scale) {
  simd::pick(ref::causal_softmax_backward, causal_softmax_backward_simd)(dscores, dprobs, probs, ld, R, first_row,
                                                                          scale);
}

}  // namespace tinylm
