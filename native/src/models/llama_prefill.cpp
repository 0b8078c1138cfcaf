// LlamaLM's batched prefill, as GptLM's (gpt_prefill.cpp): a prompt's tokens run as batches of up to kPrefillBatch
// rows, each weight matrix read once per batch and the LM head run for the batch's last token only; every row's
// queries and keys turn by its own position (visible or shadow) before its keys join the cache. The logits equal
// step()'s within float rounding.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/llama_kernels.hpp"
#include "models/llama.hpp"
#include "models/model_common.hpp"
#include "parallel/parallel_kernels.hpp"

namespace tinylm {

const float* LlamaLM::prefill(const int32_t* tokens, int n) {
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

void LlamaLM::advance_rows(const int32_t* tokens, int n) {
  const int C = config_.hidden_size, NH = config_.num_heads, KVH = config_.num_kv_heads, D = config_.head_size;
  const int H = config_.intermediate_size, QKV = config_.qkv_size(), QD = NH * D, T_max = config_.context_size;
  const int L = config_.num_layers;
  const float eps = config_.rms_norm_eps;
  // Rows 0 … n−1: the tokens at their visible positions; rows n … R−1: tokens shadow_first … n−1 again, at their
  // shadow positions (decoder_cache.hpp).
  const int shadow_first = cache_.shadow_first(n), shadow_rows = n - shadow_first, R = n + shadow_rows;
  auto token_of = [&](int r) { return r < n ? tokens[r] : tokens[shadow_first + r - n]; };
  auto position_of = [&](int r) { return r < n ? cache_.position(0) + r : cache_.position(1) + r - n; };
  grow(gen_x_, int64_t(R) * C);
  grow(gen_norm_, int64_t(R) * C);
  grow(gen_qkv_, int64_t(R) * QKV);
  grow(gen_attention_, int64_t(R) * QD);
  grow(gen_branch_, int64_t(R) * C);
  grow(gen_gate_up_, int64_t(R) * 2 * H);
  grow(gen_hidden_, int64_t(R) * H);
  float* x = gen_x_.data();  // (R, C) residual stream
  for (int r = 0; r < R; ++r) {
    float* row = x + int64_t(r) * C;
    if (compact()) params_.compact.row(embed_offset_, token_of(r), row);
    else std::memcpy(row, value_at(embed_offset_) + int64_t(token_of(r)) * C, sizeof(float) * C);
  }
  for (int layer = 0; layer < L; ++layer) {
    const BlockOffsets& o = block_offsets_[layer];
    float* qkv = gen_qkv_.data();  // (R, QKV): q (NH·D), k (KVH·D), v (KVH·D) per row
    rmsnorm_forward(gen_norm_.data(), gen_stats_, x, value_at(o.input_norm), eps, R, C);
    step_matrices_.project_rows(pool_, qkv, gen_norm_.data(), 4 * layer, value_at(o.qkv_bias), R);
    qkv_adapters_forward(qkv, gen_norm_.data(), layer, R);
    for (int r = 0; r < R; ++r) {
      float* row = qkv + int64_t(r) * QKV;
      const int position = position_of(r);
      rotary_forward(row, rotary_.cos_at(position), rotary_.sin_at(position), NH + KVH, D);
      cache_.store_at(r < n ? 0 : 1, layer, position, row + QD, row + QD + KVH * D);
    }
    // After the last layer's keys and values only the last token's row is read (its logits are the batch's), as a
    // step drops its shadow row there.
    const bool last = layer + 1 == L;
    const int first = last ? n - 1 : 0, live = last ? 1 : R;
    float* probs = gen_probs_.data() + int64_t(layer) * NH * T_max;  // the last token's weights, as step() keeps
    attention_cached_rows_forward(pool_, gen_attention_.data() + int64_t(first) * QD, QD, probs,
                                  qkv + int64_t(first) * QKV, QKV, cache_.keys(0, layer), cache_.values(0, layer),
                                  cache_.position(0) + first, n - first, cache_.ld_head(0), heads());
    if (!last && shadow_rows > 0) {
      attention_cached_rows_forward(pool_, gen_attention_.data() + int64_t(n) * QD, QD, nullptr,
                                    qkv + int64_t(n) * QKV, QKV, cache_.keys(1, layer), cache_.values(1, layer),
                                    cache_.position(1), shadow_rows, cache_.ld_head(1), heads());
    }
    float* x_live = x + int64_t(first) * C;
    const float* attention = gen_attention_.data() + int64_t(first) * QD;
    step_matrices_.project_rows(pool_, gen_branch_.data(), attention, 4 * layer + 1, value_at(o.o_bias), live);
    adapter_slot(layer, 3).forward(pool_, gen_branch_.data(), C, attention, live);
    axpy(pool_, x_live, 1.0f, gen_branch_.data(), int64_t(live) * C);
    rmsnorm_forward(gen_norm_.data(), gen_stats_, x_live, value_at(o.post_norm), eps, live, C);
    step_matrices_.project_rows(pool_, gen_gate_up_.data(), gen_norm_.data(), 4 * layer + 2, value_at(o.gate_up_bias),
                                live);
    adapter_slot(layer, 4).forward(pool_, gen_gate_up_.data(), 2 * H, gen_norm_.data(), live);
    adapter_slot(layer, 5).forward(pool_, gen_gate_up_.data() + H, 2 * H, gen_norm_.data(), live);
    swiglu_rows_forward(pool_, gen_hidden_.data(), gen_gate_up_.data(), live, H);
    step_matrices_.project_rows(pool_, gen_branch_.data(), gen_hidden_.data(), 4 * layer + 3, value_at(o.down_bias),
                                live);
    adapter_slot(layer, 6).forward(pool_, gen_branch_.data(), C, gen_hidden_.data(), live);
    axpy(pool_, x_live, 1.0f, gen_branch_.data(), int64_t(live) * C);
  }
  cache_.end_batch(tokens, n, shadow_rows);
  rmsnorm_forward(gen_norm_.data(), gen_stats_, x + int64_t(n - 1) * C, value_at(norm_offset_), eps, 1, C);
  step_matrices_.project(pool_, gen_logits_.data(), gen_norm_.data(), 4 * L, nullptr, 1);
}

}  // namespace tinylm
