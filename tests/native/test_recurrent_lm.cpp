// RecurrentLM: gradients against finite differences for every layer kind and depth, state carrying, dropout,
// generation steps agreeing with the batched forward, and input validation.
#include <doctest/doctest.h>

#include <cmath>

#include "gradient_check.hpp"
#include "kernels/kernels.hpp"
#include "models/recurrent_lm.hpp"
#include "tinylm/error.hpp"

using namespace tinylm;

namespace {

RecurrentConfig small_config(CellKind cell, int layers) {
  RecurrentConfig config;
  config.cell = cell;
  config.vocab_size = 7;
  config.embed_size = 5;
  config.hidden_size = 6;
  config.num_layers = layers;
  return config;
}

std::vector<int32_t> random_ids(int count, int vocab, uint64_t seed) {
  Rng rng(seed);
  std::vector<int32_t> ids(count);
  for (int32_t& id : ids) id = int32_t(rng.below(uint32_t(vocab)));
  return ids;
}

}  // namespace

TEST_CASE("recurrent models: backward matches finite differences") {
  for (CellKind cell : {CellKind::RnnTanh, CellKind::RnnRelu, CellKind::Lstm, CellKind::Gru}) {
    for (int layers : {1, 2}) {
      const std::string cell_name = cell_kind_name(cell);
      CAPTURE(cell_name);
      CAPTURE(layers);
      RecurrentLM model(small_config(cell, layers));
      Rng rng(3);
      model.initialize(rng);
      // 2×5 positions < 2V: the first layer multiplies every position; 4×5 ≥ 2V: it projects the V embedding
      // rows once and gathers (both paths of RecurrentLM::forward/backward).
      for (int B : {2, 4}) {
        const int T = 5;
        CAPTURE(B);
        std::vector<int32_t> inputs = random_ids(B * T, 7, 11), targets = random_ids(B * T, 7, 12);
        targets[3] = -1;  // ignored positions carry no gradient
        testing::GradientCheckOptions options;
        // ReLU's kink: a finite step that carries a pre-activation across 0 measures a different slope; a smaller
        // step makes that rare (at the price of more float rounding, which the tolerance accounts for).
        if (cell == CellKind::RnnRelu) options.epsilon = 1e-3f;
        testing::check_gradients(model, inputs, targets, B, T, options);
      }
    }
  }
}

TEST_CASE("recurrent models: step() reproduces the batched forward") {
  for (CellKind cell : {CellKind::RnnTanh, CellKind::Lstm, CellKind::Gru}) {
    const std::string cell_name = cell_kind_name(cell);
      CAPTURE(cell_name);
    RecurrentLM model(small_config(cell, 2));
    Rng rng(5);
    model.initialize(rng);
    model.set_step_precision(RecurrentLM::StepPrecision::Float);
    const int T = 9, V = 7;
    const std::vector<int32_t> inputs = random_ids(T, V, 21), targets = random_ids(T, V, 22);
    model.forward(inputs.data(), targets.data(), 1, T, false, nullptr);
    const std::vector<float> batched(model.logits(), model.logits() + T * V);
    model.reset_state();
    for (int t = 0; t < T; ++t) {
      const float* logits = model.step(inputs[t]);
      for (int v = 0; v < V; ++v) CHECK(logits[v] == doctest::Approx(batched[t * V + v]).epsilon(1e-5));
    }
  }
}

TEST_CASE("recurrent models: half-precision steps stay within half's rounding of the float steps") {
  for (CellKind cell : {CellKind::RnnTanh, CellKind::Lstm, CellKind::Gru}) {
    const std::string cell_name = cell_kind_name(cell);
    CAPTURE(cell_name);
    RecurrentConfig config = small_config(cell, 2);
    config.hidden_size = 40;  // several SIMD widths plus a tail
    RecurrentLM model(config);
    Rng rng(8);
    model.initialize(rng);
    const std::vector<int32_t> tokens = random_ids(30, 7, 61);
    std::vector<float> exact;
    model.set_step_precision(RecurrentLM::StepPrecision::Float);
    model.reset_state();
    for (int32_t token : tokens) {
      const float* logits = model.step(token);
      exact.insert(exact.end(), logits, logits + 7);
    }
    model.set_step_precision(RecurrentLM::StepPrecision::Half);
    model.reset_state();
    double worst = 0, scale = 0;
    for (size_t t = 0; t < tokens.size(); ++t) {
      const float* logits = model.step(tokens[t]);
      for (int v = 0; v < 7; ++v) {
        worst = std::max(worst, double(std::abs(logits[v] - exact[t * 7 + v])));
        scale = std::max(scale, double(std::abs(exact[t * 7 + v])));
      }
    }
    // Each weight carries a relative rounding of at most 2^-11; through two layers and the head that stays
    // within a few 1e-3 of the logits' scale. Zero difference would mean the half path was not taken.
    CHECK(worst <= 4e-3 * scale);
    if (half_weights_are_fast()) CHECK(worst > 0);
  }
}

TEST_CASE("recurrent models: state carries across windows until reset") {
  RecurrentLM model(small_config(CellKind::Lstm, 1));
  Rng rng(9);
  model.initialize(rng);
  const std::vector<int32_t> inputs = random_ids(8, 7, 31), targets = random_ids(8, 7, 32);
  const float first = model.forward(inputs.data(), targets.data(), 1, 8, false, nullptr);
  const float carried = model.forward(inputs.data(), targets.data(), 1, 8, false, nullptr);
  CHECK(carried != first);
  model.reset_train_state();
  CHECK(model.forward(inputs.data(), targets.data(), 1, 8, false, nullptr) == first);

  SUBCASE("two windows with carried state equal one long window") {
    std::vector<int32_t> long_inputs = inputs, long_targets = targets;
    long_inputs.insert(long_inputs.end(), inputs.begin(), inputs.end());
    long_targets.insert(long_targets.end(), targets.begin(), targets.end());
    model.reset_train_state();
    model.forward(long_inputs.data(), long_targets.data(), 1, 16, false, nullptr);
    const float* long_logits = model.logits();
    std::vector<float> second_half(long_logits + 8 * 7, long_logits + 16 * 7);
    model.reset_train_state();
    model.forward(inputs.data(), targets.data(), 1, 8, false, nullptr);
    model.forward(inputs.data(), targets.data(), 1, 8, false, nullptr);
    for (int i = 0; i < 8 * 7; ++i) CHECK(model.logits()[i] == doctest::Approx(second_half[i]).epsilon(1e-5));
  }
}

TEST_CASE("recurrent models: dropout is active in training only and is reproducible") {
  RecurrentConfig config = small_config(CellKind::Gru, 2);
  config.dropout = 0.5f;
  RecurrentLM model(config);
  Rng init(1);
  model.initialize(init);
  const std::vector<int32_t> inputs = random_ids(12, 7, 41), targets = random_ids(12, 7, 42);
  model.reset_train_state();
  const float eval_loss = model.forward(inputs.data(), targets.data(), 2, 6, false, nullptr);
  Rng a(100), b(100);
  model.reset_train_state();
  const float train_a = model.forward(inputs.data(), targets.data(), 2, 6, true, &a);
  model.reset_train_state();
  const float train_b = model.forward(inputs.data(), targets.data(), 2, 6, true, &b);
  CHECK(train_a == train_b);
  CHECK(train_a != eval_loss);
  CHECK_THROWS_AS(model.forward(inputs.data(), targets.data(), 2, 6, true, nullptr), Error);
}

TEST_CASE("recurrent models: invalid input is rejected with the value named") {
  RecurrentLM model(small_config(CellKind::Lstm, 1));
  std::vector<int32_t> inputs = {1, 2, 9}, targets = {1, 2, 3};
  CHECK_THROWS_WITH_AS(model.forward(inputs.data(), targets.data(), 1, 3, false, nullptr),
                       doctest::Contains("input token id 9 at position 2"), Error);
  CHECK_THROWS_WITH_AS(model.step(-1), doctest::Contains("token id -1"), Error);
  RecurrentConfig bad = small_config(CellKind::Lstm, 0);
  CHECK_THROWS_WITH_AS(RecurrentLM{bad}, doctest::Contains("num_layers"), Error);
}

TEST_CASE("recurrent models: evaluate() scores every prediction of a stream") {
  RecurrentLM model(small_config(CellKind::Lstm, 1));
  Rng rng(2);
  model.initialize(rng);
  const std::vector<int32_t> tokens = random_ids(40, 7, 51);
  const EvalStats stats = model.evaluate(tokens);
  CHECK(stats.tokens == 39);
  // Reference: one token at a time through step().
  model.reset_state();
  double loss = 0;
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    const float* logits = model.step(tokens[i]);
    double max_logit = logits[0], total = 0;
    for (int v = 1; v < 7; ++v) max_logit = std::max(max_logit, double(logits[v]));
    for (int v = 0; v < 7; ++v) total += std::exp(logits[v] - max_logit);
    loss += -(logits[tokens[i + 1]] - max_logit - std::log(total));
  }
  CHECK(stats.loss == doctest::Approx(loss / 39).epsilon(1e-5));
  CHECK(stats.perplexity == doctest::Approx(std::exp(stats.loss)));
}
