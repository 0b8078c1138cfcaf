// LlamaLM: the Llama family's decoder (Hugging Face's LlamaForCausalLM: Llama 2, SmolLM/SmolLM2, TinyLlama, the
// TinyStories Llamas). Token embedding (V,C) → L pre-norm blocks → final RMSNorm → LM head, tied to the embedding or
// a matrix of its own. No learned positions: queries and keys are rotated by their position (layers/rotary.hpp).
// A block:  x += o_proj(attention(rotary(q_proj, k_proj, v_proj of input_layernorm(x))))
//           x += down_proj(silu(gate_proj(h)) ⊙ up_proj(h)),  h = post_attention_layernorm(x)
// with RMSNorm (layers/rmsnorm.hpp), grouped-query attention (NH query heads sharing KVH key/value heads,
// layers/attention.hpp) and the SwiGLU MLP (layers/swiglu_mlp.hpp).
//
// Tensor names and layouts are Hugging Face's, so a checkpoint loads by copying tensors (io/hf_checkpoint.hpp):
//   model.embed_tokens.weight (V,C)
//   model.layers.{l}.input_layernorm.weight (C)
//   · .self_attn.q_proj.weight (NH·D, C) · .k_proj.weight (KVH·D, C) · .v_proj.weight (KVH·D, C)
//     [· .q_proj.bias (NH·D) · .k_proj.bias (KVH·D) · .v_proj.bias (KVH·D)]  · .o_proj.weight (C, NH·D) [.bias (C)]
//   · .post_attention_layernorm.weight (C)
//   · .mlp.gate_proj.weight (H,C) · .up_proj.weight (H,C) [· .gate_proj.bias (H) · .up_proj.bias (H)]
//     · .down_proj.weight (C,H) [.bias (C)]
//   model.norm.weight (C) · lm_head.weight (V,C) — only when the head is not tied
// Brackets: attention_bias / mlp_bias. In the parameter block q, k and v (and gate and up) follow one another, so
// each group is one matrix — qkv (NH·D + 2·KVH·D, C), gate_up (2H, C) — and one GEMM.
//
// Generation keeps a KV cache of the rotated keys and the values per layer (decoder_cache.hpp): (L, KVH, T_max, D),
// KVH/NH of what multi-head attention would cache. At the context limit the window slides as GPT's does: the last
// T_max/2 tokens continue at positions 0 … T_max/2−1 with keys and values computed without the dropped tokens (the
// shadow cache computes them ahead), so every step equals a batched forward over the window it sees. Rotary positions
// would allow sliding the cached keys instead (re-rotating them by −T_max/2), but those keys were computed with the
// dropped tokens in view: no batched forward over the kept window would reproduce them.
#pragma once
#include <memory>
#include <vector>

#include "layers/attention.hpp"
#include "layers/linear_adapter.hpp"
#include "layers/rmsnorm.hpp"
#include "layers/rotary.hpp"
#include "layers/swiglu_mlp.hpp"
#include "models/decoder_cache.hpp"
#include "models/decoder_common.hpp"
#include "tensor.hpp"
#include "tinylm/model.hpp"

namespace tinylm {

struct LlamaConfig {
  int vocab_size = 0;            // V
  int context_size = 2048;       // T_max: positions attended over (≤ Hugging Face's max_position_embeddings)
  int hidden_size = 576;         // C
  int intermediate_size = 1536;  // H: the MLP's hidden width
  int num_layers = 30;           // L
  int num_heads = 9;             // NH
  int num_kv_heads = 3;          // KVH; NH must be a multiple of it
  int head_size = 64;            // D, even (Hugging Face's head_dim: hidden_size / num_heads unless set)
  float rms_norm_eps = 1e-5f;
  RopeConfig rope;
  bool tie_embeddings = true;    // the LM head is model.embed_tokens.weight
  bool attention_bias = false;   // q/k/v/o_proj biases
  bool mlp_bias = false;         // gate/up/down_proj biases
  float attention_dropout = 0.0f;  // on the attention probabilities, training only

  nlohmann::json to_json() const;  // {"arch":"llama", …}
  static LlamaConfig from_json(const nlohmann::json& json);  // validates; throws Error naming the field
  void validate() const;
  int qkv_size() const { return (num_heads + 2 * num_kv_heads) * head_size; }  // a row of the fused q, k, v
};

class LlamaLM : public TrainableModel {
 public:
  explicit LlamaLM(const LlamaConfig& config);  // parameters zeroed: call initialize() or load
  // Deferred: the parameter table only, so a loader can check a file against it before anything is allocated;
  // allocate() once before any other use.
  // residency F16 or Int8: the 2-D weights are held only in that form (compact_matrices.hpp), for a model that
  // generates and evaluates but does not train (forward with training, backward and saving refuse).
  enum class Allocation { Now, Deferred };
  LlamaLM(const LlamaConfig& config, Allocation allocation, Residency residency = Residency::Float);
  void allocate(Parameters::Fill fill = Parameters::Fill::Zeros);
  void initialize(Rng& rng);                      // Hugging Face's: N(0, 0.02) matrices, unit RMSNorm gains
  // From a tinylm model file (the config and tensors as model_file.cpp stores them).
  static std::unique_ptr<LlamaLM> from_file(const nlohmann::json& config, const SafetensorsFile& file,
                                            Residency residency = Residency::Float);

  const LlamaConfig& config() const { return config_; }

  // As GptLM's: step() multiplies by float weights or by half-precision copies taken at reset_state().
  enum class StepPrecision { Float, Half, Int8 };
  void set_step_precision(StepPrecision precision);
  StepPrecision step_precision() const { return step_precision_; }

  // LanguageModel
  std::string arch() const override { return "llama"; }
  int vocab_size() const override { return config_.vocab_size; }
  int context_size() const override { return config_.context_size; }
  nlohmann::json config_json() const override { return config_.to_json(); }
  void reset_state() override;
  const float* step(int32_t token) override;
  const float* prefill(const int32_t* tokens, int n) override;  // batched: decoder_cache.hpp, *_prefill.cpp
  void save_state(GenerationState* state) const override { cache_.save_state(state); }
  void load_state(const GenerationState& state) override;
  EvalStats evaluate(const std::vector<int32_t>& tokens) override;
  std::unique_ptr<Evaluation> start_evaluation(std::vector<int32_t> tokens) override;  // decoder_common.hpp
  std::vector<TensorToWrite> tensors_to_save() const override;

  // TrainableModel. Windows are independent (no carried state); T ≤ context_size.
  Parameters& parameters() override { return params_; }
  float forward(const int32_t* inputs, const int32_t* targets, int B, int T, bool training, Rng* rng) override;
  void backward() override;
  uint64_t forward_bytes(int B, int T) const override;
  void reset_train_state() override {}
  const float* logits() const override { return logits_.data(); }
  // Per layer q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj: adapter index 7·layer + k.
  std::vector<LinearModule> linear_modules() const override;
  void set_linear_adapter(LinearAdapter* adapter) override { adapter_ = adapter; }

  // Attention weights (NH, n) of the last step() in `layer`, n = cached_positions().
  const float* last_step_attention(int layer) const;
  int cached_positions() const { return cache_.cached(); }
  const std::vector<int32_t>& window_tokens() const { return cache_.window_tokens(); }

 private:
  static constexpr size_t kNoTensor = size_t(-1);  // offset of a bias the config leaves out
  struct BlockOffsets {
    size_t input_norm, qkv_weight, qkv_bias, o_weight, o_bias, post_norm, gate_up_weight, gate_up_bias, down_weight,
        down_bias;
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
  AdapterSlot adapter_slot(int layer, int linear) const { return {adapter_, 7 * layer + linear}; }
  SwigluAdapters mlp_adapters(int layer) const {
    return {adapter_slot(layer, 4), adapter_slot(layer, 5), adapter_slot(layer, 6)};
  }
  // q, k and v_proj's terms, into their column ranges of a (N, QKV) row block (and back).
  void qkv_adapters_forward(float* qkv, const float* in, int layer, int N) const;
  void qkv_adapters_backward(float* din, const float* dqkv, const float* in, int layer, int N) const;
  SwigluWeights mlp_weights(int layer);
  SwigluGrads mlp_grads(int layer);
  AttentionHeads heads() const { return {config_.num_heads, config_.num_kv_heads, config_.head_size}; }
  // Generation: runs `token` through every layer in `rows` rows (decoder_cache.hpp), leaving its logits in gen_logits_.
  void advance(int32_t token, int rows);
  // Prefill: runs a batch of n tokens the cache took (DecoderCache::begin_batch) and their shadow rows through every
  // layer, storing their keys and values, and leaves the last token's logits in gen_logits_.
  void advance_rows(const int32_t* tokens, int n);

  LlamaConfig config_;
  StepPrecision step_precision_;
  Parameters params_;
  LinearAdapter* adapter_ = nullptr;  // terms added beside the block linears (LoRA), or none
  size_t embed_offset_ = 0, norm_offset_ = 0, head_offset_ = 0;  // head_offset_ = embed_offset_ when tied
  std::vector<BlockOffsets> block_offsets_;  // (L)
  RotaryTable rotary_;                       // (T_max, D/2) cos and sin

  // Training activations of the last forward (B windows of T tokens, N = B·T rows; QKV = qkv_size()).
  struct BlockActivations {
    std::vector<float> input_norm;  // (N,C)
    RmsNormCache input_stats;
    std::vector<float> qkv;         // (N,QKV) q and k rotated: what attention read
    std::vector<float> attention;   // (N,NH·D) heads concatenated: o_proj's input
    AttentionCache attention_cache;
    std::vector<float> middle;      // (N,C) residual stream between the two branches
    std::vector<float> post_norm;   // (N,C)
    RmsNormCache post_stats;
    SwigluCache mlp;
    std::vector<float> output;      // (N,C) residual stream leaving the block
  };
  int batch_ = 0, steps_ = 0, counted_targets_ = 0;
  std::vector<int32_t> inputs_, targets_;       // (B,T)
  std::vector<float> embedded_;                 // (N,C)
  std::vector<BlockActivations> blocks_;        // (L)
  std::vector<float> final_norm_;               // (N,C)
  RmsNormCache final_stats_;
  std::vector<float> logits_, probs_, losses_;  // (N,V), (N,V), (N)
  std::vector<float> branch_;                   // (N,C) forward scratch: a branch's output before the residual add
  std::vector<float> dlogits_, dx_, dnorm_, dattention_, dqkv_;  // backward scratch
  ForwardWeights forward_weights_;  // compact residency: the floats of the matrices the forward is using

  // Generation state (one sequence): the KV cache and the matrices a step reads, per layer qkv, o_proj, gate_up,
  // down_proj, then the head: 4L + 1. Rows of one step: row 0 the visible window, row 1 the shadow;
  // a prefill batch grows the buffers (never shrinks) to its rows, up to 2·kPrefillBatch.
  DecoderCache cache_;
  StepMatrices step_matrices_;
  std::vector<float> gen_x_, gen_norm_, gen_qkv_, gen_attention_, gen_branch_;  // (2, C or QKV or NH·D)
  RmsNormCache gen_stats_;
  std::vector<float> gen_gate_up_, gen_hidden_;  // (2, 2H), (2, H)
  std::vector<float> gen_probs_;     // (L, NH, T_max): the last position's attention weights, (NH, n) per layer
  std::vector<float> shadow_probs_;  // (NH, T_max) the shadow row's, not kept
  std::vector<float> gen_logits_;    // (V)
};

}  // namespace tinylm
