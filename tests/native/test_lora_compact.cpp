// LoRA on a base that holds its matrices as F16 or int8 (compact residency): the adapter trains beside them with no
// float copy of the model and no gradients for it. Loading the same file as floats gives exactly the values the
// compact form converts back to, so an adapter trained on either must come out bit for bit the same.
#include <doctest/doctest.h>

#include <cstring>

#include "lora/lora_model.hpp"
#include "models/gpt.hpp"
#include "models/llama.hpp"
#include "tinylm/error.hpp"
#include "tinylm/model.hpp"
#include "tinylm/rng.hpp"
#include "tinylm/tokenizer.hpp"
#include "train/trainer.hpp"

using namespace tinylm;

namespace {

const char* kAlphabet = "abcdefghijklm";  // 13 symbols: the char tokenizer's vocabulary

template <typename Network, typename Config>
std::vector<uint8_t> model_bytes(Config config, WeightStorage storage) {
  Model model;
  model.tokenizer = fit_char_tokenizer(kAlphabet);
  config.vocab_size = model.tokenizer->vocab_size();
  auto network = std::make_unique<Network>(config);
  Rng rng(12);
  network->initialize(rng);
  for (float& v : network->parameters().values) v += 0.3f * rng.normal();
  model.network = std::move(network);
  return serialize_model(model, storage);
}

struct Trained {
  std::vector<float> adapter, losses;
};

// Three Adam steps of a rank-2 adapter on every linear (dropout on), from the same initialisation.
Trained train_adapter(TrainableModel& base, const std::vector<std::string>& targets) {
  LoraConfig config;
  config.rank = 2;
  config.alpha = 4;
  config.dropout = 0.1f;
  config.targets = targets;
  const std::vector<LinearModule> modules = base.linear_modules();
  LoraAdapter adapter(config, modules, LoraAdapter::targeted_modules(config, modules));
  Rng init(3);
  adapter.initialize(init);
  LoraModel model(base, adapter);
  std::vector<int32_t> text(300);
  Rng draw(4);
  for (int32_t& id : text) id = int32_t(draw.below(13));
  TrainOptions options;
  options.steps = 3;
  options.batch = 3;
  options.seq = 8;
  options.optimizer.learning_rate = 1e-2f;
  options.seed = 5;
  Trainer trainer(model, text, {}, options);
  Trained trained;
  for (int step = 0; step < options.steps; ++step) trained.losses.push_back(trainer.step().loss);
  trained.adapter = adapter.parameters().values;
  return trained;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

template <typename Network, typename Config>
void check_against_float_load(const Config& config, const std::vector<std::string>& targets) {
  const std::pair<WeightStorage, Residency> forms[] = {{WeightStorage::F16, Residency::F16},
                                                       {WeightStorage::Int8, Residency::Int8}};
  for (const auto& [storage, residency] : forms) {
    CAPTURE(int(residency));
    const std::vector<uint8_t> bytes = model_bytes<Network>(config, storage);
    Model floats = load_model_bytes(bytes.data(), bytes.size());
    Model compact = load_model_bytes(bytes.data(), bytes.size(), residency);
    auto& float_base = dynamic_cast<TrainableModel&>(*floats.network);
    auto& compact_base = dynamic_cast<TrainableModel&>(*compact.network);
    const std::vector<int32_t> probe = floats.tokenizer->encode("abcabcdeffedcba");
    const EvalStats before = compact_base.evaluate(probe);

    const Trained expected = train_adapter(float_base, targets);
    const Trained got = train_adapter(compact_base, targets);
    CHECK(same_bits(got.losses, expected.losses));
    CHECK(same_bits(got.adapter, expected.adapter));
    // The base held no gradients and its matrices are as loaded: it scores the probe as before.
    CHECK(compact_base.parameters().grads.empty());
    CHECK(compact_base.parameters().table.holds_compact());
    const EvalStats after = compact_base.evaluate(probe);
    CHECK(after.loss == before.loss);

    // Training it whole, or merging into it, is refused with the reason.
    compact_base.set_frozen(false);
    std::vector<int32_t> ids = probe;
    CHECK_THROWS_WITH_AS(compact_base.forward(ids.data(), ids.data(), 1, int(ids.size()), true, nullptr),
                         doctest::Contains("load it with float weights to train it"), Error);
  }
}

}  // namespace

TEST_CASE("lora on a compact base: GPT and Llama held as F16 or int8 train an adapter as their float load does") {
  GptConfig gpt;
  gpt.context_size = 16;
  gpt.embed_size = 16;
  gpt.num_layers = 2;
  gpt.num_heads = 2;
  check_against_float_load<GptLM>(gpt, {"c_attn", "c_proj", "c_fc"});

  LlamaConfig llama;
  llama.context_size = 16;
  llama.hidden_size = 16;
  llama.intermediate_size = 24;
  llama.num_layers = 2;
  llama.num_heads = 4;
  llama.num_kv_heads = 2;
  llama.head_size = 4;
  llama.rope.theta = 100.0f;
  check_against_float_load<LlamaLM>(llama, {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"});
}

TEST_CASE("lora on a compact base: merging into F16 matrices is refused, naming the form") {
  GptConfig gpt;
  gpt.context_size = 8;
  gpt.embed_size = 8;
  gpt.num_layers = 1;
  gpt.num_heads = 2;
  const std::vector<uint8_t> bytes = model_bytes<GptLM>(gpt, WeightStorage::F16);
  Model compact = load_model_bytes(bytes.data(), bytes.size(), Residency::F16);
  auto& base = dynamic_cast<TrainableModel&>(*compact.network);
  LoraConfig config;
  config.rank = 2;
  config.targets = {"c_attn"};
  const std::vector<LinearModule> modules = base.linear_modules();
  LoraAdapter adapter(config, modules, LoraAdapter::targeted_modules(config, modules));
  CHECK_THROWS_WITH_AS(merge_lora(base, adapter), doctest::Contains("is held as F16: load the model with float weights"),
                       Error);
}
