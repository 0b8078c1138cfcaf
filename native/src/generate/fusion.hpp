// FusedModel: two language models over the same tokenizer, blended at generation time —
//   p(next) = weight · p_primary(next) + (1 − weight) · p_secondary(next)
// (the seed material's fusion of a pretrained LM with an RNN; we blend a user's fine-tuned model with the base).
// It is itself a LanguageModel whose "logits" are log p, so the sampler and generator use it unchanged.
#pragma once
#include <vector>

#include "tinylm/model.hpp"

namespace tinylm {

class FusedModel : public LanguageModel {
 public:
  // Both models must outlive this object and share the vocabulary size. weight ∈ [0, 1].
  FusedModel(LanguageModel& primary, LanguageModel& secondary, float weight);

  std::string arch() const override { return "fusion"; }
  int vocab_size() const override { return primary_.vocab_size(); }
  int context_size() const override;
  nlohmann::json config_json() const override;
  void reset_state() override;
  const float* step(int32_t token) override;
  const float* prefill(const int32_t* tokens, int n) override;  // each model's own prefill, blended once
  // ints: the primary's int and float counts, then both models' ints; floats: both models' floats.
  void save_state(GenerationState* state) const override;
  void load_state(const GenerationState& state) override;
  EvalStats evaluate(const std::vector<int32_t>& tokens) override;
  // A blend is made at run time from two model files; it has no tensors of its own (throws Error).
  std::vector<TensorToWrite> tensors_to_save() const override;

 private:
  // log_probs_ (V) holds the primary's logits: blends in the secondary's and returns the fused log-probabilities.
  const float* blend(const float* secondary_logits);

  LanguageModel& primary_;
  LanguageModel& secondary_;
  float weight_;
  std::vector<float> log_probs_;  // (V)
  std::vector<float> scratch_;    // (V)
  mutable GenerationState primary_state_, secondary_state_;  // save/load scratch
};

}  // namespace tinylm
