#include "generate/fusion.hpp"

#include <algorithm>
#include <cmath>

#include "io/safetensors.hpp"
#include "kernels/kernels.hpp"
#include "tinylm/error.hpp"

namespace tinylm {

FusedModel::FusedModel(LanguageModel& primary, LanguageModel& secondary, float weight)
    : primary_(primary), secondary_(secondary), weight_(weight) {
  check(primary.vocab_size() == secondary.vocab_size(), "fusion: the models have different vocabularies (",
        primary.vocab_size(), " and ", secondary.vocab_size(), " tokens); they must share a tokenizer");
  check(weight >= 0 && weight <= 1, "fusion: weight must be in [0, 1], got ", weight);
  log_probs_.resize(primary.vocab_size());
  scratch_.resize(primary.vocab_size());
}

int FusedModel::context_size() const {
  const int a = primary_.context_size(), b = secondary_.context_size();
  return a && b ? std::min(a, b) : std::max(a, b);
}

nlohmann::json FusedModel::config_json() const {
  return {{"arch", "fusion"}, {"weight", weight_}, {"primary", primary_.config_json()},
          {"secondary", secondary_.config_json()}};
}

void FusedModel::reset_state() {
  primary_.reset_state();
  secondary_.reset_state();
}

const float* FusedModel::step(int32_t token) {
  std::copy_n(primary_.step(token), vocab_size(), log_probs_.begin());  // before the secondary runs
  return blend(secondary_.step(token));
}

const float* FusedModel::prefill(const int32_t* tokens, int n) {
  std::copy_n(primary_.prefill(tokens, n), vocab_size(), log_probs_.begin());
  return blend(secondary_.prefill(tokens, n));
}

const float* FusedModel::blend(const float* secondary_logits) {
  const int V = vocab_size();
  std::copy_n(secondary_logits, V, scratch_.begin());
  softmax_inplace(log_probs_.data(), V);
  softmax_inplace(scratch_.data(), V);
  for (int v = 0; v < V; ++v) log_probs_[v] = std::log(weight_ * log_probs_[v] + (1 - weight_) * scratch_[v]);
  return log_probs_.data();
}

void FusedModel::save_state(GenerationState* state) const {
  primary_.save_state(&primary_state_);
  secondary_.save_state(&secondary_state_);
  state->ints.assign({int32_t(primary_state_.ints.size()), int32_t(primary_state_.floats.size())});
  state->ints.insert(state->ints.end(), primary_state_.ints.begin(), primary_state_.ints.end());
  state->ints.insert(state->ints.end(), secondary_state_.ints.begin(), secondary_state_.ints.end());
  state->floats.assign(primary_state_.floats.begin(), primary_state_.floats.end());
  state->floats.insert(state->floats.end(), secondary_state_.floats.begin(), secondary_state_.floats.end());
}

void FusedModel::load_state(const GenerationState& state) {
  check(state.ints.size() >= 2 && state.ints[0] >= 0 && state.ints[1] >= 0 &&
            size_t(state.ints[0]) <= state.ints.size() - 2 && size_t(state.ints[1]) <= state.floats.size(),
        "generation state: not a fused model's state");
  const auto ints = state.ints.begin() + 2;
  const auto floats = state.floats.begin();
  primary_state_.ints.assign(ints, ints + state.ints[0]);
  primary_state_.floats.assign(floats, floats + state.ints[1]);
  secondary_state_.ints.assign(ints + state.ints[0], state.ints.end());
  secondary_state_.floats.assign(floats + state.ints[1], state.floats.end());
  primary_.load_state(primary_state_);
  secondary_.load_state(secondary_state_);
}

EvalStats FusedModel::evaluate(const std::vector<int32_t>& tokens) {
  EvalTally tally;
  reset_state();
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    const float* log_probs = step(tokens[i]);
    tally.add(-log_probs[tokens[i + 1]], log_probs, vocab_size(), tokens[i + 1]);
  }
  return tally.stats();
}

std::vector<TensorToWrite> FusedModel::tensors_to_save() const {
  fail("a fused model cannot be saved: save the two models and blend them again with --fuse");
}

}  // namespace tinylm
