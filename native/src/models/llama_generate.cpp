// LlamaLM generation with a KV cache of rotated keys (the window policy in decoder_cache.hpp), and evaluation in
// windows (decoder_common.hpp). Every buffer is sized in reset_state(), so step() never allocates; a step's
// projections read each weight matrix once, as float or as a half-precision copy (StepPrecision).
#include <cstdint>
#include <cstring>

#include "kernels/kernels.hpp"
#include "kernels/llama_kernels.hpp"
#include "models/llama.hpp"
#include "models/model_common.hpp"
#include "tinylm/error.hpp"

namespace tinylm {

// ---- generation -----------------------------------------------------------------------------------------

void LlamaLM::set_step_precision(StepPrecision precision) {
  step_precision_ = precision;
  reset_state();
}

void LlamaLM::reset_state() {
  const int T_max = config_.context_size, C = config_.hidden_size, L = config_.num_layers, NH = config_.num_heads;
  const int H = config_.intermediate_size, QKV = config_.qkv_size(), QD = NH * config_.head_size;
  constexpr int rows = 2;  // the visible window and its shadow
  cache_.reset(L, config_.num_kv_heads, T_max, config_.head_size);
  gen_x_.assign(rows * C, 0.0f);
  gen_norm_.assign(rows * C, 0.0f);
  gen_qkv_.assign(int64_t(rows) * QKV, 0.0f);
  gen_attention_.assign(int64_t(rows) * QD, 0.0f);
  gen_branch_.assign(rows * C, 0.0f);
  gen_stats_.rstd.assign(rows, 0.0f);
  gen_gate_up_.assign(int64_t(rows) * 2 * H, 0.0f);
  gen_hidden_.assign(int64_t(rows) * H, 0.0f);
  gen_probs_.assign(int64_t(L) * NH * T_max, 0.0f);
  shadow_probs_.assign(int64_t(NH) * T_max, 0.0f);
  gen_logits_.assign(config_.vocab_size, 0.0f);
  // The matrices in the order advance() reads them (copies are taken from the current weights).
  std::vector<MatrixView> matrices;
  for (const BlockOffsets& o : block_offsets_) {
    matrices.push_back(matrix_at(o.qkv_weight, QKV, C));
    matrices.push_back(matrix_at(o.o_weight, C, QD));
    matrices.push_back(matrix_at(o.gate_up_weight, 2 * H, C));
    matrices.push_back(matrix_at(o.down_weight, C, H));
  }
  matrices.push_back(matrix_at(head_offset_, config_.vocab_size, C));
  step_matrices_.build(std::move(matrices), step_precision_ == StepPrecision::Half   ? StepMatrices::Copy::Half
                                            : step_precision_ == StepPrecision::Int8 ? StepMatrices::Copy::Int8
                                                                                     : StepMatrices::Copy::None);
}

const float* LlamaLM::last_step_attention(int layer) const {
  check(layer >= 0 && layer < config_.num_layers, "layer ", layer, " out of range [0, ", config_.num_layers, ")");
  check(!gen_probs_.empty(), "last_step_attention: no step has run");
  return gen_probs_.data() + int64_t(layer) * config_.num_heads * config_.context_size;
}

const float* LlamaLM::step(int32_t token) {
  const int V = config_.vocab_size;
  check(token >= 0 && token < V, "step: token id ", token, " is outside the vocabulary [0, ", V, ")");
  if (gen_logits_.empty()) reset_state();  // the first step of a model built without one
  advance(token, cache_.begin_step());
  return gen_logits_.data();
}

void LlamaLM::load_state(const GenerationState& state) {
  if (gen_logits_.empty()) reset_state();  // a model built without one: size the cache (and the step's matrices)
  cache_.load_state(state);
}

void LlamaLM::advance(int32_t token, int rows) {
  const int C = config_.hidden_size, NH = config_.num_heads, KVH = config_.num_kv_heads, D = config_.head_size;
  const int H = config_.intermediate_size, QKV = config_.qkv_size(), QD = NH * D, T_max = config_.context_size;
  const float eps = config_.rms_norm_eps;
  float* x = gen_x_.data();  // (rows, C) residual stream
  if (compact()) params_.compact.row(embed_offset_, token, x);
  else std::memcpy(x, value_at(embed_offset_) + int64_t(token) * C, sizeof(float) * C);
  for (int row = 1; row < rows; ++row) std::memcpy(x + int64_t(row) * C, x, sizeof(float) * C);
  for (int layer = 0; layer < config_.num_layers; ++layer) {
    const BlockOffsets& o = block_offsets_[layer];
    float* const probs[2] = {gen_probs_.data() + int64_t(layer) * NH * T_max, shadow_probs_.data()};
    rmsnorm_forward(gen_norm_.data(), gen_stats_, x, value_at(o.input_norm), eps, rows, C);
    step_matrices_.project(pool_, gen_qkv_.data(), gen_norm_.data(), 4 * layer, value_at(o.qkv_bias), rows);
    qkv_adapters_forward(gen_qkv_.data(), gen_norm_.data(), layer, rows);
    for (int row = 0; row < rows; ++row) {
      float* qkv = gen_qkv_.data() + int64_t(row) * QKV;  // q (NH·D), k (KVH·D), v (KVH·D)
      const int position = cache_.position(row);
      rotary_forward(qkv, rotary_.cos_at(position), rotary_.sin_at(position), NH + KVH, D);
      cache_.store(row, layer, qkv + QD, qkv + QD + KVH * D);
    }
    // The shadow needs keys and values only: after the last layer's, nothing of its row is read.
    const int live = layer + 1 < config_.num_layers ? rows : 1;
    for (int row = 0; row < live; ++row) {
      attention_cached_forward(pool_, gen_attention_.data() + int64_t(row) * QD, probs[row],
                               gen_qkv_.data() + int64_t(row) * QKV, cache_.keys(row, layer),
                               cache_.values(row, layer), cache_.position(row) + 1, cache_.ld_head(row), heads());
    }
    step_matrices_.project(pool_, gen_branch_.data(), gen_attention_.data(), 4 * layer + 1, value_at(o.o_bias), live);
    adapter_slot(layer, 3).forward(pool_, gen_branch_.data(), C, gen_attention_.data(), live);
    axpy(x, 1.0f, gen_branch_.data(), int64_t(live) * C);
    rmsnorm_forward(gen_norm_.data(), gen_stats_, x, value_at(o.post_norm), eps, live, C);
    step_matrices_.project(pool_, gen_gate_up_.data(), gen_norm_.data(), 4 * layer + 2, value_at(o.gate_up_bias),
                           live);
    adapter_slot(layer, 4).forward(pool_, gen_gate_up_.data(), 2 * H, gen_norm_.data(), live);
    adapter_slot(layer, 5).forward(pool_, gen_gate_up_.data() + H, 2 * H, gen_norm_.data(), live);
    swiglu_rows_forward(pool_, gen_hidden_.data(), gen_gate_up_.data(), live, H);
    step_matrices_.project(pool_, gen_branch_.data(), gen_hidden_.data(), 4 * layer + 3, value_at(o.down_bias), live);
    adapter_slot(layer, 6).forward(pool_, gen_branch_.data(), C, gen_hidden_.data(), live);
    axpy(x, 1.0f, gen_branch_.data(), int64_t(live) * C);
  }
  cache_.end_step(token, rows);
  rmsnorm_forward(gen_norm_.data(), gen_stats_, x, value_at(norm_offset_), eps, 1, C);
  step_matrices_.project(pool_, gen_logits_.data(), gen_norm_.data(), 4 * config_.num_layers, nullptr, 1);
}

// ---- evaluation -----------------------------------------------------------------------------------------

std::unique_ptr<Evaluation> LlamaLM::start_evaluation(std::vector<int32_t> tokens) {
  return start_windowed_evaluation(*this, std::move(tokens), losses_);
}

EvalStats LlamaLM::evaluate(const std::vector<int32_t>& tokens) { return run_to_end(*start_evaluation(tokens)); }

}  // namespace tinylm
