// LlamaLM and its layers: every backward against central finite differences (RMSNorm, rotary, SwiGLU MLP,
// grouped-query attention at the layer level; whole models tied and untied, with and without biases, multi-head,
// grouped and multi-query), rotary frequencies for each rope_scaling variant, KV-cache generation against the
// batched forward — before and after the window slides —, half-precision steps, evaluation, model files, and
// config/input validation.
#include <doctest/doctest.h>

#include <cmath>
#include <numeric>

#include "gradient_check.hpp"
#include "io/safetensors.hpp"
#include "kernels/kernels.hpp"
#include "kernels/llama_kernels.hpp"
#include "layer_gradient_check.hpp"
#include "layers/attention.hpp"
#include "layers/rmsnorm.hpp"
#include "layers/rotary.hpp"
#include "layers/swiglu_mlp.hpp"
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

// ---- layers ---------------------------------------------------------------------------------------------
TEST_CASE("llama layers: rmsnorm backward matches finite differences") {
  const int N = 5, C = 7;
  Rng rng(1);
  std::vector<float> x = random_values(N * C, rng), weight = random_values(C, rng);
  std::vector<float> dx(x.size()), dweight(C);
  RmsNormCache cache;
  auto forward = [&](std::vector<float>& out) {
    out.assign(N * C, 0.0f);
    rmsnorm_forward(out.data(), cache, x.data(), weight.data(), 1e-5f, N, C);
  };
  auto backward = [&](const std::vector<float>& dout) {
    rmsnorm_backward(dx.data(), dweight.data(), dout.data(), x.data(), weight.data(), cache, N, C);
  };
  check_layer_gradients(forward, backward, {{"x", &x, &dx}, {"weight", &weight, &dweight}});
}

TEST_CASE("llama layers: rotary rows backward matches finite differences; scores depend on relative positions") {
  const int B = 2, T = 5, heads = 3, D = 6, ld = heads * D + 2;  // two trailing floats per row stay untouched
  RotaryTable table;
  RopeConfig rope;
  rope.theta = 50.0f;
  table.build(rope, D, T);
  Rng rng(2);
  std::vector<float> x = random_values(int64_t(B) * T * ld, rng), dx(x.size());
  auto forward = [&](std::vector<float>& out) {
    out = x;
    rotary_rows_forward(out.data(), ld, table, heads, D, B, T);
  };
  auto backward = [&](const std::vector<float>& dout) {
    std::vector<float> gradient = dout;
    rotary_rows_backward(gradient.data(), ld, table, heads, D, B, T);
    for (size_t i = 0; i < dx.size(); ++i) dx[i] += gradient[i];
  };
  check_layer_gradients(forward, backward, {{"x", &x, &dx}});

  // q·k of two rotated vectors depends on their positions' difference only: RoPE's point.
  std::vector<float> q = random_values(D, rng), k = random_values(D, rng);
  RotaryTable long_table;
  long_table.build(rope, D, 12);
  auto rotated_dot = [&](int q_position, int k_position) {
    std::vector<float> rq = q, rk = k;
    rotary_forward(rq.data(), long_table.cos_at(q_position), long_table.sin_at(q_position), 1, D);
    rotary_forward(rk.data(), long_table.cos_at(k_position), long_table.sin_at(k_position), 1, D);
    return std::inner_product(rq.begin(), rq.end(), rk.begin(), 0.0);
  };
  CHECK(rotated_dot(7, 3) == doctest::Approx(rotated_dot(4, 0)).epsilon(1e-5));
  CHECK(rotated_dot(11, 9) == doctest::Approx(rotated_dot(2, 0)).epsilon(1e-5));
  CHECK(rotated_dot(0, 0) == doctest::Approx(std::inner_product(q.begin(), q.end(), k.begin(), 0.0)).epsilon(1e-6));
}

TEST_CASE("llama layers: rope inverse frequencies follow Hugging Face's rules for each rope_scaling") {
  const int D = 64;
  RopeConfig rope;
  rope.theta = 500000.0f;
  const std::vector<float> plain = rope_inverse_frequencies(rope, D);
  REQUIRE(plain.size() == 32);
  for (int i = 0; i < 32; ++i) CHECK(plain[i] == doctest::Approx(std::pow(500000.0, -2.0 * i / D)).epsilon(1e-6));
  CHECK(plain[0] == 1.0f);

  rope.scaling = RopeScaling::Dynamic;  // within max_position_embeddings: the unscaled rule
  rope.factor = 2.0f;
  CHECK(rope_inverse_frequencies(rope, D) == plain);

  rope.scaling = RopeScaling::Linear;
  rope.factor = 4.0f;
  const std::vector<float> linear = rope_inverse_frequencies(rope, D);
  for (int i = 0; i < 32; ++i) CHECK(linear[i] == plain[i] / 4.0f);

  // Llama 3.1/3.2: factor 32, low 1, high 4, original context 8192 — wavelengths over 8192 divided by 32, under
  // 2048 kept, and blended between by smooth = (8192/wavelength − 1)/(4 − 1).
  rope.scaling = RopeScaling::Llama3;
  rope.factor = 32.0f;
  rope.low_freq_factor = 1.0f;
  rope.high_freq_factor = 4.0f;
  rope.original_context = 8192;
  const std::vector<float> llama3 = rope_inverse_frequencies(rope, D);
  int kept = 0, divided = 0, blended = 0;
  for (int i = 0; i < 32; ++i) {
    const double wavelength = 2 * M_PI / plain[i];
    CAPTURE(i);
    if (wavelength < 2048) {
      CHECK(llama3[i] == plain[i]);
      ++kept;
    } else if (wavelength > 8192) {
      CHECK(llama3[i] == doctest::Approx(plain[i] / 32.0).epsilon(1e-6));
      ++divided;
    } else {
      const double smooth = (8192 / wavelength - 1) / 3;
      CHECK(llama3[i] == doctest::Approx((1 - smooth) * plain[i] / 32 + smooth * plain[i]).epsilon(1e-6));
      ++blended;
    }
  }
  CHECK(kept > 0);
  CHECK(divided > 0);
  CHECK(blended > 0);

  // The table: angles p·inv_freq rounded to float, so position 0 is the identity.
  RotaryTable table;
  table.build(RopeConfig{}, 8, 3);
  for (int i = 0; i < 4; ++i) {
    CHECK(table.cos_at(0)[i] == 1.0f);
    CHECK(table.sin_at(0)[i] == 0.0f);
    const float inv_freq = rope_inverse_frequencies(RopeConfig{}, 8)[i];
    CHECK(table.cos_at(2)[i] == float(std::cos(double(2.0f * inv_freq))));
  }
}

TEST_CASE("llama layers: swiglu mlp backward matches finite differences, with and without biases") {
  for (bool bias : {true, false}) {
    CAPTURE(bias);
    const int N = 4, C = 5, H = 7;
    Rng rng(5);
    std::vector<float> in = random_values(N * C, rng), gate_up = random_values(2 * H * C, rng, 0.5f),
                       gate_up_bias = random_values(2 * H, rng, 0.5f), down = random_values(C * H, rng, 0.5f),
                       down_bias = random_values(C, rng);
    std::vector<float> din(in.size()), dgate_up(gate_up.size()), dgate_up_bias(gate_up_bias.size()),
        ddown(down.size()), ddown_bias(down_bias.size());
    SwigluCache cache;
    const SwigluWeights weights = {gate_up.data(), bias ? gate_up_bias.data() : nullptr, down.data(),
                                   bias ? down_bias.data() : nullptr};
    const SwigluGrads grads = {dgate_up.data(), bias ? dgate_up_bias.data() : nullptr, ddown.data(),
                               bias ? ddown_bias.data() : nullptr};
    auto forward = [&](std::vector<float>& out) {
      out.assign(N * C, 0.0f);
      swiglu_mlp_forward(nullptr, out.data(), cache, in.data(), weights, N, C, H);
    };
    auto backward = [&](const std::vector<float>& dout) {
      swiglu_mlp_backward(nullptr, din.data(), grads, dout.data(), in.data(), cache, weights, N, C, H);
    };
    std::vector<LayerInput> inputs = {{"in", &in, &din}, {"gate_up", &gate_up, &dgate_up}, {"down", &down, &ddown}};
    if (bias) {
      inputs.push_back({"gate_up_bias", &gate_up_bias, &dgate_up_bias});
      inputs.push_back({"down_bias", &down_bias, &ddown_bias});
    }
    check_layer_gradients(forward, backward, inputs, 1e-3f);
  }
}

TEST_CASE("llama layers: grouped-query attention backward matches finite differences") {
  // T = 37 spans two query blocks and a partial third; NH 4 query heads over 4 (multi-head), 2 and 1 (multi-query).
  const int B = 2, T = 37, NH = 4, D = 3;
  for (int KVH : {4, 2, 1}) {
    for (float dropout : {0.0f, 0.3f}) {
      CAPTURE(KVH);
      CAPTURE(dropout);
      const AttentionHeads heads{NH, KVH, D};
      const int QKV = (NH + 2 * KVH) * D;
      Rng rng(3);
      std::vector<float> qkv = random_values(int64_t(B) * T * QKV, rng), dqkv(qkv.size());
      AttentionCache cache;
      auto forward = [&](std::vector<float>& out) {
        out.assign(int64_t(B) * T * NH * D, 0.0f);
        Rng mask_rng(99);
        attention_forward(nullptr, out.data(), cache, qkv.data(), heads, dropout, &mask_rng, B, T);
      };
      auto backward = [&](const std::vector<float>& dout) {
        attention_backward(nullptr, dqkv.data(), dout.data(), qkv.data(), cache, heads, B, T);
      };
      check_layer_gradients(forward, backward, {{"qkv", &qkv, &dqkv}});
    }
  }
}

TEST_CASE("llama layers: grouped-query attention equals multi-head attention over repeated key/value heads") {
  // Hugging Face's repeat_kv: query head h reads key/value head h / (NH/KVH).
  const int B = 2, T = 11, NH = 6, KVH = 2, D = 5, group = NH / KVH;
  Rng rng(4);
  const std::vector<float> grouped = random_values(int64_t(B) * T * (NH + 2 * KVH) * D, rng);
  std::vector<float> repeated(int64_t(B) * T * 3 * NH * D);
  for (int64_t row = 0; row < int64_t(B) * T; ++row) {
    const float* in = grouped.data() + row * (NH + 2 * KVH) * D;
    float* out = repeated.data() + row * 3 * NH * D;
    for (int h = 0; h < NH; ++h) {
      for (int d = 0; d < D; ++d) {
        out[h * D + d] = in[h * D + d];
        out[(NH + h) * D + d] = in[(NH + h / group) * D + d];
        out[(2 * NH + h) * D + d] = in[(NH + KVH + h / group) * D + d];
      }
    }
  }
  std::vector<float> out_grouped(int64_t(B) * T * NH * D), out_repeated(out_grouped.size());
  AttentionCache cache;
  attention_forward(nullptr, out_grouped.data(), cache, grouped.data(), AttentionHeads{NH, KVH, D}, 0.0f, nullptr, B, T);
  attention_forward(nullptr, out_repeated.data(), cache, repeated.data(), 0.0f, nullptr, B, T, NH * D, NH);
  CHECK(out_grouped == out_repeated);

  // The cached (generation) path over the same keys: the last position of batch row 1.
  std::vector<float> keys(int64_t(KVH) * T * D), values(keys.size());
  for (int t = 0; t < T; ++t) {
    const float* row = grouped.data() + (int64_t(T) + t) * (NH + 2 * KVH) * D;
    for (int g = 0; g < KVH; ++g) {
      for (int d = 0; d < D; ++d) {
        keys[(int64_t(g) * T + t) * D + d] = row[(NH + g) * D + d];
        values[(int64_t(g) * T + t) * D + d] = row[(NH + KVH + g) * D + d];
      }
    }
  }
  std::vector<float> out_cached(NH * D), probs(NH * T);
  const float* last_query = grouped.data() + (2 * int64_t(T) - 1) * (NH + 2 * KVH) * D;
  attention_cached_forward(nullptr, out_cached.data(), probs.data(), last_query, keys.data(), values.data(), T, T,
                           AttentionHeads{NH, KVH, D});
  CHECK(relative_error(out_cached.data(), out_grouped.data() + (2 * int64_t(T) - 1) * NH * D, NH * D) <= 1e-5);
}

// ---- the whole model -------------------------------------------------------------------------------------
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
