// LlamaLM: the whole model's backward against central finite differences (tied and untied, with and without biases,
// multi-head, grouped and multi-query), KV-cache generation against the batched forward — before and after the window
// slides —, half-precision steps, evaluation, Hugging Face's parameter names, model files, and config/input
// validation. Its layers are tested in test_llama_layers.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <numeric>

#include "gradient_check.hpp"
#include "io/safetensors.hpp"
#include "kernels/kernels.hpp"
#include "layer_gradient_check.hpp"
#include "layers/rotary.hpp"
#include "models/llama.hpp"
#include "tinylm/error.hpp"
#include "tinylm/model.hpp"

using namespace tinylm;
using namespace tinylm::testing;

namespace {

// V 13, T_max 8, C 12, H 20, L 2, NH 4 heads of D 4 (NH·D = 16 ≠ C, as head_dim allows), KVH as given.
LlamaConfig small_config(int kv_heads, bool tied = true, bool biases = false) {
  LlamaConfig config;
  config.vocab_size = 13;
  config.context_size = 8;
  config.hidden_size = 12;
  config.intermediate_size = 20;
  config.num_layers = 2;
  config.num_heads = 4;
  config.num_kv_heads = kv_heads;
  config.head_size = 4;
  config.rms_norm_eps = 1e-5f;
  config.rope.theta = 100.0f;  // turns visibly within 8 positions
  config.tie_embeddings = tied;
  config.attention_bias = biases;
  config.mlp_bias = biases;
  return config;
}

LlamaLM perturbed_model(const LlamaConfig& config, uint64_t seed, float scale) {
  LlamaLM model(config);
  Rng rng(seed);
  model.initialize(rng);
  for (float& v : model.parameters().values) v += scale * rng.normal();
  model.reset_state();
  return model;
}

}  // namespace

TEST_CASE("llama: backward matches finite differences — tied and untied, biases, multi-head, grouped, multi-query") {
  struct Case {
    int kv_heads;
    bool tied, biases;
  };
  for (const Case& c : {Case{4, true, false}, Case{2, false, true}, Case{1, true, true}, Case{2, true, false}}) {
    CAPTURE(c.kv_heads);
    CAPTURE(c.tied);
    CAPTURE(c.biases);
    LlamaConfig config = small_config(c.kv_heads, c.tied, c.biases);
    config.rope.scaling = RopeScaling::Linear;
    config.rope.factor = 2.0f;
    // Larger than the 0.02 initialisation so every path carries a gradient well above float rounding.
    LlamaLM model = perturbed_model(config, 6, 0.3f);
    const int B = 2, T = 6;
    std::vector<int32_t> inputs = random_ids(B * T, 13, 7), targets = random_ids(B * T, 13, 8);
    targets[4] = -1;  // ignored positions carry no gradient
    GradientCheckOptions options;
    options.epsilon = 3e-3f;
    check_gradients(model, inputs, targets, B, T, options);
  }
}

TEST_CASE("llama: step() with the KV cache reproduces the batched forward, before and after the window slides") {
  for (int kv_heads : {4, 2, 1}) {
    CAPTURE(kv_heads);
    LlamaLM model = perturbed_model(small_config(kv_heads, kv_heads != 2, kv_heads == 1), 8, 0.2f);
    model.set_step_precision(LlamaLM::StepPrecision::Float);
    const int T_max = 8, V = 13;
    const std::vector<int32_t> stream = random_ids(40, V, 9);

    // The first T_max steps see exactly the forward's prefix.
    std::vector<int32_t> targets(T_max, 0);
    model.forward(stream.data(), targets.data(), 1, T_max, false, nullptr);
    const std::vector<float> batched(model.logits(), model.logits() + T_max * V);
    model.reset_state();
    for (int t = 0; t < T_max; ++t) {
      const float* logits = model.step(stream[t]);
      CHECK(relative_error(logits, &batched[t * V], V) <= 1e-5);
      CHECK(model.cached_positions() == t + 1);
    }
    // Then the window slides: T_max/2 tokens are kept at positions 0 …, and each step equals a full forward over the
    // visible window (whose first token sits at position 0).
    for (int t = T_max; t < int(stream.size()); ++t) {
      CAPTURE(t);
      const float* logits = model.step(stream[t]);
      const std::vector<float> stepped(logits, logits + V);
      const std::vector<int32_t> window = model.window_tokens();
      const int n = int(window.size());
      CHECK(n == model.cached_positions());
      CHECK(n == T_max / 2 + 1 + (t - T_max) % (T_max / 2));
      CHECK(std::equal(window.begin(), window.end(), stream.begin() + t + 1 - n));
      const std::vector<int32_t> window_targets(n, 0);
      model.forward(window.data(), window_targets.data(), 1, n, false, nullptr);
      CHECK(relative_error(stepped.data(), model.logits() + (n - 1) * V, V) <= 1e-5);
    }
  }
}

TEST_CASE("llama: half-precision steps stay within half's rounding of the float steps") {
  LlamaConfig config = small_config(2);
  config.hidden_size = 40;  // several SIMD widths plus a tail
  config.intermediate_size = 72;
  config.head_size = 10;
  LlamaLM model = perturbed_model(config, 20, 0.1f);
  const std::vector<int32_t> tokens = random_ids(30, 13, 21);  // slides the 8-position window several times
  std::vector<float> exact;
  model.set_step_precision(LlamaLM::StepPrecision::Float);
  for (int32_t token : tokens) {
    const float* logits = model.step(token);
    exact.insert(exact.end(), logits, logits + 13);
  }
  model.set_step_precision(LlamaLM::StepPrecision::Half);
  double worst = 0, scale = 0;
  for (size_t t = 0; t < tokens.size(); ++t) {
    const float* logits = model.step(tokens[t]);
    for (int v = 0; v < 13; ++v) {
      worst = std::max(worst, double(std::abs(logits[v] - exact[t * 13 + v])));
      scale = std::max(scale, double(std::abs(exact[t * 13 + v])));
    }
  }
  // Each weight carries a relative rounding of at most 2^-11; through two blocks and the head that stays within a
  // few 1e-3 of the logits' scale. Zero difference would mean the half path was not taken.
  CHECK(worst <= 4e-3 * scale);
  if (half_weights_are_fast()) CHECK(worst > 0);
}

TEST_CASE("llama: last_step_attention holds each head's distribution; evaluate() scores every prediction once") {
  LlamaLM model = perturbed_model(small_config(2), 10, 0.2f);
  model.set_step_precision(LlamaLM::StepPrecision::Float);
  const std::vector<int32_t> stream = random_ids(13, 13, 11);
  for (int32_t token : stream) model.step(token);
  const int n = model.cached_positions();
  for (int layer = 0; layer < 2; ++layer) {
    const float* weights = model.last_step_attention(layer);
    for (int h = 0; h < 4; ++h) {
      CHECK(std::accumulate(weights + h * n, weights + (h + 1) * n, 0.0) == doctest::Approx(1.0).epsilon(1e-5));
    }
  }
  CHECK_THROWS_WITH_AS(model.last_step_attention(2), doctest::Contains("layer 2 out of range"), Error);

  // A stream shorter than the context is one window: the same as step() by step().
  const std::vector<int32_t> tokens = random_ids(7, 13, 13);
  const EvalStats stats = model.evaluate(tokens);
  CHECK(stats.tokens == 6);
  model.reset_state();
  double loss = 0;
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    const float* logits = model.step(tokens[i]);
    const double max_logit = *std::max_element(logits, logits + 13);
    double total = 0;
    for (int v = 0; v < 13; ++v) total += std::exp(logits[v] - max_logit);
    loss += -(logits[tokens[i + 1]] - max_logit - std::log(total));
  }
  CHECK(stats.loss == doctest::Approx(loss / 6).epsilon(1e-5));
  const EvalStats long_stats = model.evaluate(random_ids(70, 13, 14));  // many windows
  CHECK(long_stats.tokens == 69);
}

TEST_CASE("llama: parameters follow Hugging Face's names, q/k/v and gate/up adjacent; initialisation") {
  LlamaLM model(small_config(2, false, true));
  Rng rng(15);
  model.initialize(rng);
  const auto& tensors = model.parameters().table.tensors();
  CHECK(tensors.front().name == "model.embed_tokens.weight");
  CHECK(tensors[1].name == "model.layers.0.input_layernorm.weight");
  CHECK(tensors.back().name == "lm_head.weight");
  CHECK(tensors[tensors.size() - 2].name == "model.norm.weight");
  const ParameterTable& table = model.parameters().table;
  const TensorSpec& q = table.find("model.layers.1.self_attn.q_proj.weight");
  const TensorSpec& k = table.find("model.layers.1.self_attn.k_proj.weight");
  const TensorSpec& v = table.find("model.layers.1.self_attn.v_proj.weight");
  CHECK(q.shape == Shape{16, 12});
  CHECK(k.shape == Shape{8, 12});
  CHECK(k.offset == q.offset + 16 * 12);
  CHECK(v.offset == k.offset + 8 * 12);
  CHECK(table.find("model.layers.0.mlp.up_proj.weight").offset ==
        table.find("model.layers.0.mlp.gate_proj.weight").offset + 20 * 12);
  CHECK(table.find("model.layers.0.self_attn.k_proj.bias").offset ==
        table.find("model.layers.0.self_attn.q_proj.bias").offset + 16);
  CHECK(tensors.size() == 1 + 2 * 16 + 2);
  for (const TensorSpec& spec : tensors) {
    CAPTURE(spec.name);
    CHECK(spec.decay == (spec.shape.size() == 2));
    const float* values = model.parameters().values.data() + spec.offset;
    if (spec.shape.size() == 1) {
      const float expected = spec.name.find("norm") != std::string::npos ? 1.0f : 0.0f;
      for (int64_t i = 0; i < shape_numel(spec.shape); ++i) CHECK(values[i] == expected);
    }
  }
  LlamaLM tied(small_config(2));
  CHECK(tied.parameters().table.try_find("lm_head.weight") == nullptr);
  CHECK(tied.parameters().table.tensors().size() == 1 + 2 * 9 + 1);
}

TEST_CASE("llama: model files round-trip in F32, F16 and int8; a tied head is stored once") {
  Model model;
  model.tokenizer = fit_char_tokenizer("the whale, the sea; call me ishmael");
  LlamaConfig config = small_config(2);
  config.vocab_size = model.tokenizer->vocab_size();
  config.rope.scaling = RopeScaling::Llama3;
  config.rope.factor = 8.0f;
  config.rope.original_context = 4;
  auto network = std::make_unique<LlamaLM>(config);
  Rng rng(19);
  network->initialize(rng);
  network->set_step_precision(LlamaLM::StepPrecision::Float);
  model.network = std::move(network);
  const std::vector<int32_t> prompt = model.tokenizer->encode("call me");
  auto logits_after_prompt = [&](LanguageModel& loaded) {
    dynamic_cast<LlamaLM&>(loaded).set_step_precision(LlamaLM::StepPrecision::Float);
    const float* logits = nullptr;
    for (int32_t token : prompt) logits = loaded.step(token);
    return std::vector<float>(logits, logits + config.vocab_size);
  };
  const std::vector<float> expected = logits_after_prompt(*model.network);
  for (const auto& tensor : model.network->tensors_to_save()) CHECK(tensor.name != "lm_head.weight");

  const std::vector<uint8_t> bytes = serialize_model(model);
  Model loaded = load_model_bytes(bytes.data(), bytes.size());
  CHECK(loaded.network->arch() == "llama");
  CHECK(loaded.network->config_json() == model.network->config_json());
  CHECK(logits_after_prompt(*loaded.network) == expected);
  for (WeightStorage storage : {WeightStorage::F16, WeightStorage::Int8}) {
    const std::vector<uint8_t> compact = serialize_model(model, storage);
    CHECK(compact.size() < bytes.size());
    Model reloaded = load_model_bytes(compact.data(), compact.size());
    CHECK(relative_error(logits_after_prompt(*reloaded.network).data(), expected.data(), config.vocab_size) <= 3e-2);
  }
}

TEST_CASE("llama: invalid configs and inputs are rejected with the field or value named") {
  const nlohmann::json valid = small_config(2).to_json();
  auto error_for = [&](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json json = valid;
    edit(json);
    try {
      LlamaConfig::from_json(json);
    } catch (const Error& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  CHECK(error_for([](nlohmann::json&) {}) == "no error");
  CHECK(error_for([](nlohmann::json& j) { j["num_kv_heads"] = 3; }).find("num_heads 4 must be a multiple of "
                                                                          "num_kv_heads 3") != std::string::npos);
  CHECK(error_for([](nlohmann::json& j) { j["num_kv_heads"] = 8; }).find("num_kv_heads") != std::string::npos);
  CHECK(error_for([](nlohmann::json& j) { j["head_size"] = 5; }).find("head_size 5 must be even") != std::string::npos);
  CHECK(error_for([](nlohmann::json& j) { j["rms_norm_eps"] = 0; }).find("rms_norm_eps") != std::string::npos);
  CHECK(error_for([](nlohmann::json& j) { j["rope_scaling"] = {{"type", "yarn"}, {"factor", 4.0}}; })
            .find("rope_scaling type 'yarn'") != std::string::npos);
  CHECK(error_for([](nlohmann::json& j) { j["rope_scaling"] = {{"type", "linear"}}; }).find("missing field 'factor'") !=
        std::string::npos);
  CHECK(error_for([](nlohmann::json& j) { j.erase("context_size"); }).find("missing field 'context_size'") !=
        std::string::npos);
  CHECK(error_for([](nlohmann::json& j) { j["arch"] = "gpt"; }).find("arch 'gpt'") != std::string::npos);

  LlamaLM model(small_config(2));
  std::vector<int32_t> inputs = {1, 2, 13}, targets = {1, 2, 3};
  CHECK_THROWS_WITH_AS(model.forward(inputs.data(), targets.data(), 1, 3, false, nullptr),
                       doctest::Contains("input token id 13 at position 2"), Error);
  std::vector<int32_t> long_inputs(9, 1), long_targets(9, 1);
  CHECK_THROWS_WITH_AS(model.forward(long_inputs.data(), long_targets.data(), 1, 9, false, nullptr),
                       doctest::Contains("sequence length 9 exceeds the model's context_size 8"), Error);
  CHECK_THROWS_WITH_AS(model.step(-1), doctest::Contains("token id -1"), Error);
}
