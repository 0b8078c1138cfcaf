#include "layers/attention.hpp"

#include <algorithm>
#include <cmath>

#include "kernels/kernels.hpp"
#include "tinylm/error.hpp"
#include "tinylm/rng.hpp"

namespace tinylm {

namespace {

// Query rows per causal block: small enough that the skipped upper triangle is most of the waste a full T×T
// product would do, large enough that each block is still a reasonable GEMM.
constexpr int kQueryBlock = 32;

void grow(std::vector<float>& buffer, int64_t floats) {
  if (buffer.size() < size_t(floats)) buffer.resize(floats);
}

}  // namespace

void attention_forward(float* out, AttentionCache& cache, const float* qkv, float dropout, Rng* rng, int B, int T,
                       int C, int NH) {
  attention_forward(out, cache, qkv, AttentionHeads{NH, NH, C / NH}, dropout, rng, B, T);
}

void attention_forward(float* out, AttentionCache& cache, const float* qkv, const AttentionHeads& heads, float dropout,
                       Rng* rng, int B, int T) {
  const int NH = heads.NH, D = heads.D, group = NH / heads.KVH;
  const int C = NH * D, ld_qkv = (NH + 2 * heads.KVH) * D;  // C: the output row's width
  const float scale = 1.0f / std::sqrt(float(D));
  const int64_t block_floats = int64_t(T) * T;  // one (batch row, head)
  grow(cache.probs, int64_t(B) * NH * block_floats);
  cache.dropout_active = dropout > 0.0f && rng != nullptr;
  if (cache.dropout_active) {
    grow(cache.mask, int64_t(B) * NH * block_floats);
    grow(cache.dropped, int64_t(B) * NH * block_floats);
  }
  const float keep_scale = 1.0f / (1.0f - dropout);
  for (int b = 0; b < B; ++b) {
    for (int h = 0; h < NH; ++h) {
      const float* q = qkv + int64_t(b) * T * ld_qkv + h * D;  // (T, D) rows ld_qkv apart
      const float* k = qkv + int64_t(b) * T * ld_qkv + (NH + h / group) * D;
      const float* v = k + heads.KVH * D;
      const int64_t block_offset = (int64_t(b) * NH + h) * block_floats;
      float* probs = cache.probs.data() + block_offset;  // (T,T)
      float* y = out + int64_t(b) * T * C + h * D;        // (T, D) rows C apart
      for (int t0 = 0; t0 < T; t0 += kQueryBlock) {
        const int rows = std::min(kQueryBlock, T - t0), keys = t0 + rows;
        float* block = probs + int64_t(t0) * T;
        sgemm_nt(block, T, q + int64_t(t0) * ld_qkv, ld_qkv, k, ld_qkv, rows, keys, D, 0.0f);
        causal_softmax_forward(block, block, T, rows, t0, scale);
        const float* weights = block;
        if (cache.dropout_active) {
          float* mask = cache.mask.data() + block_offset + int64_t(t0) * T;
          float* dropped = cache.dropped.data() + block_offset + int64_t(t0) * T;
          for (int r = 0; r < rows; ++r) {
            for (int j = 0; j < keys; ++j) {
              const int64_t at = int64_t(r) * T + j;
              mask[at] = j <= t0 + r && rng->uniform() >= dropout ? keep_scale : 0.0f;
              dropped[at] = block[at] * mask[at];
            }
          }
          weights = dropped;
        }
        sgemm_nn(y + int64_t(t0) * C, C, weights, T, v, ld_qkv, rows, D, keys, 0.0f);
      }
    }
  }
}

void attention_backward(float* dqkv, const float* dout, const float* qkv, AttentionCache& cache, int B, int T, int C,
                        int NH) {
  attention_backward(dqkv, dout, qkv, cache, AttentionHeads{NH, NH, C / NH}, B, T);
}

void attention_backward(float* dqkv, const float* dout, const float* qkv, AttentionCache& cache,
                        const AttentionHeads& heads, int B, int T) {
  const int NH = heads.NH, D = heads.D, group = NH / heads.KVH;
  const int C = NH * D, ld_qkv = (NH + 2 * heads.KVH) * D;  // C: dout's row width
  const float scale = 1.0f / std::sqrt(float(D));
  const int64_t block_floats = int64_t(T) * T;
  grow(cache.dprobs, block_floats);
  float* dprobs = cache.dprobs.data();
  for (int b = 0; b < B; ++b) {
    for (int h = 0; h < NH; ++h) {
      const int64_t row_offset = int64_t(b) * T * ld_qkv, key_column = (NH + h / group) * D;
      const float *q = qkv + row_offset + h * D, *k = qkv + row_offset + key_column, *v = k + heads.KVH * D;
      float *dq = dqkv + row_offset + h * D, *dk = dqkv + row_offset + key_column, *dv = dk + heads.KVH * D;
      const float* dy = dout + int64_t(b) * T * C + h * D;  // (T, D) rows C apart
      const int64_t block_offset = (int64_t(b) * NH + h) * block_floats;
      const float* probs = cache.probs.data() + block_offset;
      const float* weights = cache.dropout_active ? cache.dropped.data() + block_offset : probs;
      for (int t0 = 0; t0 < T; t0 += kQueryBlock) {
        const int rows = std::min(kQueryBlock, T - t0), keys = t0 + rows;
        const int64_t first = int64_t(t0) * T;
        float* dblock = dprobs + first;
        // y = weights·v:  dweights = dy·vᵀ,  dv += weightsᵀ·dy
        sgemm_nt(dblock, T, dy + int64_t(t0) * C, C, v, ld_qkv, rows, keys, D, 0.0f);
        sgemm_tn(dv, ld_qkv, weights + first, T, dy + int64_t(t0) * C, C, keys, D, rows, 1.0f);
        if (cache.dropout_active) {
          const float* mask = cache.mask.data() + block_offset + first;
          for (int r = 0; r < rows; ++r)
            for (int j = 0; j < keys; ++j) dblock[int64_t(r) * T + j] *= mask[int64_t(r) * T + j];
        }
        // softmax, then scores = q·kᵀ:  dq += dscores·k,  dk += dscoresᵀ·q
        causal_softmax_backward(dblock, dblock, probs + first, T, rows, t0, scale);
        sgemm_nn(dq + int64_t(t0) * ld_qkv, ld_qkv, dblock, T, k, ld_qkv, rows, D, keys, 1.0f);
        sgemm_tn(dk, ld_qkv, dblock, T, q + int64_t(t0) * ld_qkv, ld_qkv, keys, D, rows, 1.0f);
      }
    }
  }
}

void attention_cached_forward(float* out, float* probs, const float* q, const float* keys, const float* values, int n,
                              int ld_head, int C, int NH) {
  attention_cached_forward(out, probs, q, keys, values, n, ld_head, AttentionHeads{NH, NH, C / NH});
}

void attention_cached_forward(float* out, float* probs, const float* q, const float* keys, const float* values, int n,
                              int ld_head, const AttentionHeads& heads) {
  const int NH = heads.NH, D = heads.D, group = NH / heads.KVH;
  const float scale = 1.0f / std::sqrt(float(D));
  for (int h = 0; h < NH; ++h) {
    float* head_probs = probs + int64_t(h) * n;
    const int64_t head_offset = int64_t(h / group) * ld_head * D;
    attention_scores(head_probs, q + h * D, keys + head_offset, D, n, D, scale);
    softmax_inplace(head_probs, n);
    attention_weighted_sum(out + h * D, head_probs, values + head_offset, D, n, D, 0.0f);
  }
}

}  // namespace tinylm
