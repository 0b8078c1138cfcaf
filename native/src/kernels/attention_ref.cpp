// Scalar reference for the attention kernels (contract in kernels.hpp): dot products, weighted sums and the
// causal softmax written element by element, accumulating in double. Also what the public names run in a
// TINYLM_FORCE_SCALAR build.
#include <algorithm>
#include <cmath>

#include "kernels/kernels.hpp"

namespace tinylm::ref {

void attention_scores(float* scores, const float* q, const float* keys, int ld, int n, int D, float scale) {
  for (int j = 0; j < n; ++j) {
    double dot = 0;
    for (int d = 0; d < D; ++d) dot += double(q[d]) * keys[int64_t(j) * ld + d];
    scores[j] = float(scale * dot);
  }
}

void attention_weighted_sum(float* out, const float* probs, const float* values, int ld, int n, int D, float beta) {
  for (int d = 0; d < D; ++d) {
    double sum = beta == 0.0f ? 0.0 : double(out[d]);
    for (int j = 0; j < n; ++j) sum += double(probs[j]) * values[int64_t(j) * ld + d];
    out[d] = float(sum);
  }
}

void causal_softmax_forward(float* probs, const float* scores, int ld, int R, int first_row, float scale) {
  const int columns = first_row + R;
  for (int r = 0; r < R; ++r) {
    const float* in = scores + int64_t(r) * ld;
    float* out = probs + int64_t(r) * ld;
    const int prefix = first_row + r + 1;
    double max = in[0];
    for (int j = 1; j < prefix; ++j) max = std::max(max, double(in[j]));
    double sum = 0;
    for (int j = 0; j < prefix; ++j) sum += std::exp(scale * (in[j] - max));
    for (int j = 0; j < prefix; ++j) out[j] = float(std::exp(scale * (in[j] - max)) / sum);
    for (int j = prefix; j < columns; ++j) out[j] = 0.0f;
  }
}

void causal_softmax_backward(float* dscores, const float* dprobs, const float* probs, int ld, int R, int first_row,
                             float scale) {
  const int columns = first_row + R;
  for (int r = 0; r < R; ++r) {
    const float* p = probs + int64_t(r) * ld;
    const float* dp = dprobs + int64_t(r) * ld;
    float* ds = dscores + int64_t(r) * ld;
    const int prefix = first_row + r + 1;
    double weighted = 0;  // Σ p·dp, the softmax Jacobian's rank-one part
    for (int j = 0; j < prefix; ++j) weighted += double(p[j]) * dp[j];
    for (int j = 0; j < prefix; ++j) ds[j] = float(scale * p[j] * (dp[j] - weighted));
    for (int j = prefix; j < columns; ++j) ds[j] = 0.0f;
  }
}

}  // namespace tinylm::ref
