// GptLM: nanoGPT's decoder-only Transformer. Token embedding (V,C) + learned position embedding (T_max,C) →
// dropout → L pre-LayerNorm blocks → final LayerNorm → LM head tied to the token embedding (logits = x·wteᵀ).
// A block: x += dropout(c_proj(attention(c_attn(ln_1(x)))));  x += dropout(mlp(ln_2(x)))  (attention in
// layers/attention.hpp, MLP C → 4C → GELU → C in layers/mlp.hpp). Dropout (training only) also applies to the
// attention probabilities.
//
// Tensor names and layouts are nanoGPT's state_dict, so a checkpoint converts by copying tensors:
//   transformer.wte.weight (V,C) · transformer.wpe.weight (T_max,C)
//   transformer.h.{l}.ln_1.weight (C) [.bias (C)] · .attn.c_attn.weight (3C,C) [.bias (3C)]
//   · .attn.c_proj.weight (C,C) [.bias (C)] · .ln_2.weight (C) [.bias (C)] · .mlp.c_fc.weight (4C,C) [.bias (4C)]
//   · .mlp.c_proj.weight (C,4C) [.bias (C)] · transformer.ln_f.weight (C) [.bias (C)] · lm_head.weight (V,C)
// Bracketed biases exist only with bias=true (nanoGPT's `bias` option covers Linears and LayerNorms alike).
// lm_head.weight IS transformer.wte.weight: it is stored once in the parameter block; saving writes both names
// (as nanoGPT's state_dict has both); loading accepts a file with or without lm_head.weight, and requires it to
// equal wte when present. nanoGPT's causal-mask buffers (transformer.h.{l}.attn.bias, (1,1,T_max,T_max)) are
// ignored when present. Every tensor may be stored F32, F16, or — matrices — I8 with per-row scales
// (model_file.cpp); loading converts all to float.
//
// Generation keeps a KV cache per layer (decoder_cache.hpp): step(token) appends one position and attends over the
// cached ones, O(T_max·C) attention work plus the O(C²) projections per token. When the cache is full the window
// slides: the last T_max/2 tokens continue at positions 0 … T_max/2−1 (learned absolute positions cannot be shifted
// in place) and the new token follows them, their keys and values computed ahead in a shadow cache. Once the window
// has filled, step() sees between T_max/2 + 1 and T_max tokens. prefill(tokens, n) feeds a prompt's tokens in batches
// that leave the cache as their steps would (gpt_prefill.cpp).
#pragma once
#include <memory>
#include <vector>

#include "layers/attention.hpp"
#include "layers/layernorm.hpp"
#include "layers/linear_adapter.hpp"
#include "layers/mlp.hpp"
#include "models/decoder_cache.hpp"
#include "models/decoder_common.hpp"
#include "tensor.hpp"
#include "tinylm/model.hpp"

namespace tinylm {

struct GptConfig {
  int vocab_size = 0;       // V
  int context_size = 128;   // T_max: positions the model attends over
  int embed_size = 128;     // C
  int num_layers = 4;       // L
  int num_heads = 4;        // NH; head size D = C/NH
  bool bias = true;         // Linear and LayerNorm biases (nanoGPT's `bias`)
  float dropout = 0.0f;     // embeddings, attention probabilities, residual branches; training only
  GeluKind gelu = GeluKind::Exact;  // nn.GELU's default (approximate='none'), as nanoGPT uses it

  nlohmann::json to_json() const;  // {"arch":"gpt", …, "gelu":"tanh"|"exact"}
  static GptConfig from_json(const nlohmann::json& json);  // validates; throws Error naming the field
  void validate() const;
};

class GptLM : public TrainableModel {
 public:
  explicit GptLM(const GptConfig& config);  // parameters zeroed: call initialize() or load
  // Deferred: the parameter table only, so a loader can check a file against it before anything is allocated;
  // allocate() once before any other use.
  // residency F16 or Int8: the 2-D weights are held only in that form (compact_matrices.hpp), for a model that
  // generates and evaluates but does not train (forward with training, backward and saving refuse).
  enum class Allocation { Now, Deferred };
  GptLM(const GptConfig& config, Allocation allocation, Residency residency = Residency::Float);
  void allocate(Parameters::Fill fill = Parameters::Fill::Zeros);
  void initialize(Rng& rng);                  // nanoGPT's initialisation
  static std::unique_ptr<GptLM> from_file(const nlohmann::json& config, const SafetensorsFile& file,
                                          Residency residency = Residency::Float);

  const GptConfig& config() const { return config_; }

  // Batch-1 generation reads every weight matrix once per token, so it runs at memory speed. With Half, step()
  // multiplies by a half-precision copy of the matrices (taken at reset_state(): call it after changing the
  // weights), which halves the traffic and keeps C3's 1.6 MB of weights in L2; logits then differ from forward()'s
  // by about 1e-3 relative (the shadow window's keys and values are computed the same way). The default is Half
  // where the hardware converts halves in one instruction, Float elsewhere.
  // Int8 copies (per-row scales) quarter the traffic at ~1e-2 relative. A model with compact residency reads its
  // matrices as it holds them, whatever the precision.
  enum class StepPrecision { Float, Half, Int8 };
  void set_step_precision(StepPrecision precision);
  StepPrecision step_precision() const { return step_precision_; }

  // LanguageModel
  std::string arch() const override { return "gpt"; }
  int vocab_size() const override { return config_.vocab_size; }
  int context_size() const override { return config_.context_size; }
  nlohmann::json config_json() const override { return config_.to_json(); }
  void reset_state() override;
  const float* step(int32_t token) override;
  const float* prefill(const int32_t* tokens, int n) override;  // batched: decoder_cache.hpp, *_prefill.cpp
  void save_state(GenerationState* state) const override { cache_.save_state(state); }
  void load_state(const GenerationState& state) override;
  EvalStats evaluate(const std::vector<int32_t>& tokens) override;
  std::unique_ptr<Evaluation> start_evaluation(std::vector<int32_t> tokens) override;
  std::vector<TensorToWrite> tensors_to_save() const override;

  // TrainableModel. Windows are independent (no carried state); T ≤ context_size.
  Parameters& parameters() override { return params_; }
  float forward(const int32_t* inputs, const int32_t* targets, int B, int T, bool training, Rng* rng) override;
  void backward() override;
  uint64_t forward_bytes(int B, int T) const override;
  void reset_train_state() override {}
  const float* logits() const override { return logits_.data(); }
  // Per layer c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj: adapter index 4·layer + k.
  std::vector<LinearModule> linear_modules() const override;
  void set_linear_adapter(LinearAdapter* adapter) override { adapter_ = adapter; }

  // Attention weights (NH, n) of the last step() in layer `layer`, n = cached_positions(): row h is head h's
  // distribution over the visible window. Read by the docs site's live views.
  const float* last_step_attention(int layer) const;
  int cached_positions() const { return cache_.cached(); }
  // The tokens whose keys and values are cached, oldest first (the window step() currently sees).
  const std::vector<int32_t>& window_tokens() const { return cache_.window_tokens(); }

 private:
  static constexpr size_t kNoTensor = size_t(-1);  // offset of a bias the config leaves out
  struct BlockOffsets {
    size_t ln_1_weight, ln_1_bias, attn_weight, attn_bias, attn_proj_weight, attn_proj_bias;
    size_t ln_2_weight, ln_2_bias, fc_weight, fc_bias, mlp_proj_weight, mlp_proj_bias;
  };
  const float* value_at(size_t offset) const {
    return offset == kNoTensor ? nullptr : params_.values.data() + offset;
  }
  // Null for a tensor the config leaves out, and for every tensor while the model is frozen.
  float* grad_at(size_t offset) {
    return offset == kNoTensor || params_.grads.empty() ? nullptr : params_.grads.data() + offset;
  }
  bool compact() const { return params_.table.holds_compact(); }
  // A 2-D weight for a batched forward or backward (converted from the compact form while a layer needs it), and
  // for a step.
  const float* weight_at(size_t offset) { return forward_weights_.get(pool_, params_, offset, compact()); }
  MatrixView matrix_at(size_t offset, int rows, int cols) const;
  void embedding_row(size_t offset, int64_t row, float* out) const;  // (C) row of wte or wpe
  AdapterSlot adapter_slot(int layer, int linear) const { return {adapter_, 4 * layer + linear}; }
  MlpAdapters mlp_adapters(int layer) const { return {adapter_slot(layer, 2), adapter_slot(layer, 3)}; }
  MlpWeights mlp_weights(int layer);
  MlpGrads mlp_grads(int layer);
  // Generation: runs `token` through every layer in `rows` rows (decoder_cache.hpp), appending its keys and values to
  // the cache and leaving its logits in gen_logits_.
  void advance(int32_t token, int rows);
  // Prefill: runs a batch of n tokens the cache took (DecoderCache::begin_batch) and their shadow rows through every
  // layer, storing their keys and values, and leaves the last token's logits in gen_logits_.
  void advance_rows(const int32_t* tokens, int n);

  GptConfig config_;
  StepPrecision step_precision_;
  Parameters params_;
  LinearAdapter* adapter_ = nullptr;  // terms added beside the block linears (LoRA), or none
  size_t wte_offset_ = 0, wpe_offset_ = 0, ln_f_weight_offset_ = 0, ln_f_bias_offset_ = kNoTensor;
  std::vector<BlockOffsets> block_offsets_;  // (L)

  // Training activations of the last forward (B windows of T tokens, N = B·T rows).
  struct BlockActivations {
    std::vector<float> ln_1;            // (N,C)
    LayerNormCache ln_1_stats;
    std::vector<float> qkv;             // (N,3C)
    std::vector<float> attention;       // (N,C) heads concatenated: c_proj's input
    AttentionCache attention_cache;
    std::vector<float> attention_mask;  // (N,C) residual dropout of the attention branch
    std::vector<float> middle;          // (N,C) residual stream between the two branches
    std::vector<float> ln_2;            // (N,C)
    LayerNormCache ln_2_stats;
    MlpCache mlp;
    std::vector<float> mlp_mask;        // (N,C) residual dropout of the MLP branch
    std::vector<float> output;          // (N,C) residual stream leaving the block
  };
  int batch_ = 0, steps_ = 0;
  bool dropout_active_ = false;
  int counted_targets_ = 0;
  std::vector<int32_t> inputs_, targets_;       // (B,T)
  std::vector<float> embedded_, embed_mask_;    // (N,C) token + position embedding (after dropout), its mask
  std::vector<BlockActivations> blocks_;        // (L)
  std::vector<float> ln_f_;                     // (N,C)
  LayerNormCache ln_f_stats_;
  std::vector<float> logits_, probs_, losses_;  // (N,V), (N,V), (N)
  std::vector<float> branch_;                   // (N,C) forward scratch: a branch's output before the residual add
  std::vector<float> dlogits_, dx_, dln_, dbranch_, dattention_, dqkv_;  // backward scratch
  ForwardWeights forward_weights_;  // compact residency: the floats of the matrices the forward is using

  // Generation state (one sequence): the KV cache, (L, NH, T_max, D), and the matrices a step reads, per layer
  // c_attn, attn.c_proj, c_fc, mlp.c_proj, then wte (the head): 4L + 1.
  DecoderCache cache_;
  StepMatrices step_matrices_;
  // Rows of one step: row 0 the visible window, row 1 the shadow window. A prefill batch grows them (never shrinks) to
  // its rows: up to 2·kPrefillBatch.
  std::vector<float> gen_x_, gen_ln_, gen_qkv_, gen_attention_, gen_branch_;  // (2, C or 3C)
  std::vector<float> gen_embedding_;  // (2, C) a token's and a position's embedding row
  LayerNormCache gen_stats_;
  std::vector<float> gen_hidden_;  // (2, 4C) the MLP's hidden layer, GELU in place
  std::vector<float> gen_probs_;   // (L, NH, T_max): the last position's attention weights, (NH, n) per layer
  std::vector<float> shadow_probs_;  // (NH, T_max) the shadow row's attention weights, not kept
  std::vector<float> gen_logits_;  // (V)
};

}  // namespace tinylm
