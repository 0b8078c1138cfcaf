// GptLM generation with a KV cache, and evaluation (the sliding-window policy is documented in decoder_cache.hpp,
// the evaluation windows in decoder_common.hpp). Every buffer is sized in reset_state(), so step() never allocates.
// One step's projections are matrix-vector products, from float weights or from their half-precision copies
// (StepPrecision in gpt.hpp).
#include <algorithm>
#include <cstdint>
#include <cmath>
#include <cstring>

#include "parallel/parallel_kernels.hpp"
#include "models/gpt.hpp"
#include "models/model_common.hpp"
#include "tinylm/error.hpp"

namespace tinylm {

// ---- generation -----------------------------------------------------------------------------------------

void GptLM::set_step_precision(StepPrecision precision) {
  step_precision_ = precision;
  reset_state();
}

void GptLM::reset_state() {
  const int T_max = config_.context_size, C = config_.embed_size, L = config_.num_layers, NH = config_.num_heads;
  constexpr int rows = 2;  // the visible window and its shadow
  cache_.reset(L, NH, T_max, C / NH);
  gen_x_.assign(rows * C, 0.0f);
  gen_ln_.assign(rows * C, 0.0f);
  gen_qkv_.assign(rows * 3 * C, 0.0f);
  gen_attention_.assign(rows * C, 0.0f);
  gen_branch_.assign(rows * C, 0.0f);
  gen_stats_.mean.assign(rows, 0.0f);
  gen_stats_.rstd.assign(rows, 0.0f);
  gen_hidden_.assign(rows * 4 * C, 0.0f);
  gen_probs_.assign(int64_t(L) * NH * T_max, 0.0f);
  shadow_probs_.assign(int64_t(NH) * T_max, 0.0f);
  gen_logits_.assign(config_.vocab_size, 0.0f);
  gen_embedding_.assign(2 * C, 0.0f);
  // The matrices in the order advance() reads them (copies are taken from the current weights).
  std::vector<MatrixView> matrices;
  for (const BlockOffsets& o : block_offsets_) {
    matrices.push_back(matrix_at(o.attn_weight, 3 * C, C));
    matrices.push_back(matrix_at(o.attn_proj_weight, C, C));
    matrices.push_back(matrix_at(o.fc_weight, 4 * C, C));
    matrices.push_back(matrix_at(o.mlp_proj_weight, C, 4 * C));
  }
  matrices.push_back(matrix_at(wte_offset_, config_.vocab_size, C));
  step_matrices_.build(std::move(matrices), step_precision_ == StepPrecision::Half   ? StepMatrices::Copy::Half
                                            : step_precision_ == StepPrecision::Int8 ? StepMatrices::Copy::Int8
                                                                                     : StepMatrices::Copy::None);
}

const float* GptLM::last_step_attention(int layer) const {
  check(layer >= 0 && layer < config_.num_layers, "layer ", layer, " out of range [0, ", config_.num_layers, ")");
  check(!gen_probs_.empty(), "last_step_attention: no step has run");
  return gen_probs_.data() + int64_t(layer) * config_.num_heads * config_.context_size;
}

const float* GptLM::step(int32_t token) {
  const int V = config_.vocab_size;
  check(token >= 0 && token < V, "step: token id ", token, " is outside the vocabulary [0, ", V, ")");
  if (gen_logits_.empty()) reset_state();  // the first step of a model built without one
  advance(token, cache_.begin_step());
  return gen_logits_.data();
}

void GptLM::load_state(const GenerationState& state) {
  if (gen_logits_.empty()) reset_state();  // a model built without one: size the cache (and the step's matrices)
  cache_.load_state(state);
}

void GptLM::advance(int32_t token, int rows) {
  const int C = config_.embed_size, NH = config_.num_heads, T_max = config_.context_size;
  float* x = gen_x_.data();  // (rows, C) residual stream
  float* embedding = gen_embedding_.data();
  float* position = embedding + C;
  embedding_row(wte_offset_, token, embedding);
  for (int row = 0; row < rows; ++row) {
    embedding_row(wpe_offset_, cache_.position(row), position);
    for (int c = 0; c < C; ++c) x[int64_t(row) * C + c] = embedding[c] + position[c];
  }
  for (int layer = 0; layer < config_.num_layers; ++layer) {
    const BlockOffsets& o = block_offsets_[layer];
    float* const probs[2] = {gen_probs_.data() + int64_t(layer) * NH * T_max, shadow_probs_.data()};
    layernorm_forward(pool_, gen_ln_.data(), gen_stats_, x, value_at(o.ln_1_weight), value_at(o.ln_1_bias), rows, C);
    step_matrices_.project(pool_, gen_qkv_.data(), gen_ln_.data(), 4 * layer, value_at(o.attn_bias), rows);
    adapter_slot(layer, 0).forward(pool_, gen_qkv_.data(), 3 * C, gen_ln_.data(), rows);
    for (int row = 0; row < rows; ++row) {
      const float* qkv = gen_qkv_.data() + int64_t(row) * 3 * C;
      cache_.store(row, layer, qkv + C, qkv + 2 * C);
    }
    // The shadow needs keys and values only: after the last layer's, nothing of its row is read.
    const int live = layer + 1 < config_.num_layers ? rows : 1;
    const int64_t NC = int64_t(live) * C;
    for (int row = 0; row < live; ++row) {
      attention_cached_forward(pool_, gen_attention_.data() + int64_t(row) * C, probs[row],
                               gen_qkv_.data() + int64_t(row) * 3 * C, cache_.keys(row, layer),
                               cache_.values(row, layer), cache_.position(row) + 1, cache_.ld_head(row), C, NH);
    }
    step_matrices_.project(pool_, gen_branch_.data(), gen_attention_.data(), 4 * layer + 1, value_at(o.attn_proj_bias),
                           live);
    adapter_slot(layer, 1).forward(pool_, gen_branch_.data(), C, gen_attention_.data(), live);
    axpy(x, 1.0f, gen_branch_.data(), NC);
    layernorm_forward(pool_, gen_ln_.data(), gen_stats_, x, value_at(o.ln_2_weight), value_at(o.ln_2_bias), live,
                      C);
    // The MLP (layers/mlp.hpp), with each projection from float or half weights.
    float* hidden = gen_hidden_.data();  // (live, 4C)
    step_matrices_.project(pool_, hidden, gen_ln_.data(), 4 * layer + 2, value_at(o.fc_bias), live);
    adapter_slot(layer, 2).forward(pool_, hidden, 4 * C, gen_ln_.data(), live);
    gelu_forward(pool_, hidden, hidden, NC * 4, config_.gelu);
    step_matrices_.project(pool_, gen_branch_.data(), hidden, 4 * layer + 3, value_at(o.mlp_proj_bias), live);
    adapter_slot(layer, 3).forward(pool_, gen_branch_.data(), C, hidden, live);
    axpy(x, 1.0f, gen_branch_.data(), NC);
  }
  cache_.end_step(token, rows);
  layernorm_forward(pool_, gen_ln_.data(), gen_stats_, x, value_at(ln_f_weight_offset_), value_at(ln_f_bias_offset_), 1, C);
  step_matrices_.project(pool_, gen_logits_.data(), gen_ln_.data(), 4 * config_.num_layers, nullptr, 1);
}

// ---- evaluation -----------------------------------------------------------------------------------------

std::unique_ptr<Evaluation> GptLM::start_evaluation(std::vector<int32_t> tokens) {
  return start_windowed_evaluation(*this, std::move(tokens), losses_);
}

EvalStats GptLM::evaluate(const std::vector<int32_t>& tokens) { return run_to_end(*start_evaluation(tokens)); }

}  // namespace tinylm
