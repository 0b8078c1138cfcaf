#include "layers/attention.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/kernels.hpp"
#include "parallel/parallel_for.hpp"
#include "tinylm/error.hpp"
#include "tinylm/rng.hpp"

namespace tinylm {

namespace {

// Query rows per causal block: small enough that the skipped upper triangle is most of the waste a full T×T
// product would do, large enough that each block is still a reasonable GEMM.
constexpr int kQueryBlock = 32;

// (batch row, head) pairs per chunk of work: about 2^18 multiply-adds (a pair's two causal products are ~T²·D).
int64_t pair_grain(int T, int D) { return std::max<int64_t>(1, (int64_t(1) << 18) / (int64_t(T) * T * D)); }

void grow(std::vector<float>& buffer, int64_t floats) {
  if (buffer.size() < size_t(floats)) buffer.resize(floats);
}

// The dropout masks (pairs,T,T) of every pair, drawn on the calling thread in (pair, row, key) order: row t keeps
// each key 0 … t with probability 1 − dropout (scaled by 1/(1−p)); the keys after t up to the end of t's query
// block, which the block products also read, are 0.
void draw_dropout_masks(float* mask, Rng& rng, float dropout, int64_t pairs, int T) {
  const float keep_scale = 1.0f / (1.0f - dropout);
  for (int64_t pair = 0; pair < pairs; ++pair) {
    for (int t = 0; t < T; ++t) {
      float* row = mask + (pair * T + t) * T;
      const int block_end = std::min(T, (t / kQueryBlock + 1) * kQueryBlock);
      for (int j = 0; j <= t; ++j) row[j] = rng.uniform() >= dropout ? keep_scale : 0.0f;
      for (int j = t + 1; j < block_end; ++j) row[j] = 0.0f;
    }
  }
}

}  // namespace

void attention_forward(ThreadPool* pool, float* out, AttentionCache& cache, const float* qkv, float dropout, Rng* rng,
                       int B, int T, int C, int NH) {
  attention_forward(pool, out, cache, qkv, AttentionHeads{NH, NH, C / NH}, dropout, rng, B, T);
}

void attention_forward(ThreadPool* pool, float* out, AttentionCache& cache, const float* qkv,
                       const AttentionHeads& heads, float dropout, Rng* rng, int B, int T) {
  const int NH = heads.NH, D = heads.D, group = NH / heads.KVH;
  const int C = NH * D, ld_qkv = (NH + 2 * heads.KVH) * D;  // C: the output row's width
  const float scale = 1.0f / std::sqrt(float(D));
  const int64_t block_floats = int64_t(T) * T, pairs = int64_t(B) * NH;  // one (batch row, head): (T,T)
  grow(cache.probs, pairs * block_floats);
  cache.dropout_active = dropout > 0.0f && rng != nullptr;
  if (cache.dropout_active) {
    grow(cache.mask, pairs * block_floats);
    grow(cache.dropped, pairs * block_floats);
    draw_dropout_masks(cache.mask.data(), *rng, dropout, pairs, T);
  }
  // Each pair writes only its own probabilities and output columns; the key/value heads are only read.
  parallel_for(pool, pairs, pair_grain(T, D), [&](int64_t first_pair, int64_t end_pair) {
    for (int64_t pair = first_pair; pair < end_pair; ++pair) {
      const int64_t b = pair / NH, h = pair % NH;
      const float* q = qkv + b * T * ld_qkv + h * D;  // (T, D) rows ld_qkv apart
      const float* k = qkv + b * T * ld_qkv + (NH + h / group) * D;
      const float* v = k + heads.KVH * D;
      const int64_t block_offset = pair * block_floats;
      float* probs = cache.probs.data() + block_offset;  // (T,T)
      float* y = out + b * T * C + h * D;                 // (T, D) rows C apart
      for (int t0 = 0; t0 < T; t0 += kQueryBlock) {
        const int rows = std::min(kQueryBlock, T - t0), keys = t0 + rows;
        float* block = probs + int64_t(t0) * T;
        sgemm_nt(block, T, q + int64_t(t0) * ld_qkv, ld_qkv, k, ld_qkv, rows, keys, D, 0.0f);
        causal_softmax_forward(block, block, T, rows, t0, scale);
        const float* weights = block;
        if (cache.dropout_active) {
          const float* mask = cache.mask.data() + block_offset + int64_t(t0) * T;
          float* dropped = cache.dropped.data() + block_offset + int64_t(t0) * T;
          for (int r = 0; r < rows; ++r) {
            const int64_t row = int64_t(r) * T;
            for (int j = 0; j < keys; ++j) dropped[row + j] = block[row + j] * mask[row + j];
          }
          weights = dropped;
        }
        sgemm_nn(y + int64_t(t0) * C, C, weights, T, v, ld_qkv, rows, D, keys, 0.0f);
      }
    }
  });
}

void attention_backward(ThreadPool* pool, float* dqkv, const float* dout, const float* qkv, AttentionCache& cache,
                        int B, int T, int C, int NH) {
  attention_backward(pool, dqkv, dout, qkv, cache, AttentionHeads{NH, NH, C / NH}, B, T);
}

void attention_backward(ThreadPool* pool, float* dqkv, const float* dout, const float* qkv, AttentionCache& cache,
                        const AttentionHeads& heads, int B, int T) {
  const int NH = heads.NH, KVH = heads.KVH, D = heads.D, group = NH / KVH;
  const int C = NH * D, ld_qkv = (NH + 2 * KVH) * D;  // C: dout's row width
  const float scale = 1.0f / std::sqrt(float(D));
  const int64_t block_floats = int64_t(T) * T, units = int64_t(B) * KVH;
  // The work splits by (batch row, key/value head): the query heads of a group add into the same dk and dv, so one
  // thread walks them in head order, as a serial pass does.
  const int64_t unit_grain = std::max<int64_t>(1, pair_grain(T, D) / group);
  parallel_for(pool, units, unit_grain, [&](int64_t first_unit, int64_t end_unit) {
    // One pair's gradient w.r.t. its probabilities (T,T), a scratch of the thread that runs it (grows once).
    thread_local std::vector<float> dprobs_storage;
    grow(dprobs_storage, block_floats);
    float* dprobs = dprobs_storage.data();
    for (int64_t unit = first_unit; unit < end_unit; ++unit) {
      const int64_t b = unit / KVH, kv_head = unit % KVH;
      for (int64_t h = kv_head * group; h < (kv_head + 1) * group; ++h) {
        const int64_t row_offset = b * T * ld_qkv, key_column = (NH + kv_head) * D;
        const float *q = qkv + row_offset + h * D, *k = qkv + row_offset + key_column, *v = k + KVH * D;
        float *dq = dqkv + row_offset + h * D, *dk = dqkv + row_offset + key_column, *dv = dk + KVH * D;
        const float* dy = dout + b * T * C + h * D;  // (T, D) rows C apart
        const int64_t block_offset = (b * NH + h) * block_floats;
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
  });
}

void attention_cached_forward(ThreadPool* pool, float* out, float* probs, const float* q, const float* keys,
                              const float* values, int n, int ld_head, int C, int NH) {
  attention_cached_forward(pool, out, probs, q, keys, values, n, ld_head, AttentionHeads{NH, NH, C / NH});
}

void attention_cached_forward(ThreadPool* pool, float* out, float* probs, const float* q, const float* keys,
                              const float* values, int n, int ld_head, const AttentionHeads& heads) {
  const int NH = heads.NH, D = heads.D, group = NH / heads.KVH;
  const float scale = 1.0f / std::sqrt(float(D));
  // Heads per chunk: about 2^16 cached floats read (a head reads n·D keys and as many values), so a small model's
  // window stays on the caller.
  const int64_t head_grain = std::max<int64_t>(1, (int64_t(1) << 16) / (2 * int64_t(n) * D));
  parallel_for(pool, NH, head_grain, [&](int64_t first_head, int64_t end_head) {
    for (int64_t h = first_head; h < end_head; ++h) {
      float* head_probs = probs + h * n;
      const int64_t head_offset = (h / group) * ld_head * D;
      attention_scores(head_probs, q + h * D, keys + head_offset, D, n, D, scale);
      softmax_inplace(head_probs, n);
      attention_weighted_sum(out + h * D, head_probs, values + head_offset, D, n, D, 0.0f);
    }
  });
}

void attention_cached_rows_forward(ThreadPool* pool, float* out, int ldo, float* last_probs, const float* q, int ldq,
                                   const float* keys, const float* values, int first, int R, int ld_head,
                                   const AttentionHeads& heads) {
  const int NH = heads.NH, D = heads.D, group = NH / heads.KVH;
  const float scale = 1.0f / std::sqrt(float(D));
  // (row, head) pairs per chunk: about 2^16 cached floats read, as attention_cached_forward cuts its heads.
  const int64_t widest = int64_t(first) + R;
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 16) / (2 * widest * D));
  parallel_for(pool, int64_t(R) * NH, grain, [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(static_cast<size_t>(widest));
    for (int64_t pair = begin; pair < end; ++pair) {
      const int64_t r = pair / NH, h = pair % NH, n = first + r + 1;
      float* probs = r == R - 1 && last_probs ? last_probs + h * n : scratch.data();
      const int64_t head_offset = (h / group) * ld_head * D;
      attention_scores(probs, q + r * ldq + h * D, keys + head_offset, D, int(n), D, scale);
      softmax_inplace(probs, int(n));
      attention_weighted_sum(out + r * ldo + h * D, probs, values + head_offset, D, int(n), D, 0.0f);
    }
  });
}

}  // namespace tinylm
