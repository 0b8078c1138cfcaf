// SIMD attention kernels (contract in kernels.hpp): the q·k dot products over a causal prefix, the
// probability-weighted sum of values, and the causal softmax with its backward.
//  * attention_scores: fwidth keys at a time share each load of q; one parallel horizontal add per tile.
//  * attention_weighted_sum: registers run along D (the head size), rows in several streams.
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

// Keys in tiles of fwidth: per step along D one load of q serves the tile's keys (fwidth independent FMA chains),
// and one parallel horizontal add turns the tile's accumulators into its fwidth scores, stored as one register.
// The tail of D is scalar; the keys after the last tile run one at a time.
void attention_scores_simd(float* scores, const float* q, const float* keys, int ld, int n, int D, float scale) {
  constexpr int tile = fwidth;
  const int D_vector = D - D % fwidth;
  int j = 0;
  for (; j + tile <= n; j += tile) {
    const float* rows = keys + index_t(j) * ld;
    fbatch acc[tile];
    unroll<tile>([&](auto k) { acc[k] = fbatch(0.0f); });
    for (int d = 0; d < D_vector; d += fwidth) {
      const fbatch query = load(q + d);
      unroll<tile>([&](auto k) { acc[k] = simd::multiply_add(query, load(rows + index_t(k) * ld + d), acc[k]); });
    }
    fbatch dots = simd::reduce_add_rows(acc);
    if (D_vector < D) {
      alignas(64) float tails[tile];
      for (int k = 0; k < tile; ++k) {
        float tail = 0.0f;
        for (int d = D_vector; d < D; ++d) tail += q[d] * rows[index_t(k) * ld + d];
        tails[k] = tail;
      }
      dots += fbatch::load_aligned(tails);
    }
    store(scores + j, fbatch(scale) * dots);
  }
  for (; j < n; ++j) {
    const float* key = keys + index_t(j) * ld;
    fbatch acc(0.0f);
    for (int d = 0; d < D_vector; d += fwidth) acc = simd::multiply_add(load(q + d), load(key + d), acc);
    float dot = simd::reduce_add(acc);
    for (int d = D_vector; d < D; ++d) dot += q[d] * key[d];
    scores[j] = scale * dot;
  }
}

// Values row by row into R accumulators along D, so each probability is broadcast once per slice of R·fwidth
// floats; S rows at a time into separate accumulators, so R·S ≥ 8 independent FMA chains hide the latency.
template <int R>
void weighted_rows(float* out, const float* probs, const float* values, int ld, int n, float beta) {
  constexpr int S = R >= 8 ? 1 : 8 / R;
  fbatch acc[S][R];
  unroll<S * R>([&](auto t) { acc[t / R][t % R] = fbatch(0.0f); });
  auto add_row = [&](int j, auto s) {
    const fbatch p(probs[j]);
    const float* row = values + index_t(j) * ld;
    unroll<R>([&](auto r) { acc[s][r] = simd::multiply_add(p, load(row + r * fwidth), acc[s][r]); });
  };
  int j = 0;
  for (; j + S <= n; j += S) unroll<S>([&](auto s) { add_row(j + s, s); });
  for (; j < n; ++j) add_row(j, std::integral_constant<int, 0>{});
  unroll<R>([&](auto r) {
    fbatch sum = acc[0][r];
    unroll<S - 1>([&](auto s) { sum += acc[s + 1][r]; });
    store(out + r * fwidth, beta == 0.0f ? sum : load(out + r * fwidth) + sum);
  });
}

// Slices of D: 8 registers (all of a 32-float head in wasm), then 2, then 1, then a scalar tail.
void attention_weighted_sum_simd(float* out, const float* probs, const float* values, int ld, int n, int D,
                                 float beta) {
  int d = 0;
  for (; d + 8 * fwidth <= D; d += 8 * fwidth) weighted_rows<8>(out + d, probs, values + d, ld, n, beta);
  for (; d + 2 * fwidth <= D; d += 2 * fwidth) weighted_rows<2>(out + d, probs, values + d, ld, n, beta);
  for (; d + fwidth <= D; d += fwidth) weighted_rows<1>(out + d, probs, values + d, ld, n, beta);
  for (; d < D; ++d) {
    float sum = 0.0f;
    for (int j = 0; j < n; ++j) sum += probs[j] * values[index_t(j) * ld + d];
    out[d] = beta == 0.0f ? sum : out[d] + sum;
  }
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
