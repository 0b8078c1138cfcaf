// GptLM: parameter table, initialisation, file I/O, and the training forward/backward (the config is in
// gpt_config.cpp, generation and evaluation in gpt_generate.cpp). The model's backward is its forward read bottom-up.
#include "models/gpt.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "io/safetensors.hpp"
#include "parallel/parallel_kernels.hpp"
#include "layers/linear.hpp"
#include "memory_limits.hpp"
#include "models/model_common.hpp"
#include "tinylm/error.hpp"
#include "tinylm/rng.hpp"

namespace tinylm {

namespace {

// out (n) = in + branch, or in + branch⊙mask with a fresh dropout mask (0 or 1/(1−p)) when mask is not null. The
// mask is drawn on the calling thread, in order; without one, the sum splits over the pool.
void residual_add(ThreadPool* pool, float* out, float* mask, const float* in, const float* branch, int64_t n,
                  float dropout, Rng* rng) {
  if (!mask) {
    parallel_elementwise(pool, n, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) out[i] = in[i] + branch[i];
    });
    return;
  }
  const float keep_scale = 1.0f / (1.0f - dropout);
  for (int64_t i = 0; i < n; ++i) {
    mask[i] = rng->uniform() < dropout ? 0.0f : keep_scale;
    out[i] = in[i] + branch[i] * mask[i];
  }
}

// The gradient reaching a residual branch: dx itself, or dx⊙mask (written to scratch) under dropout.
const float* branch_gradient(ThreadPool* pool, std::vector<float>& scratch, const float* dx, const float* mask,
                             int64_t n) {
  if (!mask) return dx;
  parallel_elementwise(pool, n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) scratch[i] = dx[i] * mask[i];
  });
  return scratch.data();
}

}  // namespace

// ---- parameters -----------------------------------------------------------------------------------------

GptLM::GptLM(const GptConfig& config) : GptLM(config, Allocation::Now) {}

GptLM::GptLM(const GptConfig& config, Allocation allocation, Residency residency)
    : config_(config), step_precision_(half_weights_are_fast() ? StepPrecision::Half : StepPrecision::Float) {
  config_.validate();
  const int V = config_.vocab_size, C = config_.embed_size, T_max = config_.context_size;
  ParameterTable& table = params_.table;
  if (residency != Residency::Float) table.hold_matrices(compact_kind_of(residency));
  // AdamW decays matrices only (nanoGPT's configure_optimizers: every tensor with dim ≥ 2).
  auto bias_tensor = [&](const std::string& name, int64_t size) {
    return config_.bias ? table.add(name, {size}, false) : kNoTensor;
  };
  wte_offset_ = table.add("transformer.wte.weight", {V, C}, true);
  wpe_offset_ = table.add("transformer.wpe.weight", {T_max, C}, true);
  for (int layer = 0; layer < config_.num_layers; ++layer) {
    const std::string prefix = "transformer.h." + std::to_string(layer) + ".";
    BlockOffsets o;
    o.ln_1_weight = table.add(prefix + "ln_1.weight", {C}, false);
    o.ln_1_bias = bias_tensor(prefix + "ln_1.bias", C);
    o.attn_weight = table.add(prefix + "attn.c_attn.weight", {3 * C, C}, true);
    o.attn_bias = bias_tensor(prefix + "attn.c_attn.bias", 3 * C);
    o.attn_proj_weight = table.add(prefix + "attn.c_proj.weight", {C, C}, true);
    o.attn_proj_bias = bias_tensor(prefix + "attn.c_proj.bias", C);
    o.ln_2_weight = table.add(prefix + "ln_2.weight", {C}, false);
    o.ln_2_bias = bias_tensor(prefix + "ln_2.bias", C);
    o.fc_weight = table.add(prefix + "mlp.c_fc.weight", {4 * C, C}, true);
    o.fc_bias = bias_tensor(prefix + "mlp.c_fc.bias", 4 * C);
    o.mlp_proj_weight = table.add(prefix + "mlp.c_proj.weight", {C, 4 * C}, true);
    o.mlp_proj_bias = bias_tensor(prefix + "mlp.c_proj.bias", C);
    block_offsets_.push_back(o);
  }
  ln_f_weight_offset_ = table.add("transformer.ln_f.weight", {C}, false);
  ln_f_bias_offset_ = bias_tensor("transformer.ln_f.bias", C);
  // Float weights and step()'s half copy of them (4 + 2 bytes each; gradients come with training, which counts
  // them), compact matrices as held, the four KV caches (L, T_max, C) and the attention rows (L, NH, T_max)
  // generation keeps.
  const uint64_t cache_floats = saturating_product(config_.num_layers, T_max, 4 * int64_t(C) + config_.num_heads);
  const uint64_t resident = saturating_add(saturating_add(saturating_mul(table.size(), 6), table.compact_bytes()),
                                           saturating_mul(cache_floats, 4));
  check_memory(resident, memory_cap(), LimitKind::ModelTooLarge, "this GPT (with its KV cache)",
               "use fewer layers, a smaller embed_size or a shorter context_size");
  if (allocation == Allocation::Now) allocate();
}

void GptLM::allocate(Parameters::Fill fill) {
  params_.allocate(fill);
  blocks_.resize(config_.num_layers);
  // Generation buffers and half copies wait for reset_state() or the first step(): the weights are still zero.
}

void GptLM::initialize(Rng& rng) {
  // nanoGPT: Linear and Embedding weights N(0, 0.02); residual projections (c_proj) N(0, 0.02/√(2L)) so the
  // residual stream's variance does not grow with depth; biases 0; LayerNorm weights 1.
  const float residual_std = 0.02f / std::sqrt(2.0f * config_.num_layers);
  auto ends_with = [](const std::string& name, const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  std::vector<float> drawn;  // a compact matrix's values before they are stored
  for (const TensorSpec& spec : params_.table.tensors()) {
    const int64_t count = shape_numel(spec.shape);
    if (spec.compact) drawn.resize(size_t(count));
    float* values = spec.compact ? drawn.data() : params_.values.data() + spec.offset;
    if (spec.shape.size() == 1) {
      const bool norm_weight = ends_with(spec.name, ".weight");  // 1-D weights are LayerNorm gains
      std::fill(values, values + count, norm_weight ? 1.0f : 0.0f);
    } else {
      const float std_dev = ends_with(spec.name, "c_proj.weight") ? residual_std : 0.02f;
      for (int64_t i = 0; i < count; ++i) values[i] = std_dev * rng.normal();
    }
    if (spec.compact) store_parameter(params_, spec, values);
  }
  reset_state();  // generation starts from the new weights
}

std::unique_ptr<GptLM> GptLM::from_file(const nlohmann::json& config_json, const SafetensorsFile& file,
                                        Residency residency) {
  std::unique_ptr<GptLM> model(new GptLM(GptConfig::from_json(config_json), Allocation::Deferred, residency));
  const GptConfig& config = model->config_;
  Parameters& params = model->params_;
  // Every tensor is checked against the config before the model allocates for it.
  std::set<std::string> known;
  for (const TensorSpec& spec : params.table.tensors()) {
    const SafetensorsEntry* entry = file.find(spec.name);
    check(entry != nullptr, "model file is missing tensor '", spec.name, "' (expected shape ",
          shape_string(spec.shape), ")",
          config.bias ? "; a nanoGPT model trained with bias=False needs \"bias\": false in the config" : "");
    check_stored_tensor(file, *entry, spec.shape, &known);
  }
  const SafetensorsEntry* head_entry = file.find("lm_head.weight");
  if (head_entry != nullptr) check_stored_tensor(file, *head_entry, {config.vocab_size, config.embed_size}, &known);
  const Shape mask_shape = {1, 1, config.context_size, config.context_size};
  for (const SafetensorsEntry& entry : file.tensors) {
    // nanoGPT's causal-mask buffers: constants, not weights.
    const bool mask_buffer = entry.name.size() > 10 && entry.name.compare(0, 14, "transformer.h.") == 0 &&
                             entry.name.compare(entry.name.size() - 10, 10, ".attn.bias") == 0;
    if (mask_buffer && entry.shape == mask_shape) known.insert(entry.name);
    check(known.count(entry.name) > 0, "model file has tensor '", entry.name, "' that this GPT config does not use",
          config.bias ? "" : " (the config says \"bias\": false; is the file from a model with biases?)");
  }

  model->allocate(Parameters::Fill::Appended);
  read_parameters(params, file);
  if (head_entry != nullptr) {
    // Stored like wte (an int8 file quantises both with the same per-row rule), so the two read back equal.
    const std::vector<float> head = read_tensor_as_float(file, *head_entry);
    const std::vector<float> wte = read_tensor_as_float(file, *file.find("transformer.wte.weight"));
    check(head == wte,
          "tensor 'lm_head.weight' differs from 'transformer.wte.weight': tinylm's GPT ties the LM head to the "
          "token embedding (as nanoGPT does), so it cannot load an untied head");
  }
  model->reset_state();  // generation starts from the loaded weights
  return model;
}

std::vector<TensorToWrite> GptLM::tensors_to_save() const {
  std::vector<TensorToWrite> tensors = parameters_to_write(params_);
  // nanoGPT's state_dict lists the tied head under its own name, last.
  tensors.push_back({"lm_head.weight", {config_.vocab_size, config_.embed_size}, value_at(wte_offset_), DType::F32});
  return tensors;
}

MlpWeights GptLM::mlp_weights(int layer) {
  const BlockOffsets& o = block_offsets_[layer];
  return {weight_at(o.fc_weight), value_at(o.fc_bias), weight_at(o.mlp_proj_weight), value_at(o.mlp_proj_bias)};
}

MatrixView GptLM::matrix_at(size_t offset, int rows, int cols) const {
  if (compact()) return params_.compact.view(offset);
  MatrixView view;
  view.f32 = value_at(offset);
  view.rows = rows;
  view.cols = cols;
  return view;
}

void GptLM::embedding_row(size_t offset, int64_t row, float* out) const {
  const int C = config_.embed_size;
  if (compact()) params_.compact.row(offset, int(row), out);
  else std::memcpy(out, value_at(offset) + row * C, sizeof(float) * C);
}

std::vector<LinearModule> GptLM::linear_modules() const {
  const int C = config_.embed_size;
  std::vector<LinearModule> modules;
  for (int layer = 0; layer < config_.num_layers; ++layer) {
    const std::string prefix = "transformer.h." + std::to_string(layer) + ".";
    modules.push_back({prefix + "attn.c_attn", C, 3 * C});
    modules.push_back({prefix + "attn.c_proj", C, C});
    modules.push_back({prefix + "mlp.c_fc", C, 4 * C});
    modules.push_back({prefix + "mlp.c_proj", 4 * C, C});
  }
  return modules;
}

MlpGrads GptLM::mlp_grads(int layer) {
  const BlockOffsets& o = block_offsets_[layer];
  return {grad_at(o.fc_weight), grad_at(o.fc_bias), grad_at(o.mlp_proj_weight), grad_at(o.mlp_proj_bias)};
}

// ---- training forward / backward ------------------------------------------------------------------------

uint64_t GptLM::forward_bytes(int B, int T) const {
  const uint64_t V = config_.vocab_size, C = config_.embed_size, L = config_.num_layers, NH = config_.num_heads;
  const uint64_t N = saturating_product(B, T);
  // Per row of each block: ln_1, qkv (3C), attention, its dropout mask, middle, ln_2, the MLP's three (4C)
  // buffers, its mask, output, and the norms' statistics (22·C + 4). Per row above the blocks: the embedding and
  // its mask, ln_f, six gradients (C, C, C, C, 3C … 8·C), logits, probabilities and their gradient, losses, ids.
  const uint64_t rows = saturating_add(saturating_mul(L, 22 * C + 4), 11 * C + 3 * V + 3);
  // Attention probabilities, their dropout mask and dropped copy, (B, NH, T, T) per block, and one (T, T) scratch.
  const uint64_t attention = saturating_add(saturating_product(3, L, B, NH, T, T), saturating_product(T, T));
  return saturating_mul(saturating_add(saturating_mul(N, rows), attention), sizeof(float));
}

float GptLM::forward(const int32_t* inputs, const int32_t* targets, int B, int T, bool training, Rng* rng) {
  check(B > 0 && T > 0, "forward: batch and sequence length must be positive, got B=", B, " T=", T);
  check(T <= config_.context_size, "forward: sequence length ", T, " exceeds the model's context_size ",
        config_.context_size);
  check_memory(forward_bytes(B, T), memory_cap(), LimitKind::OutOfMemory,
               "a forward pass over " + std::to_string(B) + " × " + std::to_string(T) + " tokens",
               "use a smaller batch or sequence length");
  check(!(training && compact() && !frozen()), "this GPT holds its matrices as ",
        compact_kind_name(params_.compact.kind()),
        " for generation, evaluation and LoRA adapters only: load it with float weights to train it");
  const int V = config_.vocab_size, C = config_.embed_size, NH = config_.num_heads;
  const int64_t N = int64_t(B) * T, NC = N * C;
  check_token_ids(inputs, N, V, "input");
  check_token_ids(targets, N, V, "target");
  batch_ = B;
  steps_ = T;
  dropout_active_ = training && config_.dropout > 0.0f;
  check(!dropout_active_ || rng != nullptr, "forward: dropout needs a random number generator");
  const float dropout = dropout_active_ ? config_.dropout : 0.0f;
  inputs_.assign(inputs, inputs + N);
  targets_.assign(targets, targets + N);

  // Token + position embeddings.
  grow(embedded_, NC);
  // The N token rows looked up (from compact matrices one row at a time: the whole (V, C) table is not converted).
  const float* wpe = weight_at(wpe_offset_);
  parallel_rows(pool_, N, C, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      float* out = embedded_.data() + row * C;
      embedding_row(wte_offset_, inputs[row], out);
      const float* position = wpe + (row % T) * C;
      for (int c = 0; c < C; ++c) out[c] += position[c];
    }
  });
  if (dropout_active_) {  // drawn on the calling thread, in order
    grow(embed_mask_, NC);
    const float keep_scale = 1.0f / (1.0f - dropout);
    for (int64_t i = 0; i < NC; ++i) {
      embed_mask_[i] = rng->uniform() < dropout ? 0.0f : keep_scale;
      embedded_[i] *= embed_mask_[i];
    }
  }

  forward_weights_.release();
  grow(branch_, NC);
  const float* x = embedded_.data();
  for (int layer = 0; layer < config_.num_layers; ++layer) {
    const BlockOffsets& o = block_offsets_[layer];
    BlockActivations& a = blocks_[layer];
    for (auto* buffer : {&a.ln_1, &a.attention, &a.middle, &a.ln_2, &a.output}) grow(*buffer, NC);
    grow(a.qkv, 3 * NC);
    if (dropout_active_) {
      grow(a.attention_mask, NC);
      grow(a.mlp_mask, NC);
    }
    layernorm_forward(pool_, a.ln_1.data(), a.ln_1_stats, x, value_at(o.ln_1_weight), value_at(o.ln_1_bias), N, C);
    linear_forward(pool_, a.qkv.data(), a.ln_1.data(), weight_at(o.attn_weight), value_at(o.attn_bias), N, C, 3 * C);
    adapter_slot(layer, 0).forward(pool_, a.qkv.data(), 3 * C, a.ln_1.data(), int(N));
    attention_forward(pool_, a.attention.data(), a.attention_cache, a.qkv.data(), dropout, rng, B, T, C, NH);
    linear_forward(pool_, branch_.data(), a.attention.data(), weight_at(o.attn_proj_weight),
                   value_at(o.attn_proj_bias), N, C, C);
    adapter_slot(layer, 1).forward(pool_, branch_.data(), C, a.attention.data(), int(N));
    residual_add(pool_, a.middle.data(), dropout_active_ ? a.attention_mask.data() : nullptr, x, branch_.data(), NC,
                 dropout, rng);
    layernorm_forward(pool_, a.ln_2.data(), a.ln_2_stats, a.middle.data(), value_at(o.ln_2_weight),
                      value_at(o.ln_2_bias), N, C);
    mlp_forward(pool_, branch_.data(), a.mlp, a.ln_2.data(), mlp_weights(layer), config_.gelu, N, C,
                mlp_adapters(layer));
    residual_add(pool_, a.output.data(), dropout_active_ ? a.mlp_mask.data() : nullptr, a.middle.data(),
                 branch_.data(), NC, dropout, rng);
    x = a.output.data();
    forward_weights_.release();
  }

  grow(ln_f_, NC);
  layernorm_forward(pool_, ln_f_.data(), ln_f_stats_, x, value_at(ln_f_weight_offset_), value_at(ln_f_bias_offset_), N,
                    C);
  grow(logits_, N * V);
  grow(probs_, N * V);
  grow(losses_, N);
  linear_forward(pool_, logits_.data(), ln_f_.data(), weight_at(wte_offset_), nullptr, N, C, V);  // the tied LM head
  forward_weights_.release();
  const double loss_sum = softmax_xent_forward(pool_, probs_.data(), losses_.data(), logits_.data(), targets, N, V);
  counted_targets_ = static_cast<int>(std::count_if(targets, targets + N, [](int32_t t) { return t >= 0; }));
  return counted_targets_ ? static_cast<float>(loss_sum / counted_targets_) : 0.0f;
}

void GptLM::backward() {
  check(batch_ > 0, "backward: call forward first");
  check(!compact() || frozen(), "backward: this GPT holds compact matrices (generation, evaluation and LoRA only)");
  if (!frozen()) params_.ensure_grads();  // frozen: input gradients only, for an adapter (no weight gradients)
  if (counted_targets_ == 0) return;
  const int B = batch_, T = steps_, V = config_.vocab_size, C = config_.embed_size, NH = config_.num_heads;
  const int64_t N = int64_t(B) * T, NC = N * C;
  // Matrices as the forward read them: compact ones (a frozen base under LoRA) converted one layer at a time.
  forward_weights_.release();
  const float* wte = weight_at(wte_offset_);

  grow(dlogits_, N * V);
  softmax_xent_backward(pool_, dlogits_.data(), probs_.data(), targets_.data(), 1.0f / counted_targets_, N, V);
  // Tied head: its weight gradient lands in wte's, next to the embedding's scatter below.
  grow(dln_, NC);
  linear_backward(pool_, dln_.data(), grad_at(wte_offset_), nullptr, dlogits_.data(), ln_f_.data(), wte, N, C, V,
                  0.0f);
  forward_weights_.release();
  const float* top = config_.num_layers > 0 ? blocks_.back().output.data() : embedded_.data();
  assign_zeros(pool_, dx_, NC);
  layernorm_backward(pool_, dx_.data(), grad_at(ln_f_weight_offset_), grad_at(ln_f_bias_offset_), dln_.data(), top,
                     value_at(ln_f_weight_offset_), ln_f_stats_, N, C);

  grow(dbranch_, NC);
  for (int layer = config_.num_layers - 1; layer >= 0; --layer) {
    const BlockOffsets& o = block_offsets_[layer];
    BlockActivations& a = blocks_[layer];
    const float* input = layer == 0 ? embedded_.data() : blocks_[layer - 1].output.data();
    // dx_ holds d output; the MLP branch and the identity both feed d middle.
    const float* dmlp =
        branch_gradient(pool_, dbranch_, dx_.data(), dropout_active_ ? a.mlp_mask.data() : nullptr, NC);
    mlp_backward(pool_, dln_.data(), mlp_grads(layer), dmlp, a.ln_2.data(), a.mlp, mlp_weights(layer), config_.gelu,
                 N, C, 0.0f, mlp_adapters(layer));
    layernorm_backward(pool_, dx_.data(), grad_at(o.ln_2_weight), grad_at(o.ln_2_bias), dln_.data(), a.middle.data(),
                       value_at(o.ln_2_weight), a.ln_2_stats, N, C);
    // dx_ holds d middle; the attention branch and the identity both feed d input.
    const float* dproj =
        branch_gradient(pool_, dbranch_, dx_.data(), dropout_active_ ? a.attention_mask.data() : nullptr, NC);
    grow(dattention_, NC);
    linear_backward(pool_, dattention_.data(), grad_at(o.attn_proj_weight), grad_at(o.attn_proj_bias), dproj,
                    a.attention.data(), weight_at(o.attn_proj_weight), N, C, C, 0.0f);
    adapter_slot(layer, 1).backward(pool_, dattention_.data(), dproj, C, a.attention.data(), int(N));
    assign_zeros(pool_, dqkv_, 3 * NC);
    attention_backward(pool_, dqkv_.data(), dattention_.data(), a.qkv.data(), a.attention_cache, B, T, C, NH);
    linear_backward(pool_, dln_.data(), grad_at(o.attn_weight), grad_at(o.attn_bias), dqkv_.data(), a.ln_1.data(),
                    weight_at(o.attn_weight), N, C, 3 * C, 0.0f);
    adapter_slot(layer, 0).backward(pool_, dln_.data(), dqkv_.data(), 3 * C, a.ln_1.data(), int(N));
    layernorm_backward(pool_, dx_.data(), grad_at(o.ln_1_weight), grad_at(o.ln_1_bias), dln_.data(), input,
                       value_at(o.ln_1_weight), a.ln_1_stats, N, C);
    forward_weights_.release();
  }

  // dx_ holds d embedded: through the embedding dropout, into the token and position tables.
  if (dropout_active_) {
    parallel_elementwise(pool_, NC, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) dx_[i] *= embed_mask_[i];
    });
  }
  embedding_backward(pool_, grad_at(wte_offset_), dx_.data(), inputs_.data(), N, C);
  // Positions: row n adds into wpe's row n mod T, in row order like the tokens' scatter.
  float* dwpe = grad_at(wpe_offset_);
  if (dwpe) {
    parallel_columns(pool_, N, C, [&](int64_t begin, int64_t end) {
      for (int64_t row = 0; row < N; ++row)
        axpy(dwpe + (row % T) * C + begin, 1.0f, dx_.data() + row * C + begin, end - begin);
    });
  }
}

}  // namespace tinylm
