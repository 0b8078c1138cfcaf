// RecurrentLM generation: one token at a time through the stacked cells, the state (h, and c for an LSTM) kept
// between calls. Every buffer is sized in reset_state(), so step() never allocates. One step's products are
// matrix-vector products, from float weights or from their half-precision or int8 copies (StepPrecision).
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "models/model_common.hpp"
#include "models/recurrent_lm.hpp"
#include "parallel/parallel_kernels.hpp"
#include "tinylm/error.hpp"

namespace tinylm {

void RecurrentLM::reset_state() {
  const int L = config_.num_layers, H = config_.hidden_size, GH = gate_count(config_.cell) * H;
  gen_h_.assign(int64_t(L) * H, 0.0f);
  gen_c_.assign(int64_t(L) * H, 0.0f);
  gen_scratch_.assign(int64_t(L) * (2 * GH + H), 0.0f);
  gen_logits_.assign(config_.vocab_size, 0.0f);
  refresh_compact_weights();
}

void RecurrentLM::save_state(GenerationState* state) const {
  state->ints.clear();
  state->floats.assign(gen_h_.begin(), gen_h_.end());
  state->floats.insert(state->floats.end(), gen_c_.begin(), gen_c_.end());
}

void RecurrentLM::load_state(const GenerationState& state) {
  const int64_t LH = int64_t(config_.num_layers) * config_.hidden_size;
  check(state.ints.empty() && state.floats.size() == size_t(2 * LH), "generation state: a recurrent state of ",
        state.floats.size(), " floats, but this model's ", config_.num_layers, " layers × ", config_.hidden_size,
        " hidden need ", 2 * LH, " (the state is from another model)");
  if (gen_h_.empty()) reset_state();  // a model built without one: size the buffers (and the compact weights)
  std::copy(state.floats.begin(), state.floats.begin() + LH, gen_h_.begin());
  std::copy(state.floats.begin() + LH, state.floats.end(), gen_c_.begin());
}

void RecurrentLM::set_step_precision(StepPrecision precision) {
  step_precision_ = precision;
  refresh_compact_weights();
}

void RecurrentLM::refresh_compact_weights() {
  gen_compact_.clear();
  gen_half_.clear();
  gen_int8_.clear();
  gen_scales_.clear();
  if (step_precision_ == StepPrecision::Float) return;
  struct Matrix {
    const float* start;
    int rows, cols;
  };
  std::vector<Matrix> matrices;  // in the order step() reads them
  const float* values = params_.values.data();
  const int V = config_.vocab_size, H = config_.hidden_size, GH = gate_count(config_.cell) * H;
  for (int layer = 0; layer < config_.num_layers; ++layer) {
    const int input_size = layer == 0 ? config_.embed_size : H;
    matrices.push_back({values + layer_offsets_[layer].weight_ih, GH, input_size});
    matrices.push_back({values + layer_offsets_[layer].weight_hh, GH, H});
  }
  matrices.push_back({values + head_weight_offset_, V, H});
  const bool int8 = step_precision_ == StepPrecision::Int8;
  // Elements of each matrix's copy: int8 rows as they are, half in panels (padded to whole panels of rows).
  auto copy_size = [&](const Matrix& matrix) {
    return int8 ? size_t(matrix.rows) * matrix.cols : size_t(half_panels_size(matrix.rows, matrix.cols));
  };
  size_t total = 0, total_rows = 0;
  for (const Matrix& matrix : matrices) {
    total += copy_size(matrix);
    total_rows += matrix.rows;
  }
  if (int8) {
    gen_int8_.resize(total);
    gen_scales_.resize(total_rows);
  } else {
    gen_half_.resize(total);
  }
  size_t offset = 0, row_offset = 0;
  std::vector<CompactMatrix> compact;
  for (const Matrix& matrix : matrices) {
    if (int8) {
      // A non-finite weight cannot be quantised: this model generates from floats instead.
      if (!quantize_rows_int8(gen_int8_.data() + offset, gen_scales_.data() + row_offset, matrix.start, matrix.rows,
                              matrix.cols))
        return;
      compact.push_back({nullptr, gen_int8_.data() + offset, gen_scales_.data() + row_offset});
    } else {
      // A weight beyond half's range (|w| > 65504) cannot be stored: this model generates from floats instead.
      if (!convert_to_half_panels(gen_half_.data() + offset, matrix.start, matrix.rows, matrix.cols)) return;
      compact.push_back({gen_half_.data() + offset, nullptr, nullptr});
    }
    offset += copy_size(matrix);
    row_offset += size_t(matrix.rows);
  }
  gen_compact_ = std::move(compact);
}

const float* RecurrentLM::last_step_gates(int layer) const {
  check(layer >= 0 && layer < config_.num_layers, "layer ", layer, " out of range");
  const int GH = gate_count(config_.cell) * config_.hidden_size;
  return gen_scratch_.data() + int64_t(layer) * (2 * GH + config_.hidden_size);
}

const float* RecurrentLM::step(int32_t token) {
  const int V = config_.vocab_size, E = config_.embed_size, H = config_.hidden_size;
  const int GH = gate_count(config_.cell) * H;
  check(token >= 0 && token < V, "step: token id ", token, " is outside the vocabulary [0, ", V, ")");
  const CompactMatrix float_weights;
  auto compact = [&](size_t index) -> const CompactMatrix& {
    return gen_compact_.empty() ? float_weights : gen_compact_[index];
  };
  const float* x = params_.values.data() + embed_offset_ + int64_t(token) * E;
  for (int layer = 0; layer < config_.num_layers; ++layer) {
    float* h = gen_h_.data() + int64_t(layer) * H;
    recurrent_step(pool_, h, gen_c_.data() + int64_t(layer) * H, gen_scratch_.data() + int64_t(layer) * (2 * GH + H), x,
                   layer_weights(layer), config_.cell, layer == 0 ? E : H, H, compact(2 * layer),
                   compact(2 * layer + 1));
    x = h;
  }
  std::memcpy(gen_logits_.data(), params_.values.data() + head_bias_offset_, sizeof(float) * V);
  matrix_vector_accumulate(pool_, gen_logits_.data(), params_.values.data() + head_weight_offset_,
                           compact(2 * config_.num_layers), x, V, H);
  return gen_logits_.data();
}

// ---- evaluation (chunked: recurrent_evaluation.cpp) --------------------------------------------------------

EvalStats RecurrentLM::evaluate(const std::vector<int32_t>& tokens) { return run_to_end(*start_evaluation(tokens)); }

}  // namespace tinylm
