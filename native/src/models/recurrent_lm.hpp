// RecurrentLM: Embedding(V,E) → L stacked recurrent layers (RNN tanh/ReLU, LSTM or GRU; hidden H) → dropout →
// Linear(H,V). Tensor names and layouts are PyTorch's for a module with fields `embed` (nn.Embedding), `rnn`
// (nn.RNN/nn.LSTM/nn.GRU, batch_first irrelevant to the weights) and `head` (nn.Linear), so a state_dict converts
// by copying tensors:
//   embed.weight (V,E) · rnn.weight_ih_l{l} (G·H, I_l) · rnn.weight_hh_l{l} (G·H, H) · rnn.bias_ih_l{l} (G·H)
//   · rnn.bias_hh_l{l} (G·H) · head.weight (V,H) · head.bias (V)        with G = 1 (RNN), 4 (LSTM), 3 (GRU)
// Dropout (training only) follows every recurrent layer, as nn.LSTM's `dropout` between layers plus one before
// the head.
#pragma once
#include <memory>
#include <vector>

#include "layers/recurrent.hpp"
#include "tensor.hpp"
#include "tinylm/model.hpp"

namespace tinylm {

struct RecurrentConfig {
  CellKind cell = CellKind::Lstm;
  int vocab_size = 0;    // V
  int embed_size = 64;   // E
  int hidden_size = 256; // H
  int num_layers = 2;    // L
  float dropout = 0.0f;

  nlohmann::json to_json() const;
  static RecurrentConfig from_json(const nlohmann::json& json);  // validates; throws Error naming the field
  void validate() const;
};

class RecurrentLM : public TrainableModel {
 public:
  explicit RecurrentLM(const RecurrentConfig& config);  // parameters zeroed: call initialize() or load
  void initialize(Rng& rng);                              // PyTorch's default initialisation
  static std::unique_ptr<RecurrentLM> from_file(const nlohmann::json& config, const SafetensorsFile& file);

  const RecurrentConfig& config() const { return config_; }

  // Batch-1 generation reads every weight once per token, so it runs at memory speed. With Half, step() reads a
  // half-precision copy of the matrices (taken at reset_state(): call it after changing the weights), which halves
  // the traffic and lets a small model live in L2; logits then differ from forward()'s by about 1e-3 relative.
  // With Int8, step() reads an int8 copy with per-row scales (quantize_rows_int8): a quarter of the traffic, and
  // on a model loaded from an int8 file exactly the stored weights, so step() and forward() then agree to float
  // rounding. The default is Int8 for a model loaded from an int8 file; otherwise Half where the hardware
  // converts halves in one instruction, Float elsewhere.
  enum class StepPrecision { Float, Half, Int8 };
  void set_step_precision(StepPrecision precision);
  StepPrecision step_precision() const { return step_precision_; }

  // LanguageModel
  std::string arch() const override { return cell_kind_name(config_.cell); }
  int vocab_size() const override { return config_.vocab_size; }
  nlohmann::json config_json() const override { return config_.to_json(); }
  void reset_state() override;
  const float* step(int32_t token) override;
  void save_state(GenerationState* state) const override;  // floats: h (L,H) then c (L,H)
  void load_state(const GenerationState& state) override;
  EvalStats evaluate(const std::vector<int32_t>& tokens) override;
  std::unique_ptr<Evaluation> start_evaluation(std::vector<int32_t> tokens) override;  // recurrent_evaluation.cpp
  std::vector<TensorToWrite> tensors_to_save() const override;

  // TrainableModel
  Parameters& parameters() override { return params_; }
  float forward(const int32_t* inputs, const int32_t* targets, int B, int T, bool training, Rng* rng) override;
  void backward() override;
  uint64_t forward_bytes(int B, int T) const override;
  void reset_train_state() override;
  std::vector<float> carried_state() const override;
  void restore_carried_state(std::vector<float> state) override;
  const float* logits() const override { return logits_.data(); }

  // Gate activations of the last step() for layer l (G·H): LSTM i,f,g,o; GRU r,z,n; RNN pre-activations.
  // Read by the docs site's live views.
  const float* last_step_gates(int layer) const;
  const float* state_h(int layer) const { return gen_h_.data() + int64_t(layer) * config_.hidden_size; }

 private:
  friend class RecurrentEvaluation;
  // Deferred: the parameter table only (names, shapes, offsets), so from_file can check the file against it
  // before anything is allocated; allocate() then sizes the blocks and, with zeroed weights, the generation state
  // (a loader that appends the weights calls reset_state() once they are in).
  enum class Allocation { Now, Deferred };
  RecurrentLM(const RecurrentConfig& config, Allocation allocation);
  void allocate(Parameters::Fill fill = Parameters::Fill::Zeros);
  RecurrentWeights layer_weights(int layer) const;
  RecurrentGrads layer_grads(int layer);
  const float* layer_output(int layer) const;  // (T,B,H), after dropout when active
  void refresh_compact_weights();              // rebuilds the Half / Int8 copies from the current weights
  void embedding_projection_backward();        // backward of layer 0 when project_embeddings_

  RecurrentConfig config_;
  Parameters params_;
  struct LayerOffsets {
    size_t weight_ih, weight_hh, bias_ih, bias_hh;
  };
  std::vector<LayerOffsets> layer_offsets_;  // (L)
  size_t embed_offset_ = 0, head_weight_offset_ = 0, head_bias_offset_ = 0;

  // Training activations of the last forward (B sequences of T tokens).
  int batch_ = 0, steps_ = 0;
  bool dropout_active_ = false;
  int counted_targets_ = 0;
  std::vector<int32_t> inputs_time_major_;        // (T,B)
  std::vector<int32_t> targets_;                  // (B,T)
  bool project_embeddings_ = false;               // layer 0's input side came from embedding_projection_
  std::vector<float> embedding_projection_;       // (V,G·H) embed·W_ih0ᵀ + layer 0's input-side bias
  std::vector<float> projection_bias_;            // (G·H) that bias
  std::vector<float> embedding_projection_grad_;  // (V,G·H) per-token sums of layer 0's input-side gate gradients
  std::vector<float> embedded_;                   // (T,B,E) when not projected
  std::vector<RecurrentCache> caches_;            // (L)
  std::vector<std::vector<float>> dropped_;       // (L)(T,B,H) layer outputs after dropout
  std::vector<std::vector<float>> dropout_masks_; // (L)(T,B,H) 0 or 1/(1−p)
  std::vector<float> top_batch_major_;            // (B,T,H) top layer output for the head
  std::vector<float> logits_, probs_, losses_;    // (B,T,V), (B,T,V), (B,T)
  std::vector<float> dlogits_, dtop_, dlayer_, dlayer_below_, dembedded_;  // backward scratch

  // Carried training state (stateful truncated BPTT).
  std::vector<float> carried_h_, carried_c_;  // (L,B,H)

  // Generation state (one sequence).
  std::vector<float> gen_h_, gen_c_;   // (L,H)
  std::vector<float> gen_scratch_;     // (L)(2·G·H + H): gates of the last step stay readable per layer
  std::vector<float> gen_logits_;      // (V)
  StepPrecision step_precision_;
  // Compact copies of the matrices step() multiplies, in its order: per layer weight_ih then weight_hh, then
  // head.weight. Only the current precision's copy is filled.
  std::vector<uint16_t> gen_half_;     // Half: all matrices' half bits, back to back
  std::vector<int8_t> gen_int8_;       // Int8: all matrices' int8 values, back to back
  std::vector<float> gen_scales_;      // Int8: all matrices' per-row scales, back to back
  std::vector<CompactMatrix> gen_compact_;  // (2L + 1) views into the copies; empty when step() reads floats
};

}  // namespace tinylm
