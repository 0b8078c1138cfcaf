// What the LoRA tests share: the two small bases they adapt (a 2-layer GPT, and a 2-layer Llama whose 4 heads share
// 2 key/value heads), perturbed so that every path carries a gradient, and adapters whose B is not zero.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lora/lora_adapter.hpp"
#include "models/gpt.hpp"
#include "models/llama.hpp"
#include "tinylm/model.hpp"
#include "tinylm/rng.hpp"

namespace tinylm::testing {

inline GptConfig gpt_config() {
  GptConfig config;
  config.vocab_size = 11;
  config.context_size = 8;
  config.embed_size = 8;
  config.num_layers = 2;
  config.num_heads = 2;
  return config;
}

inline LlamaConfig llama_config() {
  LlamaConfig config;
  config.vocab_size = 13;
  config.context_size = 8;
  config.hidden_size = 12;
  config.intermediate_size = 20;
  config.num_layers = 2;
  config.num_heads = 4;
  config.num_kv_heads = 2;
  config.head_size = 4;
  config.rope.theta = 100.0f;
  return config;
}

template <typename Model>
void perturb(Model& model, uint64_t seed, float scale) {
  Rng rng(seed);
  model.initialize(rng);
  for (float& v : model.parameters().values) v += scale * rng.normal();
  model.reset_state();
}

inline LoraConfig lora_config(std::vector<std::string> targets, int rank = 3, float alpha = 6.0f) {
  LoraConfig config;
  config.rank = rank;
  config.alpha = alpha;
  config.targets = std::move(targets);
  return config;
}

// An adapter whose B is not zero, so every term carries a gradient into A as well.
inline std::unique_ptr<LoraAdapter> random_adapter(const TrainableModel& model, const LoraConfig& config,
                                                   uint64_t seed) {
  const std::vector<LinearModule> modules = model.linear_modules();
  auto adapter = std::make_unique<LoraAdapter>(config, modules, LoraAdapter::targeted_modules(config, modules));
  Rng rng(seed);
  for (float& v : adapter->parameters().values) v = 0.3f * rng.normal();
  return adapter;
}

inline std::vector<float> forward_logits(TrainableModel& model, const std::vector<int32_t>& ids, int B, int T) {
  model.forward(ids.data(), ids.data(), B, T, false, nullptr);
  return std::vector<float>(model.logits(), model.logits() + int64_t(B) * T * model.vocab_size());
}

}  // namespace tinylm::testing
