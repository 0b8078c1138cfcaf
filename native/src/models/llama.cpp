// LlamaLM: parameter table, initialisation, model-file loading, and the training forward/backward (generation and
// evaluation are in llama_generate.cpp, the config in llama_config.cpp). The backward is the forward read bottom-up.
#include "models/llama.hpp"

#include <algorithm>
#include <cmath>

#include "io/safetensors.hpp"
#include "kernels/kernels.hpp"
#include "layers/linear.hpp"
#include "memory_limits.hpp"
#include "models/model_common.hpp"
#include "parallel/parallel_kernels.hpp"
#include "tinylm/error.hpp"
#include "tinylm/rng.hpp"

namespace tinylm {

// ---- parameters -----------------------------------------------------------------------------------------

LlamaLM::LlamaLM(const LlamaConfig& config) : LlamaLM(config, Allocation::Now) {}

LlamaLM::LlamaLM(const LlamaConfig& config, Allocation allocation, Residency residency)
    : config_(config), step_precision_(half_weights_are_fast() ? StepPrecision::Half : StepPrecision::Float) {
  config_.validate();
  const int V = config_.vocab_size, C = config_.hidden_size, H = config_.intermediate_size;
  const int QD = config_.num_heads * config_.head_size, KD = config_.num_kv_heads * config_.head_size;
  ParameterTable& table = params_.table;
  if (residency != Residency::Float) table.hold_matrices(compact_kind_of(residency));
  // AdamW decays matrices only (every tensor with dim ≥ 2), as GPT's.
  auto optional = [&](bool present, const std::string& name, int64_t size) {
    return present ? table.add(name, {size}, false) : kNoTensor;
  };
  embed_offset_ = table.add("model.embed_tokens.weight", {V, C}, true);
  for (int layer = 0; layer < config_.num_layers; ++layer) {
    const std::string prefix = "model.layers." + std::to_string(layer) + ".";
    const bool attention_bias = config_.attention_bias, mlp_bias = config_.mlp_bias;
    BlockOffsets o;
    o.input_norm = table.add(prefix + "input_layernorm.weight", {C}, false);
    o.qkv_weight = table.add(prefix + "self_attn.q_proj.weight", {QD, C}, true);  // q, k, v: one (QKV, C) matrix
    table.add_stacked(prefix + "self_attn.k_proj.weight", {KD, C}, true);
    table.add_stacked(prefix + "self_attn.v_proj.weight", {KD, C}, true);
    o.qkv_bias = optional(attention_bias, prefix + "self_attn.q_proj.bias", QD);
    optional(attention_bias, prefix + "self_attn.k_proj.bias", KD);
    optional(attention_bias, prefix + "self_attn.v_proj.bias", KD);
    o.o_weight = table.add(prefix + "self_attn.o_proj.weight", {C, QD}, true);
    o.o_bias = optional(attention_bias, prefix + "self_attn.o_proj.bias", C);
    o.post_norm = table.add(prefix + "post_attention_layernorm.weight", {C}, false);
    o.gate_up_weight = table.add(prefix + "mlp.gate_proj.weight", {H, C}, true);  // gate, up: one (2H, C) matrix
    table.add_stacked(prefix + "mlp.up_proj.weight", {H, C}, true);
    o.gate_up_bias = optional(mlp_bias, prefix + "mlp.gate_proj.bias", H);
    optional(mlp_bias, prefix + "mlp.up_proj.bias", H);
    o.down_weight = table.add(prefix + "mlp.down_proj.weight", {C, H}, true);
    o.down_bias = optional(mlp_bias, prefix + "mlp.down_proj.bias", C);
    block_offsets_.push_back(o);
  }
  norm_offset_ = table.add("model.norm.weight", {C}, false);
  head_offset_ = config_.tie_embeddings ? embed_offset_ : table.add("lm_head.weight", {V, C}, true);
  // Float weights and step()'s half copy of them (4 + 2 bytes each; gradients come with training, which counts
  // them), compact matrices as held; the KV cache and its shadow (1.5 × 2 × (L, KVH, T_max, D)), the attention rows
  // (L, NH, T_max) and the rotary table (T_max, D) generation keeps.
  const uint64_t generation_floats = saturating_add(saturating_product(config_.num_layers, config_.context_size,
                                                                       3 * int64_t(KD) + config_.num_heads),
                                                    saturating_product(config_.context_size, config_.head_size));
  const uint64_t resident = saturating_add(saturating_add(saturating_mul(table.size(), 6), table.compact_bytes()),
                                           saturating_mul(generation_floats, 4));
  check_memory(resident, memory_cap(), LimitKind::ModelTooLarge, "this Llama (with its KV cache)",
               "use a shorter context (HfLoadOptions::max_context) or a smaller model");
  if (allocation == Allocation::Now) allocate();
}

void LlamaLM::allocate(Parameters::Fill fill) {
  params_.allocate(fill);
  blocks_.resize(config_.num_layers);
  rotary_.build(config_.rope, config_.head_size, config_.context_size);
  // Generation buffers and half copies wait for reset_state() or the first step(): the weights are still zero.
}

void LlamaLM::initialize(Rng& rng) {
  // Hugging Face's LlamaPreTrainedModel._init_weights: Linear and Embedding weights N(0, initializer_range = 0.02),
  // biases 0, RMSNorm weights 1.
  std::vector<float> drawn;  // a compact matrix's values before they are stored
  for (const TensorSpec& spec : params_.table.tensors()) {
    const int64_t count = shape_numel(spec.shape);
    if (spec.compact) drawn.resize(size_t(count));
    float* values = spec.compact ? drawn.data() : params_.values.data() + spec.offset;
    const bool norm_weight = spec.name.find("norm.weight") != std::string::npos;
    if (spec.shape.size() == 1) std::fill(values, values + count, norm_weight ? 1.0f : 0.0f);
    else
      for (int64_t i = 0; i < count; ++i) values[i] = 0.02f * rng.normal();
    if (spec.compact) store_parameter(params_, spec, values);
  }
  reset_state();  // generation starts from the new weights
}

std::unique_ptr<LlamaLM> LlamaLM::from_file(const nlohmann::json& config, const SafetensorsFile& file,
                                            Residency residency) {
  std::unique_ptr<LlamaLM> model(new LlamaLM(LlamaConfig::from_json(config), Allocation::Deferred, residency));
  check_parameters_in_file(model->params_.table, file);  // every tensor checked before the model allocates
  model->allocate(Parameters::Fill::Appended);
  read_parameters(model->params_, file);
  model->reset_state();  // generation starts from the loaded weights
  return model;
}

std::vector<TensorToWrite> LlamaLM::tensors_to_save() const {
  return parameters_to_write(params_);  // a tied head is the embedding, stored once (as save_pretrained does)
}

MatrixView LlamaLM::matrix_at(size_t offset, int rows, int cols) const {
  if (compact()) return params_.compact.view(offset);
  MatrixView view;
  view.f32 = value_at(offset);
  view.rows = rows;
  view.cols = cols;
  return view;
}

SwigluWeights LlamaLM::mlp_weights(int layer) {
  const BlockOffsets& o = block_offsets_[layer];
  return {weight_at(o.gate_up_weight), value_at(o.gate_up_bias), weight_at(o.down_weight), value_at(o.down_bias)};
}

std::vector<LinearModule> LlamaLM::linear_modules() const {
  const int C = config_.hidden_size, H = config_.intermediate_size;
  const int QD = config_.num_heads * config_.head_size, KD = config_.num_kv_heads * config_.head_size;
  std::vector<LinearModule> modules;
  for (int layer = 0; layer < config_.num_layers; ++layer) {
    const std::string prefix = "model.layers." + std::to_string(layer) + ".";
    modules.push_back({prefix + "self_attn.q_proj", C, QD});
    modules.push_back({prefix + "self_attn.k_proj", C, KD});
    modules.push_back({prefix + "self_attn.v_proj", C, KD});
    modules.push_back({prefix + "self_attn.o_proj", QD, C});
    modules.push_back({prefix + "mlp.gate_proj", C, H});
    modules.push_back({prefix + "mlp.up_proj", C, H});
    modules.push_back({prefix + "mlp.down_proj", H, C});
  }
  return modules;
}

void LlamaLM::qkv_adapters_forward(float* qkv, const float* in, int layer, int N) const {
  const int QKV = config_.qkv_size(), QD = config_.num_heads * config_.head_size;
  const int KD = config_.num_kv_heads * config_.head_size;
  adapter_slot(layer, 0).forward(pool_, qkv, QKV, in, N);
  adapter_slot(layer, 1).forward(pool_, qkv + QD, QKV, in, N);
  adapter_slot(layer, 2).forward(pool_, qkv + QD + KD, QKV, in, N);
}

void LlamaLM::qkv_adapters_backward(float* din, const float* dqkv, const float* in, int layer, int N) const {
  const int QKV = config_.qkv_size(), QD = config_.num_heads * config_.head_size;
  const int KD = config_.num_kv_heads * config_.head_size;
  adapter_slot(layer, 0).backward(pool_, din, dqkv, QKV, in, N);
  adapter_slot(layer, 1).backward(pool_, din, dqkv + QD, QKV, in, N);
  adapter_slot(layer, 2).backward(pool_, din, dqkv + QD + KD, QKV, in, N);
}

SwigluGrads LlamaLM::mlp_grads(int layer) {
  const BlockOffsets& o = block_offsets_[layer];
  return {grad_at(o.gate_up_weight), grad_at(o.gate_up_bias), grad_at(o.down_weight), grad_at(o.down_bias)};
}

// ---- training forward / backward ------------------------------------------------------------------------

uint64_t LlamaLM::forward_bytes(int B, int T) const {
  const uint64_t V = config_.vocab_size, C = config_.hidden_size, H = config_.intermediate_size;
  const uint64_t L = config_.num_layers, NH = config_.num_heads, QKV = config_.qkv_size(), QD = NH * config_.head_size;
  const uint64_t N = saturating_product(B, T);
  // Per row of each block: input_norm, middle, post_norm, output (4C), qkv, attention (NH·D), the MLP's gate_up
  // and activation with their gradients (2H + H + H + 2H), and the two norms' rstd. Per row above the blocks:
  // embedded, final_norm, branch, dx, dnorm (5C), dattention (NH·D), dqkv, logits, probs, dlogits (3V),
  // final_stats' rstd, the loss, and the input and target ids (4-byte int32 each).
  const uint64_t block_row = 4 * C + QKV + QD + 6 * H + 2;
  const uint64_t rows = saturating_add(saturating_mul(L, block_row), 5 * C + QD + QKV + 3 * V + 4);
  // Attention probabilities, their dropout mask and dropped copy, (B, NH, T, T) per block, and one (T, T) scratch.
  const uint64_t attention = saturating_add(saturating_product(3, L, B, NH, T, T), saturating_product(T, T));
  return saturating_mul(saturating_add(saturating_mul(N, rows), attention), sizeof(float));
}

float LlamaLM::forward(const int32_t* inputs, const int32_t* targets, int B, int T, bool training, Rng* rng) {
  check(B > 0 && T > 0, "forward: batch and sequence length must be positive, got B=", B, " T=", T);
  check(T <= config_.context_size, "forward: sequence length ", T, " exceeds the model's context_size ",
        config_.context_size);
  check_memory(forward_bytes(B, T), memory_cap(), LimitKind::OutOfMemory,
               "a forward pass over " + std::to_string(B) + " × " + std::to_string(T) + " tokens",
               "use a smaller batch or sequence length");
  check(!(training && compact() && !frozen()), "this Llama holds its matrices as ",
        compact_kind_name(params_.compact.kind()),
        " for generation, evaluation and LoRA adapters only: load it with float weights to train it");
  const int V = config_.vocab_size, C = config_.hidden_size, H = config_.intermediate_size;
  const int QKV = config_.qkv_size(), QD = config_.num_heads * config_.head_size;
  const int64_t N = int64_t(B) * T, NC = N * C;
  check_token_ids(inputs, N, V, "input");
  check_token_ids(targets, N, V, "target");
  const bool dropout_active = training && config_.attention_dropout > 0.0f;
  check(!dropout_active || rng != nullptr, "forward: dropout needs a random number generator");
  batch_ = B;
  steps_ = T;
  inputs_.assign(inputs, inputs + N);
  targets_.assign(targets, targets + N);

  grow(embedded_, NC);
  if (compact()) {  // the N rows looked up, not the whole (V, C) table converted
    parallel_rows(pool_, N, C, [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n) params_.compact.row(embed_offset_, inputs[n], embedded_.data() + n * C);
    });
  } else {
    embedding_forward(pool_, embedded_.data(), inputs, value_at(embed_offset_), int(N), C);
  }
  grow(branch_, NC);
  const float* x = embedded_.data();
  const float eps = config_.rms_norm_eps;
  for (int layer = 0; layer < config_.num_layers; ++layer) {
    const BlockOffsets& o = block_offsets_[layer];
    BlockActivations& a = blocks_[layer];
    for (auto* buffer : {&a.input_norm, &a.middle, &a.post_norm, &a.output}) grow(*buffer, NC);
    grow(a.qkv, N * QKV);
    grow(a.attention, N * QD);
    rmsnorm_forward(a.input_norm.data(), a.input_stats, x, value_at(o.input_norm), eps, int(N), C);
    linear_forward(pool_, a.qkv.data(), a.input_norm.data(), weight_at(o.qkv_weight), value_at(o.qkv_bias), int(N),
                   C, QKV);
    qkv_adapters_forward(a.qkv.data(), a.input_norm.data(), layer, int(N));
    // Queries and keys — the first NH + KVH heads of each row — turn by their position.
    rotary_rows_forward(a.qkv.data(), QKV, rotary_, config_.num_heads + config_.num_kv_heads, config_.head_size, B,
                        T);
    attention_forward(pool_, a.attention.data(), a.attention_cache, a.qkv.data(), heads(),
                      dropout_active ? config_.attention_dropout : 0.0f, rng, B, T);
    linear_forward(pool_, branch_.data(), a.attention.data(), weight_at(o.o_weight), value_at(o.o_bias), int(N), QD,
                   C);
    adapter_slot(layer, 3).forward(pool_, branch_.data(), C, a.attention.data(), int(N));
    for (int64_t i = 0; i < NC; ++i) a.middle[i] = x[i] + branch_[i];
    rmsnorm_forward(a.post_norm.data(), a.post_stats, a.middle.data(), value_at(o.post_norm), eps, int(N), C);
    swiglu_mlp_forward(pool_, branch_.data(), a.mlp, a.post_norm.data(), mlp_weights(layer), int(N), C, H,
                       mlp_adapters(layer));
    for (int64_t i = 0; i < NC; ++i) a.output[i] = a.middle[i] + branch_[i];
    x = a.output.data();
    forward_weights_.release();
  }

  grow(final_norm_, NC);
  rmsnorm_forward(final_norm_.data(), final_stats_, x, value_at(norm_offset_), eps, int(N), C);
  grow(logits_, N * V);
  grow(probs_, N * V);
  grow(losses_, N);
  linear_forward(pool_, logits_.data(), final_norm_.data(), weight_at(head_offset_), nullptr, int(N), C, V);
  forward_weights_.release();
  const double loss_sum = softmax_xent_forward(pool_, probs_.data(), losses_.data(), logits_.data(), targets, int(N), V);
  counted_targets_ = int(std::count_if(targets, targets + N, [](int32_t t) { return t >= 0; }));
  return counted_targets_ ? float(loss_sum / counted_targets_) : 0.0f;
}

void LlamaLM::backward() {
  check(batch_ > 0, "backward: call forward first");
  check(!compact() || frozen(), "backward: this Llama holds compact matrices (generation, evaluation and LoRA only)");
  if (!frozen()) params_.ensure_grads();  // frozen: input gradients only, for an adapter (no weight gradients)
  if (counted_targets_ == 0) return;
  const int B = batch_, T = steps_, V = config_.vocab_size, C = config_.hidden_size, H = config_.intermediate_size;
  const int QKV = config_.qkv_size(), QD = config_.num_heads * config_.head_size;
  const int64_t N = int64_t(B) * T, NC = N * C;

  grow(dlogits_, N * V);
  softmax_xent_backward(pool_, dlogits_.data(), probs_.data(), targets_.data(), 1.0f / counted_targets_, int(N), V);
  // The head (tied: its weight gradient lands in the embedding's, next to the scatter below).
  grow(dnorm_, NC);
  // Matrices as the forward read them: compact ones (a frozen base under LoRA) converted one layer at a time.
  forward_weights_.release();
  linear_backward(pool_, dnorm_.data(), grad_at(head_offset_), nullptr, dlogits_.data(), final_norm_.data(),
                  weight_at(head_offset_), int(N), C, V, 0.0f);
  forward_weights_.release();
  const float* top = config_.num_layers > 0 ? blocks_.back().output.data() : embedded_.data();
  assign_zeros(pool_, dx_, NC);
  rmsnorm_backward(dx_.data(), grad_at(norm_offset_), dnorm_.data(), top, value_at(norm_offset_), final_stats_, int(N),
                   C);

  for (int layer = config_.num_layers - 1; layer >= 0; --layer) {
    const BlockOffsets& o = block_offsets_[layer];
    BlockActivations& a = blocks_[layer];
    const float* input = layer == 0 ? embedded_.data() : blocks_[layer - 1].output.data();
    // dx_ holds d output; the MLP branch and the identity both feed d middle.
    swiglu_mlp_backward(pool_, dnorm_.data(), mlp_grads(layer), dx_.data(), a.post_norm.data(), a.mlp,
                        mlp_weights(layer), int(N), C, H, 0.0f, mlp_adapters(layer));
    rmsnorm_backward(dx_.data(), grad_at(o.post_norm), dnorm_.data(), a.middle.data(), value_at(o.post_norm),
                     a.post_stats, int(N), C);
    // dx_ holds d middle; the attention branch and the identity both feed d input.
    grow(dattention_, N * QD);
    linear_backward(pool_, dattention_.data(), grad_at(o.o_weight), grad_at(o.o_bias), dx_.data(), a.attention.data(),
                    weight_at(o.o_weight), int(N), QD, C, 0.0f);
    adapter_slot(layer, 3).backward(pool_, dattention_.data(), dx_.data(), C, a.attention.data(), int(N));
    assign_zeros(pool_, dqkv_, N * QKV);
    attention_backward(pool_, dqkv_.data(), dattention_.data(), a.qkv.data(), a.attention_cache, heads(), B, T);
    // Back through the rotation: the gradient of q and k before they turned.
    rotary_rows_backward(dqkv_.data(), QKV, rotary_, config_.num_heads + config_.num_kv_heads, config_.head_size, B,
                         T);
    linear_backward(pool_, dnorm_.data(), grad_at(o.qkv_weight), grad_at(o.qkv_bias), dqkv_.data(), a.input_norm.data(),
                    weight_at(o.qkv_weight), int(N), C, QKV, 0.0f);
    qkv_adapters_backward(dnorm_.data(), dqkv_.data(), a.input_norm.data(), layer, int(N));
    rmsnorm_backward(dx_.data(), grad_at(o.input_norm), dnorm_.data(), input, value_at(o.input_norm), a.input_stats,
                     int(N), C);
    forward_weights_.release();
  }
  // dx_ holds d embedded.
  embedding_backward(pool_, grad_at(embed_offset_), dx_.data(), inputs_.data(), int(N), C);
}

}  // namespace tinylm
