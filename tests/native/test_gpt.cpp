// GptLM: a whole 2-layer GPT's backward against central finite differences with and without biases, KV-cache
// generation against the batched forward — before and after the window slides —, half-precision steps, attention
// weights, evaluation windows, model files (tied head, nanoGPT's extra tensors), nanoGPT's parameter names,
// initialisation, dropout, and config/input validation. Its layers are tested in test_gpt_layers.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <numeric>

#include "gradient_check.hpp"
#include "layer_gradient_check.hpp"
#include "io/safetensors.hpp"
#include "kernels/kernels.hpp"
#include "layers/mlp.hpp"
#include "models/gpt.hpp"
#include "tinylm/error.hpp"
#include "tinylm/model.hpp"

using namespace tinylm;
using namespace tinylm::testing;

namespace {

GptConfig small_config(bool bias, int layers = 2) {
  GptConfig config;
  config.vocab_size = 11;
  config.context_size = 8;
  config.embed_size = 8;
  config.num_layers = layers;
  config.num_heads = 2;
  config.bias = bias;
  return config;
}

}  // namespace

TEST_CASE("gpt: backward matches finite differences, with and without biases") {
  for (bool bias : {true, false}) {
    for (GeluKind kind : {GeluKind::Tanh, GeluKind::Exact}) {
      CAPTURE(bias);
      const std::string gelu = gelu_kind_name(kind);
      CAPTURE(gelu);
      GptConfig config = small_config(bias);
      config.gelu = kind;
      GptLM model(config);
      Rng rng(6);
      model.initialize(rng);
      // Larger than nanoGPT's 0.02 so every path carries a gradient well above float rounding.
      for (float& v : model.parameters().values) v += 0.3f * rng.normal();
      const int B = 2, T = 6;
      std::vector<int32_t> inputs = random_ids(B * T, 11, 7), targets = random_ids(B * T, 11, 8);
      targets[4] = -1;  // ignored positions carry no gradient
      testing::GradientCheckOptions options;
      options.epsilon = 3e-3f;
      testing::check_gradients(model, inputs, targets, B, T, options);
    }
  }
}

TEST_CASE("gpt: step() with the KV cache reproduces the batched forward, before and after the window slides") {
  for (bool bias : {true, false}) {
    CAPTURE(bias);
    GptLM model(small_config(bias));
    Rng rng(8);
    model.initialize(rng);
    for (float& v : model.parameters().values) v += 0.2f * rng.normal();
    model.set_step_precision(GptLM::StepPrecision::Float);
    const int T_max = 8, V = 11;
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
    // Then the window slides: T_max/2 tokens are kept, and each step equals a full forward over the visible window.
    for (int t = T_max; t < int(stream.size()); ++t) {
      CAPTURE(t);
      const float* logits = model.step(stream[t]);
      const std::vector<float> stepped(logits, logits + V);
      const std::vector<int32_t> window = model.window_tokens();
      const int n = int(window.size());
      CHECK(n == model.cached_positions());
      CHECK(n == T_max / 2 + 1 + (t - T_max) % (T_max / 2));
      CHECK(window.back() == stream[t]);
      CHECK(std::equal(window.begin(), window.end(), stream.begin() + t + 1 - n));
      const std::vector<int32_t> window_targets(n, 0);
      model.forward(window.data(), window_targets.data(), 1, n, false, nullptr);
      CHECK(relative_error(stepped.data(), model.logits() + (n - 1) * V, V) <= 1e-5);
    }
  }
}

TEST_CASE("gpt: half-precision steps stay within half's rounding of the float steps") {
  GptConfig config = small_config(true);
  config.embed_size = 40;  // several SIMD widths plus a tail
  config.num_heads = 4;
  GptLM model(config);
  Rng rng(20);
  model.initialize(rng);
  for (float& v : model.parameters().values) v += 0.1f * rng.normal();
  const std::vector<int32_t> tokens = random_ids(30, 11, 21);  // slides the 8-position window several times
  std::vector<float> exact;
  model.set_step_precision(GptLM::StepPrecision::Float);
  model.reset_state();
  for (int32_t token : tokens) {
    const float* logits = model.step(token);
    exact.insert(exact.end(), logits, logits + 11);
  }
  model.set_step_precision(GptLM::StepPrecision::Half);
  model.reset_state();
  double worst = 0, scale = 0;
  for (size_t t = 0; t < tokens.size(); ++t) {
    const float* logits = model.step(tokens[t]);
    for (int v = 0; v < 11; ++v) {
      worst = std::max(worst, double(std::abs(logits[v] - exact[t * 11 + v])));
      scale = std::max(scale, double(std::abs(exact[t * 11 + v])));
    }
  }
  // Each weight carries a relative rounding of at most 2^-11; through two blocks and the head that stays within a
  // few 1e-3 of the logits' scale. Zero difference would mean the half path was not taken.
  CHECK(worst <= 4e-3 * scale);
  if (half_weights_are_fast()) CHECK(worst > 0);
}

TEST_CASE("gpt: last_step_attention holds each head's distribution over the visible window") {
  GptLM model(small_config(true));
  Rng rng(10);
  model.initialize(rng);
  const std::vector<int32_t> stream = random_ids(13, 11, 11);
  for (int32_t token : stream) model.step(token);
  const int n = model.cached_positions();
  for (int layer = 0; layer < 2; ++layer) {
    const float* weights = model.last_step_attention(layer);
    for (int h = 0; h < 2; ++h) {
      const double total = std::accumulate(weights + h * n, weights + (h + 1) * n, 0.0);
      CHECK(total == doctest::Approx(1.0).epsilon(1e-5));
      for (int j = 0; j < n; ++j) CHECK(weights[h * n + j] >= 0.0f);
    }
  }
  CHECK_THROWS_WITH_AS(model.last_step_attention(2), doctest::Contains("layer 2 out of range"), Error);
}

TEST_CASE("gpt: evaluate() scores every prediction once, with the documented windows") {
  GptLM model(small_config(true));
  Rng rng(12);
  model.initialize(rng);
  for (float& v : model.parameters().values) v += 0.2f * rng.normal();
  const int V = 11, W = 8, stride = 4;

  model.set_step_precision(GptLM::StepPrecision::Float);
  SUBCASE("a stream shorter than the context is one window, the same as step() by step()") {
    const std::vector<int32_t> tokens = random_ids(7, V, 13);
    const EvalStats stats = model.evaluate(tokens);
    CHECK(stats.tokens == 6);
    model.reset_state();
    double loss = 0;
    for (size_t i = 0; i + 1 < tokens.size(); ++i) {
      const float* logits = model.step(tokens[i]);
      double max_logit = logits[0], total = 0;
      for (int v = 1; v < V; ++v) max_logit = std::max(max_logit, double(logits[v]));
      for (int v = 0; v < V; ++v) total += std::exp(logits[v] - max_logit);
      loss += -(logits[tokens[i + 1]] - max_logit - std::log(total));
    }
    CHECK(stats.loss == doctest::Approx(loss / 6).epsilon(1e-5));
  }
  SUBCASE("a long stream: windows every W/2 tokens, the last one aligned to the end") {
    const std::vector<int32_t> tokens = random_ids(70, V, 14);  // 69 predictions, more than 16 windows of 8
    const EvalStats stats = model.evaluate(tokens);
    CHECK(stats.tokens == 69);
    double loss = 0;
    int64_t scored_until = 0;
    for (int64_t start = 0;; start = std::min<int64_t>(start + stride, 69 - W)) {
      std::vector<int32_t> inputs(tokens.begin() + start, tokens.begin() + start + W), targets(W);
      for (int t = 0; t < W; ++t) targets[t] = start + t >= scored_until ? tokens[start + t + 1] : -1;
      const float mean = model.forward(inputs.data(), targets.data(), 1, W, false, nullptr);
      loss += mean * double(std::count_if(targets.begin(), targets.end(), [](int32_t t) { return t >= 0; }));
      scored_until = start + W;
      if (start + W >= 69) break;
    }
    CHECK(scored_until == 69);
    CHECK(stats.loss == doctest::Approx(loss / 69).epsilon(1e-5));
    CHECK(stats.perplexity == doctest::Approx(std::exp(stats.loss)));
  }
}

TEST_CASE("gpt: parameters follow nanoGPT's names, initialisation and weight-decay groups") {
  GptConfig config = small_config(true, 3);
  GptLM model(config);
  Rng rng(15);
  model.initialize(rng);
  Parameters& params = model.parameters();
  const auto& tensors = params.table.tensors();
  CHECK(tensors.front().name == "transformer.wte.weight");
  CHECK(tensors[1].name == "transformer.wpe.weight");
  CHECK(tensors[2].name == "transformer.h.0.ln_1.weight");
  CHECK(tensors.back().name == "transformer.ln_f.bias");
  CHECK(params.table.try_find("lm_head.weight") == nullptr);  // tied: stored once
  CHECK(tensors.size() == 2 + 3 * 12 + 2);
  for (const TensorSpec& spec : tensors) {
    CAPTURE(spec.name);
    CHECK(spec.decay == (spec.shape.size() == 2));
    const float* values = params.values.data() + spec.offset;
    const int64_t count = shape_numel(spec.shape);
    if (spec.shape.size() == 1) {
      const bool norm_weight =
          spec.name.find("ln_") != std::string::npos && spec.name.find(".weight") != std::string::npos;
      const float expected = norm_weight ? 1.0f : 0.0f;
      for (int64_t i = 0; i < count; ++i) CHECK(values[i] == expected);
    } else {
      double squares = 0;
      for (int64_t i = 0; i < count; ++i) squares += double(values[i]) * values[i];
      const double expected_std = spec.name.find("c_proj.weight") != std::string::npos ? 0.02 / std::sqrt(6.0) : 0.02;
      CHECK(std::sqrt(squares / count) == doctest::Approx(expected_std).epsilon(0.25));
    }
  }
  GptLM no_bias(small_config(false));
  for (const TensorSpec& spec : no_bias.parameters().table.tensors())
    CHECK(spec.name.find(".bias") == std::string::npos);
  CHECK(no_bias.parameters().table.tensors().size() == 2 + 2 * 6 + 1);
}

TEST_CASE("gpt: dropout is active in training only and is reproducible") {
  GptConfig config = small_config(true);
  config.dropout = 0.3f;
  GptLM model(config);
  Rng init(16);
  model.initialize(init);
  const std::vector<int32_t> inputs = random_ids(12, 11, 17), targets = random_ids(12, 11, 18);
  const float eval_loss = model.forward(inputs.data(), targets.data(), 2, 6, false, nullptr);
  Rng a(100), b(100);
  const float train_a = model.forward(inputs.data(), targets.data(), 2, 6, true, &a);
  const float train_b = model.forward(inputs.data(), targets.data(), 2, 6, true, &b);
  CHECK(train_a == train_b);
  CHECK(train_a != eval_loss);
  model.parameters().zero_grad();
  model.backward();  // the dropout path's backward runs (its gradients are checked at the layer level)
  CHECK_THROWS_AS(model.forward(inputs.data(), targets.data(), 2, 6, true, nullptr), Error);
}

TEST_CASE("gpt: model files keep the tied head under both names and accept nanoGPT's extra tensors") {
  Model model;
  model.tokenizer = fit_char_tokenizer("the whale, the sea; call me ishmael");
  GptConfig config = small_config(true);
  config.vocab_size = model.tokenizer->vocab_size();
  config.gelu = GeluKind::Tanh;
  auto network = std::make_unique<GptLM>(config);
  Rng rng(19);
  network->initialize(rng);
  GptLM& original = *network;
  model.network = std::move(network);
  const std::vector<int32_t> prompt = model.tokenizer->encode("call me");
  original.reset_state();
  const float* last = nullptr;
  for (int32_t token : prompt) last = original.step(token);
  const std::vector<float> expected(last, last + config.vocab_size);

  auto logits_after_prompt = [&](LanguageModel& loaded) {
    loaded.reset_state();
    const float* logits = nullptr;
    for (int32_t token : prompt) logits = loaded.step(token);
    return std::vector<float>(logits, logits + config.vocab_size);
  };
  auto rebuilt = [&](const std::function<void(std::vector<TensorToWrite>&)>& edit) {
    std::vector<TensorToWrite> tensors = model.network->tensors_to_save();
    edit(tensors);
    return serialize_safetensors(tensors, {{"format", "tinylm"},
                                           {"format_version", "1"},
                                           {"config", model.network->config_json().dump()},
                                           {"tokenizer", model.tokenizer->to_json().dump()}});
  };

  SUBCASE("saving writes lm_head.weight next to wte, and the file loads back identical") {
    const std::vector<TensorToWrite> tensors = model.network->tensors_to_save();
    CHECK(tensors.back().name == "lm_head.weight");
    CHECK(tensors.back().values == tensors.front().values);
    const std::vector<uint8_t> bytes = serialize_model(model);
    Model loaded = load_model_bytes(bytes.data(), bytes.size());
    CHECK(loaded.network->arch() == "gpt");
    CHECK(loaded.network->config_json() == model.network->config_json());
    CHECK(logits_after_prompt(*loaded.network) == expected);
  }
  SUBCASE("a file without lm_head.weight, or with nanoGPT's causal-mask buffers, loads") {
    const std::vector<float> mask(64, 1.0f);
    const std::vector<uint8_t> bytes = rebuilt([&](std::vector<TensorToWrite>& tensors) {
      tensors.pop_back();
      tensors.push_back({"transformer.h.1.attn.bias", {1, 1, 8, 8}, mask.data()});
    });
    Model loaded = load_model_bytes(bytes.data(), bytes.size());
    CHECK(logits_after_prompt(*loaded.network) == expected);
  }
  SUBCASE("an lm_head.weight that differs from wte is refused") {
    std::vector<float> other(size_t(config.vocab_size) * 8, 0.5f);
    const std::vector<uint8_t> bytes =
        rebuilt([&](std::vector<TensorToWrite>& tensors) { tensors.back().values = other.data(); });
    CHECK_THROWS_WITH_AS(load_model_bytes(bytes.data(), bytes.size()),
                         doctest::Contains("'lm_head.weight' differs from 'transformer.wte.weight'"), Error);
  }
  SUBCASE("a missing tensor, a wrong shape or a foreign tensor is named") {
    const std::vector<uint8_t> missing =
        rebuilt([](std::vector<TensorToWrite>& tensors) { tensors.erase(tensors.begin() + 3); });
    CHECK_THROWS_WITH_AS(load_model_bytes(missing.data(), missing.size()),
                         doctest::Contains("missing tensor 'transformer.h.0.ln_1.bias'"), Error);
    const std::vector<uint8_t> foreign = rebuilt([&](std::vector<TensorToWrite>& tensors) {
      tensors.push_back({"transformer.h.0.attn.extra", {1}, tensors[0].values});
    });
    CHECK_THROWS_WITH_AS(load_model_bytes(foreign.data(), foreign.size()),
                         doctest::Contains("'transformer.h.0.attn.extra'"), Error);
  }
}

TEST_CASE("gpt: invalid configs and inputs are rejected with the field or value named") {
  const nlohmann::json valid = GptConfig(small_config(true)).to_json();
  auto error_for = [&](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json json = valid;
    edit(json);
    try {
      GptConfig::from_json(json);
    } catch (const Error& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  CHECK(error_for([](nlohmann::json&) {}) == "no error");
  CHECK(error_for([](nlohmann::json& j) { j["num_heads"] = 3; })
            .find("embed_size 8 must be divisible by num_heads 3") != std::string::npos);
  CHECK(error_for([](nlohmann::json& j) { j["num_heads"] = 0; }).find("num_heads") != std::string::npos);
  CHECK(error_for([](nlohmann::json& j) { j.erase("context_size"); }).find("missing field 'context_size'") !=
        std::string::npos);
  CHECK(error_for([](nlohmann::json& j) { j["context_size"] = 1 << 20; }).find("context_size") != std::string::npos);
  CHECK(error_for([](nlohmann::json& j) { j["embed_size"] = "8"; }).find("'embed_size' must be an integer") !=
        std::string::npos);
  CHECK(error_for([](nlohmann::json& j) { j["num_layers"] = 0; }).find("num_layers") != std::string::npos);
  CHECK(error_for([](nlohmann::json& j) { j["vocab_size"] = -1; }).find("vocab_size") != std::string::npos);
  CHECK(error_for([](nlohmann::json& j) { j["bias"] = 1; }).find("'bias' must be true or false") != std::string::npos);
  CHECK(error_for([](nlohmann::json& j) { j["gelu"] = "relu"; }).find("'gelu' must be \"tanh\" or \"exact\"") !=
        std::string::npos);
  CHECK(error_for([](nlohmann::json& j) { j["dropout"] = 1.0; }).find("dropout") != std::string::npos);
  CHECK(error_for([](nlohmann::json& j) { j["arch"] = "lstm"; }).find("arch 'lstm'") != std::string::npos);

  GptLM model(small_config(true));
  std::vector<int32_t> inputs = {1, 2, 11}, targets = {1, 2, 3};
  CHECK_THROWS_WITH_AS(model.forward(inputs.data(), targets.data(), 1, 3, false, nullptr),
                       doctest::Contains("input token id 11 at position 2"), Error);
  std::vector<int32_t> long_inputs(9, 1), long_targets(9, 1);
  CHECK_THROWS_WITH_AS(model.forward(long_inputs.data(), long_targets.data(), 1, 9, false, nullptr),
                       doctest::Contains("sequence length 9 exceeds the model's context_size 8"), Error);
  CHECK_THROWS_WITH_AS(model.step(11), doctest::Contains("token id 11"), Error);
}
