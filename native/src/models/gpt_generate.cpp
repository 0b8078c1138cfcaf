// GptLM generation with a KV cache, and evaluation (the sliding-window policy is documented in gpt.hpp and at
// evaluate() below). Every buffer is sized in reset_state(), so step() never allocates. One step's projections
// are matrix-vector products, from float weights or from their half-precision copies (StepPrecision in gpt.hpp).
#include <algorithm>
#include <cstdint>
#include <cmath>
#include <cstring>

#include "parallel/parallel_kernels.hpp"
#include "models/gpt.hpp"
#include "tinylm/error.hpp"

namespace tinylm {

// ---- generation -----------------------------------------------------------------------------------------

namespace {

// out (N,O) = in (N,I) · weightᵀ + bias for the N ≤ 2 rows of a step, from the half copy when there is one, else
// from float: matrix-vector products that read the weights once for both rows, their output rows split over the
// pool when the matrix is large enough to gain.
void project(ThreadPool* pool, float* out, const float* in, const float* weight, const uint16_t* half_weight,
             const float* bias, int N, int I, int O) {
  if (bias) {
    for (int row = 0; row < N; ++row) std::memcpy(out + int64_t(row) * O, bias, sizeof(float) * O);
  }
  const float beta = bias ? 1.0f : 0.0f;
  if (half_weight) sgemv_f16(pool, out, half_weight, in, O, I, beta, N);
  else sgemv(pool, out, weight, I, in, O, I, beta, N);
}

}  // namespace

void GptLM::set_step_precision(StepPrecision precision) {
  step_precision_ = precision;
  refresh_half_weights();
}

void GptLM::refresh_half_weights() {
  gen_half_offsets_.clear();
  if (step_precision_ != StepPrecision::Half) return;
  const int C = config_.embed_size;
  struct Matrix {
    size_t offset;  // in params
    int rows, cols;
  };
  std::vector<Matrix> matrices;  // in the order step() reads them
  for (const BlockOffsets& o : block_offsets_) {
    matrices.push_back({o.attn_weight, 3 * C, C});
    matrices.push_back({o.attn_proj_weight, C, C});
    matrices.push_back({o.fc_weight, 4 * C, C});
    matrices.push_back({o.mlp_proj_weight, C, 4 * C});
  }
  matrices.push_back({wte_offset_, config_.vocab_size, C});
  size_t total = 0;
  for (const Matrix& matrix : matrices) total += size_t(half_panels_size(matrix.rows, matrix.cols));
  gen_half_.resize(total);
  std::vector<size_t> offsets;
  size_t at = 0;
  for (const Matrix& matrix : matrices) {
    // A weight beyond half's range (|w| > 65504) cannot be stored: this model generates from floats instead.
    if (!convert_to_half_panels(gen_half_.data() + at, params_.values.data() + matrix.offset, matrix.rows,
                                matrix.cols))
      return;
    offsets.push_back(at);
    at += size_t(half_panels_size(matrix.rows, matrix.cols));
  }
  gen_half_offsets_ = std::move(offsets);
}

void GptLM::reset_state() {
  const int T_max = config_.context_size, C = config_.embed_size, L = config_.num_layers, NH = config_.num_heads;
  constexpr int rows = 2;  // the visible window and its shadow
  for (auto* cache : {&key_cache_, &value_cache_, &shadow_keys_, &shadow_values_}) {
    cache->assign(int64_t(L) * T_max * C, 0.0f);
  }
  window_tokens_.clear();
  window_tokens_.reserve(T_max);
  cached_ = 0;
  shadow_cached_ = 0;
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
  refresh_half_weights();
}

const float* GptLM::last_step_attention(int layer) const {
  check(layer >= 0 && layer < config_.num_layers, "layer ", layer, " out of range [0, ", config_.num_layers, ")");
  return gen_probs_.data() + int64_t(layer) * config_.num_heads * config_.context_size;
}

const float* GptLM::step(int32_t token) {
  const int V = config_.vocab_size, T_max = config_.context_size, keep = T_max / 2;
  check(token >= 0 && token < V, "step: token id ", token, " is outside the vocabulary [0, ", V, ")");
  if (cached_ == T_max) {  // full: the shadow, holding the last `keep` tokens at positions 0 … keep−1, takes over
    std::swap(key_cache_, shadow_keys_);
    std::swap(value_cache_, shadow_values_);
    window_tokens_.erase(window_tokens_.begin(), window_tokens_.end() - keep);
    cached_ = shadow_cached_;
    shadow_cached_ = 0;
  }
  advance(token, keep > 0 && cached_ >= T_max - keep);
  return gen_logits_.data();
}

void GptLM::advance(int32_t token, bool shadowed) {
  const int C = config_.embed_size, NH = config_.num_heads, D = C / NH, T_max = config_.context_size;
  const int V = config_.vocab_size, rows = shadowed ? 2 : 1;
  const int64_t head_stride = int64_t(T_max) * D;  // one head's cache
  const int positions[2] = {cached_, shadow_cached_};
  const float* wte = value_at(wte_offset_);
  const float* wpe = value_at(wpe_offset_);
  float* x = gen_x_.data();  // (rows, C) residual stream
  for (int row = 0; row < rows; ++row) {
    const float* embedding = wte + int64_t(token) * C;
    const float* position = wpe + int64_t(positions[row]) * C;
    for (int c = 0; c < C; ++c) x[int64_t(row) * C + c] = embedding[c] + position[c];
  }
  const bool half = !gen_half_offsets_.empty();
  auto half_matrix = [&](size_t index) { return half ? gen_half_.data() + gen_half_offsets_[index] : nullptr; };
  for (int layer = 0; layer < config_.num_layers; ++layer) {
    const BlockOffsets& o = block_offsets_[layer];
    const int64_t layer_offset = int64_t(layer) * NH * head_stride;
    float* const keys[2] = {key_cache_.data() + layer_offset, shadow_keys_.data() + layer_offset};  // (NH, T_max, D)
    float* const values[2] = {value_cache_.data() + layer_offset, shadow_values_.data() + layer_offset};
    float* const probs[2] = {gen_probs_.data() + int64_t(layer) * NH * T_max, shadow_probs_.data()};
    layernorm_forward(pool_, gen_ln_.data(), gen_stats_, x, value_at(o.ln_1_weight), value_at(o.ln_1_bias), rows,
                      C);
    project(pool_, gen_qkv_.data(), gen_ln_.data(), value_at(o.attn_weight), half_matrix(4 * layer),
            value_at(o.attn_bias), rows, C, 3 * C);
    for (int row = 0; row < rows; ++row) {
      const float* qkv = gen_qkv_.data() + int64_t(row) * 3 * C;
      for (int h = 0; h < NH; ++h) {
        const int64_t at = h * head_stride + int64_t(positions[row]) * D;
        std::memcpy(keys[row] + at, qkv + C + h * D, sizeof(float) * D);
        std::memcpy(values[row] + at, qkv + 2 * C + h * D, sizeof(float) * D);
      }
    }
    // The shadow needs keys and values only: after the last layer's, nothing of its row is read.
    const int live = layer + 1 < config_.num_layers ? rows : 1;
    const int64_t NC = int64_t(live) * C;
    for (int row = 0; row < live; ++row) {
      attention_cached_forward(pool_, gen_attention_.data() + int64_t(row) * C, probs[row],
                               gen_qkv_.data() + int64_t(row) * 3 * C, keys[row], values[row], positions[row] + 1,
                               T_max, C, NH);
    }
    project(pool_, gen_branch_.data(), gen_attention_.data(), value_at(o.attn_proj_weight), half_matrix(4 * layer + 1),
            value_at(o.attn_proj_bias), live, C, C);
    axpy(x, 1.0f, gen_branch_.data(), NC);
    layernorm_forward(pool_, gen_ln_.data(), gen_stats_, x, value_at(o.ln_2_weight), value_at(o.ln_2_bias), live,
                      C);
    // The MLP (layers/mlp.hpp), with each projection from float or half weights.
    float* hidden = gen_hidden_.data();  // (live, 4C)
    project(pool_, hidden, gen_ln_.data(), value_at(o.fc_weight), half_matrix(4 * layer + 2), value_at(o.fc_bias),
            live, C, 4 * C);
    gelu_forward(pool_, hidden, hidden, NC * 4, config_.gelu);
    project(pool_, gen_branch_.data(), hidden, value_at(o.mlp_proj_weight), half_matrix(4 * layer + 3),
            value_at(o.mlp_proj_bias), live, 4 * C, C);
    axpy(x, 1.0f, gen_branch_.data(), NC);
  }
  window_tokens_.push_back(token);  // capacity T_max: no allocation
  ++cached_;
  if (shadowed) ++shadow_cached_;
  layernorm_forward(pool_, gen_ln_.data(), gen_stats_, x, value_at(ln_f_weight_offset_), value_at(ln_f_bias_offset_),
                    1, C);
  project(pool_, gen_logits_.data(), gen_ln_.data(), wte, half_matrix(4 * config_.num_layers), nullptr, 1, C, V);
}

// ---- evaluation -----------------------------------------------------------------------------------------

// Windows of W = min(T_max, n−1) inputs, starting every S = ⌈W/2⌉ tokens (the last one moved back to end at the
// stream's end). The first window scores all its predictions; every later window scores only those the previous
// window did not reach, which sit at offsets ≥ W − S in it. So each of the n−1 predictions is scored exactly once,
// and every one after the first window sees at least ⌊W/2⌋ tokens of context. Up to 16 windows run side by side
// in one batched forward; one advance() runs such batches until its budget of predictions is spent.
class GptEvaluation : public Evaluation {
 public:
  GptEvaluation(GptLM& model, std::vector<int32_t> tokens)
      : model_(model), tokens_(std::move(tokens)), predictions_(int64_t(tokens_.size()) - 1) {
    if (predictions_ <= 0) return;
    window_ = int(std::min<int64_t>(model_.config_.context_size, predictions_));
    const int stride = (window_ + 1) / 2;
    for (int64_t start = 0;; start = std::min<int64_t>(start + stride, predictions_ - window_)) {
      starts_.push_back(start);
      if (start + window_ >= predictions_) break;
    }
    inputs_.resize(int64_t(kWindowsPerBatch) * window_);
    targets_.resize(inputs_.size());
  }

  bool advance(int64_t budget) override {
    const int V = model_.config_.vocab_size;
    int64_t scored = 0;
    while (next_window_ < starts_.size() && (scored == 0 || scored < budget)) {
      const int windows = int(std::min<size_t>(kWindowsPerBatch, starts_.size() - next_window_));
      for (int w = 0; w < windows; ++w) {
        const int64_t start = starts_[next_window_ + w];
        for (int t = 0; t < window_; ++t) {
          inputs_[int64_t(w) * window_ + t] = tokens_[start + t];
          targets_[int64_t(w) * window_ + t] = start + t >= scored_until_ ? tokens_[start + t + 1] : -1;
        }
        scored_until_ = start + window_;
      }
      model_.forward(inputs_.data(), targets_.data(), windows, window_, false, nullptr);
      for (int64_t row = 0; row < int64_t(windows) * window_; ++row) {
        if (targets_[row] < 0) continue;
        tally_.add(model_.losses_[row], model_.logits_.data() + row * V, V, targets_[row]);
        ++scored;
      }
      next_window_ += size_t(windows);
    }
    return next_window_ < starts_.size();
  }
  EvalStats stats() const override { return tally_.stats(); }
  double progress() const override {
    return predictions_ <= 0 ? 1.0 : double(tally_.stats().tokens) / double(predictions_);
  }

 private:
  static constexpr int kWindowsPerBatch = 16;
  GptLM& model_;
  std::vector<int32_t> tokens_;
  int64_t predictions_;
  int window_ = 0;
  std::vector<int64_t> starts_;  // first input of each window
  size_t next_window_ = 0;
  int64_t scored_until_ = 0;     // predictions [0, scored_until_) are counted
  std::vector<int32_t> inputs_, targets_;  // (kWindowsPerBatch, window_)
  EvalTally tally_;
};

std::unique_ptr<Evaluation> GptLM::start_evaluation(std::vector<int32_t> tokens) {
  return std::make_unique<GptEvaluation>(*this, std::move(tokens));
}

EvalStats GptLM::evaluate(const std::vector<int32_t>& tokens) {
  std::unique_ptr<Evaluation> evaluation = start_evaluation(tokens);
  while (evaluation->advance(INT64_MAX)) {
  }
  return evaluation->stats();
}

}  // namespace tinylm
