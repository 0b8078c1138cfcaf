// Causal multi-head self-attention (nanoGPT's CausalSelfAttention between its c_attn and c_proj Linears): from
// the fused projection qkv (B,T,3C) — q, k, v side by side, head h in columns h·D … h·D+D−1 of each, D = C/NH —
// to y (B,T,C) = softmax(q·kᵀ/√D, causal) · v, heads concatenated. Dropout (training) applies to the attention
// probabilities, as nn.Dropout on `att` does.
//
// Training runs per (batch row, head) over blocks of query rows: block [t0, t0+R) needs keys 0 … t0+R−1 only,
// so the score and value products are GEMMs over that causal prefix (about half the work of a full T×T
// product), and the causal softmax kernel fills the block. Backward walks the same blocks.
// Generation attends one query to a per-head key/value cache with the row kernels.
// Backward ACCUMULATES into dqkv (+=).
//
// Threads: the (batch row, head) pairs split over `pool` (null: serial), and a long cached window's heads do; each
// pair writes only its own columns of out / dqkv, so results do not depend on the pool's size. Dropout masks are
// drawn from rng on the calling thread first, in the order a serial pass draws them.
#pragma once
#include <vector>

namespace tinylm {

class Rng;
class ThreadPool;

struct AttentionCache {
  std::vector<float> probs;    // (B,NH,T,T) softmax probabilities; row t is defined on its query block's columns
  std::vector<float> mask;     // (B,NH,T,T) dropout mask 0 or 1/(1−p), dropout active only
  std::vector<float> dropped;  // (B,NH,T,T) probs ⊙ mask, dropout active only
  bool dropout_active = false;
};

// out (B,T,C) from qkv (B,T,3C). dropout > 0 with rng drops attention probabilities (training).
void attention_forward(ThreadPool* pool, float* out, AttentionCache& cache, const float* qkv, float dropout, Rng* rng,
                       int B, int T, int C, int NH);
// dqkv (B,T,3C) += gradient of the last forward, given dout (B,T,C).
void attention_backward(ThreadPool* pool, float* dqkv, const float* dout, const float* qkv, AttentionCache& cache,
                        int B, int T, int C, int NH);

// One query against a KV cache (generation): q (C) is the query at position n−1; keys and values (NH, ld_head, D)
// hold positions 0 … n−1 of each head, head h at h·ld_head·D. Writes out (C) and probs (NH, n), the attention
// weights (kept for the docs site's views).
void attention_cached_forward(ThreadPool* pool, float* out, float* probs, const float* q, const float* keys,
                              const float* values, int n, int ld_head, int C, int NH);

}  // namespace tinylm
