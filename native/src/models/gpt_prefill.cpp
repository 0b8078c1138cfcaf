// GptLM's batched prefill: a prompt's tokens run through the decoder as batches of up to kPrefillBatch rows, so each
// weight matrix is read once per batch (matrix_rows) instead of once per token, and only the batch's last token goes
// through the LM head. The KV cache ends as the same tokens' steps leave it (decoder_cache.hpp): every row's keys and
// values at its position, including the shadow rows a step at or past the window's midpoint would run. A batch stops
// where the window fills, and the next one slides it first, so a prompt longer than the context runs in batches too.
// The logits equal step()'s within float rounding: the projections sum in the GEMM's order, the attention and the
// element-wise passes are the step's own kernels, row by row.
#include <algorithm>
#include <cstdint>

#include "models/gpt.hpp"
#include "models/model_common.hpp"
#include "parallel/parallel_kernels.hpp"

namespace tinylm {

const float* GptLM::prefill(const int32_t* tokens, int n) {
  check(n >= 1, "prefill needs at least one token, got ", n);
  check_token_ids(tokens, n, config_.vocab_size, "prefill token");
  if (gen_logits_.empty()) reset_state();  // the first use of a model built without one
  for (int done = 0; done < n;) {
    const int count = cache_.begin_batch(std::min(n - done, kPrefillBatch));
    advance_rows(tokens + done, count);
    done += count;
  }
  return gen_logits_.data();
}

void GptLM::advance_rows(const int32_t* tokens, int n) {
  const int C = config_.embed_size, NH = config_.num_heads, T_max = config_.context_size, L = config_.num_layers;
  const AttentionHeads heads{NH, NH, C / NH};
  // Rows 0 … n−1: the tokens at their visible positions; rows n … R−1: tokens shadow_first … n−1 again, at their
  // shadow positions (decoder_cache.hpp).
  const int shadow_first = cache_.shadow_first(n), shadow_rows = n - shadow_first, R = n + shadow_rows;
  auto token_of = [&](int r) { return r < n ? tokens[r] : tokens[shadow_first + r - n]; };
  auto position_of = [&](int r) { return r < n ? cache_.position(0) + r : cache_.position(1) + r - n; };
  grow(gen_x_, int64_t(R) * C);
  grow(gen_ln_, int64_t(R) * C);
  grow(gen_qkv_, int64_t(R) * 3 * C);
  grow(gen_attention_, int64_t(R) * C);
  grow(gen_branch_, int64_t(R) * C);
  grow(gen_hidden_, int64_t(R) * 4 * C);
  float* x = gen_x_.data();  // (R, C) residual stream
  float* embedding = gen_embedding_.data();
  float* position = embedding + C;
  for (int r = 0; r < R; ++r) {
    embedding_row(wte_offset_, token_of(r), embedding);
    embedding_row(wpe_offset_, position_of(r), position);
    for (int c = 0; c < C; ++c) x[int64_t(r) * C + c] = embedding[c] + position[c];
  }
  for (int layer = 0; layer < L; ++layer) {
    const BlockOffsets& o = block_offsets_[layer];
    float* qkv = gen_qkv_.data();  // (R, 3C)
    layernorm_forward(pool_, gen_ln_.data(), gen_stats_, x, value_at(o.ln_1_weight), value_at(o.ln_1_bias), R, C);
    step_matrices_.project_rows(pool_, qkv, gen_ln_.data(), 4 * layer, value_at(o.attn_bias), R);
    adapter_slot(layer, 0).forward(pool_, qkv, 3 * C, gen_ln_.data(), R);
    for (int r = 0; r < R; ++r) {
      const float* row = qkv + int64_t(r) * 3 * C;
      cache_.store_at(r < n ? 0 : 1, layer, position_of(r), row + C, row + 2 * C);
    }
    // After the last layer's keys and values only the last token's row is read (its logits are the batch's), as a
    // step drops its shadow row there.
    const bool last = layer + 1 == L;
    const int first = last ? n - 1 : 0, live = last ? 1 : R;
    float* probs = gen_probs_.data() + int64_t(layer) * NH * T_max;  // the last token's weights, as step() keeps
    attention_cached_rows_forward(pool_, gen_attention_.data() + int64_t(first) * C, C, probs,
                                  qkv + int64_t(first) * 3 * C, 3 * C, cache_.keys(0, layer), cache_.values(0, layer),
                                  cache_.position(0) + first, n - first, cache_.ld_head(0), heads);
    if (!last && shadow_rows > 0) {
      attention_cached_rows_forward(pool_, gen_attention_.data() + int64_t(n) * C, C, nullptr,
                                    qkv + int64_t(n) * 3 * C, 3 * C, cache_.keys(1, layer), cache_.values(1, layer),
                                    cache_.position(1), shadow_rows, cache_.ld_head(1), heads);
    }
    float* x_live = x + int64_t(first) * C;
    const float* attention = gen_attention_.data() + int64_t(first) * C;
    const int64_t NC = int64_t(live) * C;
    step_matrices_.project_rows(pool_, gen_branch_.data(), attention, 4 * layer + 1, value_at(o.attn_proj_bias), live);
    adapter_slot(layer, 1).forward(pool_, gen_branch_.data(), C, attention, live);
    axpy(pool_, x_live, 1.0f, gen_branch_.data(), NC);
    layernorm_forward(pool_, gen_ln_.data(), gen_stats_, x_live, value_at(o.ln_2_weight), value_at(o.ln_2_bias), live,
                      C);
    float* hidden = gen_hidden_.data();  // (live, 4C)
    step_matrices_.project_rows(pool_, hidden, gen_ln_.data(), 4 * layer + 2, value_at(o.fc_bias), live);
    adapter_slot(layer, 2).forward(pool_, hidden, 4 * C, gen_ln_.data(), live);
    gelu_forward(pool_, hidden, hidden, NC * 4, config_.gelu);
    step_matrices_.project_rows(pool_, gen_branch_.data(), hidden, 4 * layer + 3, value_at(o.mlp_proj_bias), live);
    adapter_slot(layer, 3).forward(pool_, gen_branch_.data(), C, hidden, live);
    axpy(pool_, x_live, 1.0f, gen_branch_.data(), NC);
  }
  cache_.end_batch(tokens, n, shadow_rows);
  const float* x_last = x + int64_t(n - 1) * C;
  layernorm_forward(pool_, gen_ln_.data(), gen_stats_, x_last, value_at(ln_f_weight_offset_),
                    value_at(ln_f_bias_offset_), 1, C);
  step_matrices_.project(pool_, gen_logits_.data(), gen_ln_.data(), 4 * L, nullptr, 1);
}

}  // namespace tinylm
