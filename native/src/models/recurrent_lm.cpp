// RecurrentLM: parameter table, initialisation, file I/O, and the training forward/backward (the config is in
// recurrent_config.cpp, generation in recurrent_generate.cpp, chunked evaluation in recurrent_evaluation.cpp).
// The model's backward is its forward read bottom-up.
#include "models/recurrent_lm.hpp"

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <cstring>
#include <map>

#include "io/safetensors.hpp"
#include "parallel/parallel_kernels.hpp"
#include "layers/linear.hpp"
#include "memory_limits.hpp"
#include "models/model_common.hpp"
#include "tinylm/error.hpp"
#include "tinylm/rng.hpp"

namespace tinylm {

namespace {

// out (Q,P,W) = in (P,Q,W) with the two outer dimensions swapped (time-major ↔ batch-major rows of W floats);
// rows of the output split over the pool.
void reorder_rows(ThreadPool* pool, float* out, const float* in, int P, int Q, int W) {
  parallel_rows(pool, int64_t(Q) * P, W, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t q = row / P, p = row % P;
      std::memcpy(out + row * W, in + (p * Q + q) * W, sizeof(float) * W);
    }
  });
}

}  // namespace

// ---- parameters -----------------------------------------------------------------------------------------

RecurrentLM::RecurrentLM(const RecurrentConfig& config) : RecurrentLM(config, Allocation::Now) {}

RecurrentLM::RecurrentLM(const RecurrentConfig& config, Allocation allocation)
    : config_(config), step_precision_(half_weights_are_fast() ? StepPrecision::Half : StepPrecision::Float) {
  config_.validate();
  const int V = config_.vocab_size, E = config_.embed_size, H = config_.hidden_size;
  const int GH = gate_count(config_.cell) * H;
  ParameterTable& table = params_.table;
  embed_offset_ = table.add("embed.weight", {V, E}, true);
  for (int layer = 0; layer < config_.num_layers; ++layer) {
    const std::string suffix = "_l" + std::to_string(layer);
    const int input_size = layer == 0 ? E : H;
    LayerOffsets offsets;
    offsets.weight_ih = table.add("rnn.weight_ih" + suffix, {GH, input_size}, true);
    offsets.weight_hh = table.add("rnn.weight_hh" + suffix, {GH, H}, true);
    offsets.bias_ih = table.add("rnn.bias_ih" + suffix, {GH}, false);
    offsets.bias_hh = table.add("rnn.bias_hh" + suffix, {GH}, false);
    layer_offsets_.push_back(offsets);
  }
  head_weight_offset_ = table.add("head.weight", {V, H}, true);
  head_bias_offset_ = table.add("head.bias", {V}, false);
  // Weights and gradients (4 + 4 bytes each), step()'s compact copy (≤ 2 bytes each), the generation state.
  const uint64_t resident = saturating_add(saturating_mul(table.size(), 10),
                                           saturating_product(4, config_.num_layers, 2 * GH + 3 * H));
  check_memory(resident, memory_cap(), LimitKind::ModelTooLarge, std::string("this ") + cell_kind_name(config_.cell) + " model",
               "use fewer layers or a smaller hidden_size");
  if (allocation == Allocation::Now) allocate();
}

void RecurrentLM::allocate(Parameters::Fill fill) {
  params_.allocate(fill);
  caches_.resize(config_.num_layers);
  dropped_.resize(config_.num_layers);
  dropout_masks_.resize(config_.num_layers);
  if (fill == Parameters::Fill::Zeros) reset_state();
}

void RecurrentLM::initialize(Rng& rng) {
  // nn.Embedding: N(0,1). nn.LSTM/GRU/RNN: every tensor U(−1/√H, 1/√H). nn.Linear: U(−1/√in, 1/√in).
  const int H = config_.hidden_size;
  for (const TensorSpec& spec : params_.table.tensors()) {
    float* values = params_.values.data() + spec.offset;
    const int64_t count = shape_numel(spec.shape);
    if (spec.name == "embed.weight") {
      for (int64_t i = 0; i < count; ++i) values[i] = rng.normal();
    } else {
      const float bound = 1.0f / std::sqrt(static_cast<float>(H));
      for (int64_t i = 0; i < count; ++i) values[i] = (2.0f * rng.uniform() - 1.0f) * bound;
    }
  }
}

std::unique_ptr<RecurrentLM> RecurrentLM::from_file(const nlohmann::json& config_json, const SafetensorsFile& file) {
  std::unique_ptr<RecurrentLM> model(new RecurrentLM(RecurrentConfig::from_json(config_json), Allocation::Deferred));
  check_parameters_in_file(model->params_.table, file);  // before a byte is allocated for the config's sizes
  model->allocate(Parameters::Fill::Appended);
  const std::map<std::string, DType> stored = load_parameters(model->params_, file);
  // Weights shipped as int8 generate from int8: the same numbers the file holds, at a quarter of the traffic.
  if (stored.at("head.weight") == DType::I8) model->step_precision_ = StepPrecision::Int8;
  model->reset_state();  // the generation state, and step()'s compact copies of the loaded weights
  return model;
}

std::vector<TensorToWrite> RecurrentLM::tensors_to_save() const { return parameters_to_write(params_); }

RecurrentWeights RecurrentLM::layer_weights(int layer) const {
  const float* base = params_.values.data();
  const LayerOffsets& o = layer_offsets_[layer];
  return {base + o.weight_ih, base + o.weight_hh, base + o.bias_ih, base + o.bias_hh};
}

RecurrentGrads RecurrentLM::layer_grads(int layer) {
  float* base = params_.grads.data();
  const LayerOffsets& o = layer_offsets_[layer];
  return {base + o.weight_ih, base + o.weight_hh, base + o.bias_ih, base + o.bias_hh};
}

// ---- training forward / backward ------------------------------------------------------------------------

const float* RecurrentLM::layer_output(int layer) const {
  return dropout_active_ ? dropped_[layer].data() : caches_[layer].h.data();
}

void RecurrentLM::reset_train_state() {
  std::fill(carried_h_.begin(), carried_h_.end(), 0.0f);
  std::fill(carried_c_.begin(), carried_c_.end(), 0.0f);
}

std::vector<float> RecurrentLM::carried_state() const {
  std::vector<float> state(carried_h_);
  state.insert(state.end(), carried_c_.begin(), carried_c_.end());
  return state;
}

void RecurrentLM::restore_carried_state(std::vector<float> state) {
  const size_t half = state.size() / 2;
  carried_h_.assign(state.begin(), state.begin() + half);
  carried_c_.assign(state.begin() + half, state.end());
}

uint64_t RecurrentLM::forward_bytes(int B, int T) const {
  const uint64_t V = config_.vocab_size, E = config_.embed_size, H = config_.hidden_size, L = config_.num_layers;
  const uint64_t GH = gate_count(config_.cell) * H, widest_input = std::max(E, H);
  const uint64_t N = saturating_product(B, T);
  // Per row (t, b) of each layer: gates and their gradient (2·G·H); h, c, GRU's h-side gates and d h_n, the
  // dropout mask and output (8·H). Per row above the layers: embedded and its gradient, the head's input and three
  // (N,H) gradients, logits, probabilities and their gradient, losses, ids.
  const uint64_t layer_rows = saturating_mul(L, 2 * GH + 8 * H);
  const uint64_t top_rows = 2 * E + 4 * H + 3 * V + 3;
  // Per layer: W_hh and W_ih side by side and their packed copies (3·G·H·(H+I)), one step's [dh | dinput] rows.
  const uint64_t per_layer = saturating_add(saturating_product(3, GH, H + widest_input),
                                            saturating_product(B, 2 * (H + widest_input)));
  const uint64_t floats = saturating_add(
      saturating_add(saturating_mul(N, saturating_add(layer_rows, top_rows)), saturating_mul(L, per_layer)),
      saturating_add(saturating_product(2, V + 1, GH), saturating_product(2, L, B, H)));  // projection; carried state
  return saturating_mul(floats, sizeof(float));
}

float RecurrentLM::forward(const int32_t* inputs, const int32_t* targets, int B, int T, bool training, Rng* rng) {
  check(B > 0 && T > 0, "forward: batch and sequence length must be positive, got B=", B, " T=", T);
  check_memory(forward_bytes(B, T), memory_cap(), LimitKind::OutOfMemory,
               "a forward pass over " + std::to_string(B) + " × " + std::to_string(T) + " tokens",
               "use a smaller batch or sequence length");
  const int V = config_.vocab_size, E = config_.embed_size, H = config_.hidden_size, L = config_.num_layers;
  const int64_t N = int64_t(B) * T, state_size = int64_t(L) * B * H;
  check_token_ids(inputs, N, V, "input");
  check_token_ids(targets, N, V, "target");
  if (carried_h_.size() != size_t(state_size)) {  // a new batch size starts from a zero state
    carried_h_.assign(state_size, 0.0f);
    carried_c_.assign(state_size, 0.0f);
  }
  batch_ = B;
  steps_ = T;
  dropout_active_ = training && config_.dropout > 0.0f;
  check(!dropout_active_ || rng != nullptr, "forward: dropout needs a random number generator");

  inputs_time_major_.resize(N);
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) inputs_time_major_[int64_t(t) * B + b] = inputs[int64_t(b) * T + t];
  targets_.assign(targets, targets + N);
  // The first layer's input side, embed[token]·W_ihᵀ, depends on the token alone: with fewer distinct rows than
  // positions, project the V embedding rows once and gather, instead of multiplying all B·T positions.
  project_embeddings_ = 2 * int64_t(V) <= N;
  const int GH = gate_count(config_.cell) * H;
  if (project_embeddings_) {
    // projection (V,G·H) = input_side_bias + embed·W_ih0ᵀ: every row the first layer's input side can take.
    embedding_projection_.resize(int64_t(V) * GH);
    float* projection = embedding_projection_.data();
    projection_bias_.resize(GH);
    input_side_bias(projection_bias_.data(), layer_weights(0), config_.cell, H);
    sgemm_nt_bias(pool_, projection, GH, params_.values.data() + embed_offset_, E,
                  params_.values.data() + layer_offsets_[0].weight_ih, E, projection_bias_.data(), V, GH, E);
    std::vector<float>& gates = caches_[0].gates;
    if (gates.size() < size_t(N * GH)) gates.resize(N * GH);
    embedding_forward(pool_, gates.data(), inputs_time_major_.data(), embedding_projection_.data(), N, GH);
  } else {
    embedded_.resize(N * E);
    embedding_forward(pool_, embedded_.data(), inputs_time_major_.data(), params_.values.data() + embed_offset_, N,
                      E);
  }

  const float keep_scale = 1.0f / (1.0f - config_.dropout);
  for (int layer = 0; layer < L; ++layer) {
    const bool projected = layer == 0 && project_embeddings_;
    const float* input = layer == 0 ? embedded_.data() : layer_output(layer - 1);
    const int input_size = layer == 0 ? E : H;
    float* h0 = carried_h_.data() + int64_t(layer) * B * H;
    float* c0 = carried_c_.data() + int64_t(layer) * B * H;
    RecurrentCache& cache = caches_[layer];
    recurrent_forward(pool_, cache, input, h0, c0, layer_weights(layer), config_.cell, T, B, input_size, H,
                      projected ? InputSide::Caller : InputSide::Computed);
    // Carry the last step's state into the next window.
    std::memcpy(h0, cache.h.data() + (N - B) * H, sizeof(float) * B * H);
    if (config_.cell == CellKind::Lstm) std::memcpy(c0, cache.c.data() + (N - B) * H, sizeof(float) * B * H);
    if (dropout_active_) {
      std::vector<float>& mask = dropout_masks_[layer];
      std::vector<float>& dropped = dropped_[layer];
      mask.resize(N * H);
      dropped.resize(N * H);
      for (int64_t i = 0; i < N * H; ++i) {
        mask[i] = rng->uniform() < config_.dropout ? 0.0f : keep_scale;
        dropped[i] = cache.h[i] * mask[i];
      }
    }
  }

  // Head, batch-major so logits and targets share the caller's (B,T) order.
  const float* top = layer_output(L - 1);
  top_batch_major_.resize(N * H);
  reorder_rows(pool_, top_batch_major_.data(), top, T, B, H);
  logits_.resize(N * V);
  probs_.resize(N * V);
  losses_.resize(N);
  linear_forward(pool_, logits_.data(), top_batch_major_.data(), params_.values.data() + head_weight_offset_,
                 params_.values.data() + head_bias_offset_, N, H, V);
  const double loss_sum = softmax_xent_forward(pool_, probs_.data(), losses_.data(), logits_.data(), targets, N, V);
  counted_targets_ = static_cast<int>(std::count_if(targets, targets + N, [](int32_t t) { return t >= 0; }));
  return counted_targets_ ? static_cast<float>(loss_sum / counted_targets_) : 0.0f;
}

void RecurrentLM::backward() {
  check(batch_ > 0, "backward: call forward first");
  params_.ensure_grads();
  const int B = batch_, T = steps_, V = config_.vocab_size, E = config_.embed_size, H = config_.hidden_size;
  const int64_t N = int64_t(B) * T;
  if (counted_targets_ == 0) return;
  float* grads = params_.grads.data();
  const float* values = params_.values.data();

  dlogits_.resize(N * V);
  softmax_xent_backward(pool_, dlogits_.data(), probs_.data(), targets_.data(), 1.0f / counted_targets_, N, V);
  dtop_.resize(N * H);
  linear_backward(pool_, dtop_.data(), grads + head_weight_offset_, grads + head_bias_offset_, dlogits_.data(),
                  top_batch_major_.data(), values + head_weight_offset_, N, H, V, 0.0f);

  dlayer_.resize(N * H);
  reorder_rows(pool_, dlayer_.data(), dtop_.data(), B, T, H);

  for (int layer = config_.num_layers - 1; layer >= 0; --layer) {
    if (dropout_active_) {
      const std::vector<float>& mask = dropout_masks_[layer];
      for (int64_t i = 0; i < N * H; ++i) dlayer_[i] *= mask[i];
    }
    if (layer == 0 && project_embeddings_) {
      embedding_projection_backward();
      break;
    }
    const bool bottom = layer == 0;
    std::vector<float>& dinput = bottom ? dembedded_ : dlayer_below_;
    assign_zeros(pool_, dinput, N * (bottom ? E : H));
    const float* input = bottom ? embedded_.data() : layer_output(layer - 1);
    recurrent_backward(pool_, dinput.data(), layer_grads(layer), dlayer_.data(), input, caches_[layer],
                       layer_weights(layer), config_.cell, T, B, bottom ? E : H, H);
    if (bottom) embedding_backward(pool_, grads + embed_offset_, dembedded_.data(), inputs_time_major_.data(), N, E);
    else std::swap(dlayer_, dlayer_below_);
  }
}

void RecurrentLM::embedding_projection_backward() {
  // Gradients of the projected first layer: with S (V,G·H) the per-token sums of the input-side gate gradients,
  // dW_ih0 += Sᵀ·embed and dembed += S·W_ih0 — the same sums as over all B·T positions, in V rows.
  const int V = config_.vocab_size, E = config_.embed_size, H = config_.hidden_size;
  const int GH = gate_count(config_.cell) * H;
  const int64_t N = int64_t(batch_) * steps_;
  float* grads = params_.grads.data();
  const float* values = params_.values.data();
  RecurrentCache& cache = caches_[0];
  recurrent_backward(pool_, nullptr, layer_grads(0), dlayer_.data(), nullptr, cache, layer_weights(0), config_.cell,
                     steps_, batch_, E, H, InputSide::Caller);
  embedding_projection_grad_.assign(int64_t(V) * GH, 0.0f);
  embedding_backward(pool_, embedding_projection_grad_.data(), cache.dgates.data(), inputs_time_major_.data(), N, GH);
  const float* projection_grad = embedding_projection_grad_.data();
  sgemm_tn(pool_, grads + layer_offsets_[0].weight_ih, E, projection_grad, GH, values + embed_offset_, E, GH, E, V,
           1.0f);
  sgemm_nn(pool_, grads + embed_offset_, E, projection_grad, GH, values + layer_offsets_[0].weight_ih, E, V, E, GH,
           1.0f);
}

}  // namespace tinylm
