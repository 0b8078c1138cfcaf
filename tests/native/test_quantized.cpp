// Int8 weights: the SIMD int8 matrix-vector kernel against its scalar reference at every tile boundary, per-row
// quantisation's error bound and idempotence, I8 tensors through safetensors, model files stored as F16 / int8
// (naming, validation with helpful errors, loss close to float), a recurrent model generating from int8, and a
// GPT loaded from int8.
//
// Tolerances follow test_matrix_product_kernels.cpp: a K-term dot product in float is within K·max|a·x|·eps of the
// exact one; quantisation moves each weight by at most half a step (scale/2).
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <vector>

#include <doctest/doctest.h>

#include "load_error.hpp"
#include "io/safetensors.hpp"
#include "kernel_test_support.hpp"
#include "kernels/kernels.hpp"
#include "models/gpt.hpp"
#include "models/model_common.hpp"
#include "models/recurrent_lm.hpp"
#include "tinylm/error.hpp"
#include "tinylm/model.hpp"
#include "tinylm/rng.hpp"

using namespace tinylm;
using tinylm::testing::load_error;

namespace {

std::vector<float> uniform_values(size_t n, Rng& rng, float amplitude) {
  std::vector<float> values(n);
  for (float& v : values) v = (2.0f * rng.uniform() - 1.0f) * amplitude;
  return values;
}

Model small_model(int hidden) {
  Model model;
  model.tokenizer = fit_char_tokenizer("call me ishmael. some years ago, never mind how long precisely");
  RecurrentConfig config;
  config.vocab_size = model.tokenizer->vocab_size();
  config.embed_size = 8;
  config.hidden_size = hidden;
  config.num_layers = 2;
  auto network = std::make_unique<RecurrentLM>(config);
  Rng rng(11);
  network->initialize(rng);
  model.network = std::move(network);
  return model;
}

// An int8 file of `model` with its tensor list edited by `edit`.
std::vector<uint8_t> edited_int8_file(const Model& model, const std::function<void(std::vector<TensorToWrite>&)>& edit) {
  StoredTensors stored = tensors_for_storage(model.network->tensors_to_save(), WeightStorage::Int8);
  edit(stored.tensors);
  return serialize_safetensors(stored.tensors, {{"format", "tinylm"},
                                                {"format_version", "1"},
                                                {"config", model.network->config_json().dump()},
                                                {"tokenizer", model.tokenizer->to_json().dump()}});
}

}  // namespace

TEST_CASE("quantized: sgemv_q8 equals the reference at every tile boundary") {
  using namespace tinylm::testing;
  Rng rng(31);
  std::vector<int> sizes = tile_sizes();
  sizes.push_back(256);
  sizes.push_back(259);
  for (int M : {1, 3, 4, 5, 9, 17}) {
    for (int K : sizes) {
      for (float beta : {0.0f, 1.0f}) {
        CAPTURE(M);
        CAPTURE(K);
        CAPTURE(beta);
        const int lda = K + 3;  // rows further apart than their length
        std::vector<int8_t> A(size_t(M) * lda);
        for (int8_t& a : A) a = static_cast<int8_t>(int(rng.uniform() * 255.0f) - 127);
        const std::vector<float> scales = uniform_values(M, rng, 0.05f), x = uniform_values(K, rng, 1.0f);
        std::vector<float> y = with_guard(std::vector<float>(M, beta == 0.0f ? NAN : 0.25f)), reference(M, 0.25f);
        // (beta 0 must ignore what y held: NaN there would otherwise propagate)
        sgemv_q8(y.data(), A.data(), scales.data(), lda, x.data(), M, K, beta);
        ref::sgemv_q8(reference.data(), A.data(), scales.data(), lda, x.data(), M, K, beta);
        for (int i = 0; i < M; ++i) {
          const double bound = double(K) * 127.0 * std::fabs(scales[i]) * eps * 2 + 1e-6;
          CHECK(std::fabs(y[i] - reference[i]) <= bound);
        }
        check_guard(y, M, "sgemv_q8");
      }
    }
  }
}

TEST_CASE("quantized: per-row int8 is within half a step, exact on its own output, and zero-safe") {
  Rng rng(5);
  const int M = 7, K = 37;
  std::vector<float> W = uniform_values(size_t(M) * K, rng, 0.3f);
  for (int k = 0; k < K; ++k) W[size_t(2) * K + k] = 0.0f;  // an all-zero row
  W[size_t(4) * K + 3] = 9.0f;                                // one outlier row
  std::vector<int8_t> Q(W.size()), Q_again(W.size());
  std::vector<float> scales(M), scales_again(M), dequantised(W.size());
  REQUIRE(quantize_rows_int8(Q.data(), scales.data(), W.data(), M, K));
  CHECK(scales[2] == 0.0f);
  for (int i = 0; i < M; ++i) {
    for (int k = 0; k < K; ++k) {
      const size_t at = size_t(i) * K + k;
      CHECK(Q[at] >= -127);
      dequantised[at] = scales[i] * float(Q[at]);
      CHECK(std::fabs(dequantised[at] - W[at]) <= scales[i] * 0.5f * (1.0f + 1e-5f) + 1e-12f);
    }
  }
  // A model loaded from an int8 file requantises its dequantised floats for generation: the same integers.
  REQUIRE(quantize_rows_int8(Q_again.data(), scales_again.data(), dequantised.data(), M, K));
  CHECK(Q_again == Q);
  for (int i = 0; i < M; ++i) CHECK(scales_again[i] == doctest::Approx(scales[i]).epsilon(1e-6));
  W[5] = NAN;
  CHECK_FALSE(quantize_rows_int8(Q.data(), scales.data(), W.data(), M, K));
}

TEST_CASE("quantized: quantize_rows_int8 gives the reference's bytes and scales at every width, and refuses non-finite rows") {
  Rng rng(8);
  for (int K : {1, 3, 4, 7, 8, 15, 16, 17, 31, 33, 64, 70}) {
    const int M = 5;
    std::vector<float> W = uniform_values(size_t(M) * K, rng, 2.0f);
    for (int k = 0; k < K; ++k) W[size_t(1) * K + k] = 0.0f;               // all zero
    W[size_t(2) * K] = -0.0f;                                              // a negative zero
    W[size_t(3) * K + K / 2] = -40.0f;                                     // an outlier mid-row
    for (int k = 0; k < K; ++k) W[size_t(4) * K + k] = (k % 3 - 1) * 0.5f;  // ties at ±0.5 step
    std::vector<int8_t> Q(W.size()), expected(W.size());
    std::vector<float> scales(M), expected_scales(M);
    REQUIRE(quantize_rows_int8(Q.data(), scales.data(), W.data(), M, K));
    REQUIRE(ref::quantize_rows_int8(expected.data(), expected_scales.data(), W.data(), M, K));
    CHECK(Q == expected);
    CHECK(scales == expected_scales);
    for (float bad : {NAN, INFINITY, -INFINITY}) {
      for (int at : {0, K - 1}) {  // in the vector body and in the scalar tail
        std::vector<float> poisoned = W;
        poisoned[size_t(3) * K + at] = bad;
        CHECK_FALSE(quantize_rows_int8(Q.data(), scales.data(), poisoned.data(), M, K));
        CHECK_FALSE(ref::quantize_rows_int8(expected.data(), expected_scales.data(), poisoned.data(), M, K));
      }
    }
  }
}

TEST_CASE("quantized: quantize_rows_int16 gives quantize_rows_int8's values and scales as int16, zeros past K") {
  Rng rng(9);
  for (int K : {1, 3, 4, 7, 8, 15, 16, 17, 31, 33, 64, 70}) {
    const int M = 5, ldq = K + 3;
    std::vector<float> X = uniform_values(size_t(M) * K, rng, 2.0f);
    for (int k = 0; k < K; ++k) X[size_t(1) * K + k] = 0.0f;               // all zero
    X[size_t(2) * K] = -0.0f;                                              // a negative zero
    X[size_t(3) * K + K / 2] = -40.0f;                                     // an outlier mid-row
    for (int k = 0; k < K; ++k) X[size_t(4) * K + k] = (k % 3 - 1) * 0.5f;  // ties at ±0.5 step
    std::vector<int8_t> bytes(X.size());
    std::vector<float> byte_scales(M), scales(M, -1.0f), ref_scales(M, -1.0f);
    REQUIRE(ref::quantize_rows_int8(bytes.data(), byte_scales.data(), X.data(), M, K));
    std::vector<int16_t> Q(size_t(M) * ldq, 99), expected(size_t(M) * ldq, 99);
    REQUIRE(quantize_rows_int16(Q.data(), ldq, scales.data(), X.data(), M, K));
    REQUIRE(ref::quantize_rows_int16(expected.data(), ldq, ref_scales.data(), X.data(), M, K));
    CHECK(Q == expected);
    CHECK(scales == ref_scales);
    CHECK(scales == byte_scales);
    for (int i = 0; i < M; ++i) {
      for (int k = 0; k < ldq; ++k) CHECK(Q[size_t(i) * ldq + k] == (k < K ? bytes[size_t(i) * K + k] : 0));
    }
    for (float bad : {NAN, INFINITY, -INFINITY}) {
      for (int at : {0, K - 1}) {  // in the vector body and in the scalar tail
        std::vector<float> poisoned = X;
        poisoned[size_t(3) * K + at] = bad;
        CHECK_FALSE(quantize_rows_int16(Q.data(), ldq, scales.data(), poisoned.data(), M, K));
        CHECK_FALSE(ref::quantize_rows_int16(expected.data(), ldq, ref_scales.data(), poisoned.data(), M, K));
      }
    }
  }
}

TEST_CASE("quantized: I8 tensors survive safetensors byte for byte") {
  const std::vector<int8_t> values = {-127, -1, 0, 1, 127, 5};
  TensorToWrite tensor{"w", {2, 3}, nullptr, DType::I8};
  tensor.int8_values = values.data();
  const std::vector<uint8_t> bytes = serialize_safetensors({tensor}, {});
  const SafetensorsFile file = parse_safetensors(bytes.data(), bytes.size());
  const SafetensorsEntry* entry = file.find("w");
  REQUIRE(entry != nullptr);
  CHECK(entry->dtype == DType::I8);
  CHECK(file.read_i8(*entry) == values);
  CHECK_THROWS_WITH_AS(file.read_f32(*entry), doctest::Contains("per-row scales"), Error);
}

TEST_CASE("quantized: model files stored as F16 and int8 load back close to float, named as documented") {
  Model model = small_model(24);
  const std::vector<int32_t> tokens = model.tokenizer->encode("call me ishmael. some years ago, never mind how long");
  const double float_loss = model.network->evaluate(tokens).loss;
  const std::vector<uint8_t> f32 = serialize_model(model), f16 = serialize_model(model, WeightStorage::F16),
                             int8 = serialize_model(model, WeightStorage::Int8);
  CHECK(f16.size() < f32.size() * 6 / 10);
  CHECK(int8.size() < f32.size() * 4 / 10);

  const SafetensorsFile parsed = parse_safetensors(int8.data(), int8.size());
  REQUIRE(parsed.find("head.weight") != nullptr);
  CHECK(parsed.find("head.weight")->dtype == DType::I8);
  REQUIRE(parsed.find("head.weight.scale") != nullptr);
  CHECK(parsed.find("head.weight.scale")->dtype == DType::F32);
  CHECK(parsed.find("head.weight.scale")->shape == Shape{model.network->vocab_size()});
  CHECK(parsed.find("head.bias")->dtype == DType::F32);    // 1-D stays float
  CHECK(parsed.find("embed.weight")->dtype == DType::I8);  // rows = tokens

  for (const std::vector<uint8_t>* bytes : {&f16, &int8}) {
    Model loaded = load_model_bytes(bytes->data(), bytes->size());
    const double loss = loaded.network->evaluate(tokens).loss;
    CHECK(std::fabs(loss - float_loss) <= 0.01 * float_loss);
  }
}

TEST_CASE("quantized: a recurrent model loaded from int8 generates from int8, matching its forward()") {
  Model model = small_model(40);
  const std::vector<uint8_t> int8 = serialize_model(model, WeightStorage::Int8);
  Model loaded = load_model_bytes(int8.data(), int8.size());
  auto& network = dynamic_cast<RecurrentLM&>(*loaded.network);
  CHECK(network.step_precision() == RecurrentLM::StepPrecision::Int8);
  // step() over int8 copies of the dequantised weights computes what forward() computes from those weights.
  const std::vector<int32_t> tokens = loaded.tokenizer->encode("some years ago");
  const int T = static_cast<int>(tokens.size()), V = network.vocab_size();
  std::vector<int32_t> targets(tokens.begin() + 1, tokens.end());
  targets.push_back(-1);
  network.reset_train_state();
  network.forward(tokens.data(), targets.data(), 1, T, false, nullptr);
  const std::vector<float> forward_logits(network.logits(), network.logits() + size_t(T) * V);
  network.reset_state();
  for (int t = 0; t < T; ++t) {
    const float* logits = network.step(tokens[t]);
    for (int v = 0; v < V; ++v) CHECK(logits[v] == doctest::Approx(forward_logits[size_t(t) * V + v]).epsilon(1e-4));
  }
  // Float and Int8 steps of a float model differ by the quantisation only.
  Model float_model = small_model(40);
  auto& float_network = dynamic_cast<RecurrentLM&>(*float_model.network);
  float_network.set_step_precision(RecurrentLM::StepPrecision::Float);
  float_network.reset_state();
  const float* exact_logits = float_network.step(tokens[0]);
  const std::vector<float> exact(exact_logits, exact_logits + V);
  float_network.set_step_precision(RecurrentLM::StepPrecision::Int8);
  float_network.reset_state();
  const float* quantised = float_network.step(tokens[0]);
  for (int v = 0; v < V; ++v) CHECK(std::fabs(quantised[v] - exact[v]) <= 0.02f);
}

TEST_CASE("quantized: a GPT stored as int8 loads back with logits close to float") {
  Model model;
  model.tokenizer = fit_char_tokenizer("call me ishmael. some years ago, never mind how long precisely");
  GptConfig config;
  config.vocab_size = model.tokenizer->vocab_size();
  config.context_size = 16;
  config.embed_size = 16;
  config.num_layers = 2;
  config.num_heads = 2;
  auto network = std::make_unique<GptLM>(config);
  Rng rng(23);
  network->initialize(rng);
  // nanoGPT's N(0, 0.02) matrices give near-uniform logits; widen them (to N(0, 0.1)) so there is something to see.
  Parameters& params = network->parameters();
  for (const TensorSpec& spec : params.table.tensors()) {
    if (spec.shape.size() != 2) continue;
    for (int64_t i = 0; i < shape_numel(spec.shape); ++i) params.values[spec.offset + i] *= 5.0f;
  }
  model.network = std::move(network);
  const std::vector<int32_t> tokens = model.tokenizer->encode("call me ishmael. some years ago, never mind how");
  const double float_loss = model.network->evaluate(tokens).loss;

  const std::vector<uint8_t> int8 = serialize_model(model, WeightStorage::Int8);
  const SafetensorsFile parsed = parse_safetensors(int8.data(), int8.size());
  for (const char* name : {"transformer.wte.weight", "transformer.h.1.mlp.c_proj.weight", "lm_head.weight"}) {
    CAPTURE(name);
    REQUIRE(parsed.find(name) != nullptr);
    CHECK(parsed.find(name)->dtype == DType::I8);
    CHECK(parsed.find(std::string(name) + ".scale") != nullptr);
  }
  CHECK(parsed.find("transformer.ln_f.weight")->dtype == DType::F32);  // 1-D stays float

  Model loaded = load_model_bytes(int8.data(), int8.size());
  CHECK(std::fabs(loaded.network->evaluate(tokens).loss - float_loss) <= 0.01 * float_loss);
  // Each weight moves by at most half a quantisation step (1/254 of its row's largest magnitude); through two
  // blocks, their LayerNorms and the tied head the logits move by a few percent of their largest magnitude
  // (2.3% at most here), where a misread tensor (wrong scale, wrong row) moves them by their whole size.
  const int V = config.vocab_size;
  for (Model* each : {&model, &loaded})  // float steps on both sides: the difference is the quantisation alone
    dynamic_cast<GptLM&>(*each->network).set_step_precision(GptLM::StepPrecision::Float);
  model.network->reset_state();
  loaded.network->reset_state();
  for (int32_t token : tokens) {
    const float* exact = model.network->step(token);
    const std::vector<float> expected(exact, exact + V);
    const float* quantised = loaded.network->step(token);
    float spread = 0, worst = 0;
    for (int v = 0; v < V; ++v) {
      spread = std::max(spread, std::fabs(expected[v]));
      worst = std::max(worst, std::fabs(quantised[v] - expected[v]));
    }
    CHECK(worst <= 0.05f * spread);
  }

  // The scales are checked as for a recurrent model: a missing one is named.
  CHECK(load_error(edited_int8_file(model, [](std::vector<TensorToWrite>& tensors) {
          for (size_t i = 0; i < tensors.size(); ++i)
            if (tensors[i].name == "transformer.h.0.attn.c_attn.weight.scale") tensors.erase(tensors.begin() + long(i));
        })).find("'transformer.h.0.attn.c_attn.weight' is I8 but the file has no") != std::string::npos);
}

TEST_CASE("quantized: broken int8 files are refused with the tensor named") {
  Model model = small_model(12);
  auto remove = [](std::vector<TensorToWrite>& tensors, const std::string& name) {
    for (size_t i = 0; i < tensors.size(); ++i)
      if (tensors[i].name == name) tensors.erase(tensors.begin() + long(i));
  };
  CHECK(load_error(edited_int8_file(model, [&](auto& tensors) { remove(tensors, "head.weight.scale"); }))
            .find("'head.weight' is I8 but the file has no 'head.weight.scale'") != std::string::npos);
  const std::vector<float> wrong(3, 0.1f);
  CHECK(load_error(edited_int8_file(model, [&](auto& tensors) {
          for (TensorToWrite& tensor : tensors)
            if (tensor.name == "head.weight.scale") tensor.shape = {3}, tensor.values = wrong.data();
        })).find("'head.weight.scale' has shape [3]") != std::string::npos);
  CHECK(load_error(edited_int8_file(model, [&](auto& tensors) {
          for (TensorToWrite& tensor : tensors)
            if (tensor.name == "head.weight.scale") tensor.dtype = DType::F16;
        })).find("'head.weight.scale' must be F32") != std::string::npos);
  // A scale whose matrix is float: the scale is refused as unused, with a hint about what .scale tensors are.
  StoredTensors float_tensors = tensors_for_storage(model.network->tensors_to_save(), WeightStorage::F32);
  std::vector<float> stray(model.network->vocab_size(), 1.0f);
  float_tensors.tensors.push_back({"head.weight.scale", Shape{model.network->vocab_size()}, stray.data()});
  const std::vector<uint8_t> stray_file = serialize_safetensors(
      float_tensors.tensors, {{"format", "tinylm"},
                              {"format_version", "1"},
                              {"config", model.network->config_json().dump()},
                              {"tokenizer", model.tokenizer->to_json().dump()}});
  CHECK(load_error(stray_file).find("a '.scale' tensor belongs to an I8 tensor") != std::string::npos);
  // A 1-D I8 tensor cannot carry per-row scales.
  const std::vector<int8_t> bias_bytes(model.network->vocab_size(), 1);
  CHECK(load_error(edited_int8_file(model, [&](auto& tensors) {
          for (TensorToWrite& tensor : tensors)
            if (tensor.name == "head.bias") tensor.dtype = DType::I8, tensor.int8_values = bias_bytes.data();
        })).find("only 2-D matrices") != std::string::npos);
}
