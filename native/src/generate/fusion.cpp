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
  const int V = vocab_size();
  std::copy_n(primary_.step(token), V, log_probs_.begin());
  std::copy_n(secondary_.step(token), V, scratch_.begin());
  softmax_inplace(log_probs_.data(), V);
  softmax_inplace(scratch_.data(), V);
  for (int v = 0; v < V; ++v) log_probs_[v] = std::log(weight_ * log_probs_[v] + (1 - weight_) * scratch_[v]);
  return log_probs_.data();
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
