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

// ---- grouped-query attention (Llama's num_key_value_heads) ---------------------------------------------------
// NH query heads share KVH key/value heads (NH a multiple of KVH): query head h reads key/value head h/(NH/KVH).
// KVH = NH is the multi-head attention above (which is this with D = C/NH), KVH = 1 multi-query attention. A row of
// the fused projection qkv holds NH query heads, then KVH key heads, then KVH value heads, D floats each:
// (NH + 2·KVH)·D floats. The output row holds the NH heads' results: NH·D floats.
struct AttentionHeads {
  int NH;   // query heads
  int KVH;  // key/value heads
  int D;    // head size
};
// out (B,T,NH·D) from qkv (B,T,(NH+2·KVH)·D); dropout as attention_forward.
void attention_forward(ThreadPool* pool, float* out, AttentionCache& cache, const float* qkv,
                       const AttentionHeads& heads, float dropout, Rng* rng, int B, int T);
// dqkv (B,T,(NH+2·KVH)·D) += gradient of the last forward, given dout (B,T,NH·D); a key/value head's gradient sums
// over the query heads that read it, in head order (threads split the (batch row, key/value head) pairs, so the
// sum's order does not depend on the pool).
void attention_backward(ThreadPool* pool, float* dqkv, const float* dout, const float* qkv, AttentionCache& cache,
                        const AttentionHeads& heads, int B, int T);
// One query row q (NH·D) at position n−1 against a KV cache: keys and values (KVH, ld_head, D). Writes out (NH·D)
// and probs (NH, n).
void attention_cached_forward(ThreadPool* pool, float* out, float* probs, const float* q, const float* keys,
                              const float* values, int n, int ld_head, const AttentionHeads& heads);
// R query rows against one KV cache at once (a prompt's chunk): row r sits at position first + r and attends to
// positions 0 … first + r, which the cache already holds. Rows of q are ldq floats apart, rows of out ldo apart. Each
// (row, head) is attention_cached_forward's arithmetic, so a row's output equals a step's for the same cache, whatever
// the pool's size. last_probs (NH, first + R), may be null: the last row's attention weights.
void attention_cached_rows_forward(ThreadPool* pool, float* out, int ldo, float* last_probs, const float* q, int ldq,
                                   const float* keys, const float* values, int first, int R, int ld_head,
                                   const AttentionHeads& heads);

}  // namespace tinylm
