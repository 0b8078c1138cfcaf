// Sampling and generation: each filter's effect on the distribution, seeds, stop sequences, UTF-8 streaming,
// and the fusion of two models.
#include <doctest/doctest.h>

#include <cmath>
#include <map>

#include "generate/fusion.hpp"
#include "generate/generator.hpp"
#include "generate/sampler.hpp"
#include "io/safetensors.hpp"
#include "tinylm/error.hpp"

using namespace tinylm;

namespace {

// A model whose next-token logits are a fixed table row chosen by the last token: predictable generation.
class TableModel : public LanguageModel {
 public:
  TableModel(int vocab, std::vector<float> table) : vocab_(vocab), table_(std::move(table)) {}
  std::string arch() const override { return "table"; }
  int vocab_size() const override { return vocab_; }
  nlohmann::json config_json() const override { return {{"arch", "table"}}; }
  void reset_state() override {}
  const float* step(int32_t token) override { return table_.data() + int64_t(token) * vocab_; }
  EvalStats evaluate(const std::vector<int32_t>&) override { return {}; }
  std::vector<TensorToWrite> tensors_to_save() const override { return {}; }

 private:
  int vocab_;
  std::vector<float> table_;
};

// Deterministic cycle over a char tokenizer's ids: each token strongly predicts the next id.
TableModel cycle_model(int vocab) {
  std::vector<float> table(size_t(vocab) * vocab, 0.0f);
  for (int v = 0; v < vocab; ++v) table[size_t(v) * vocab + (v + 1) % vocab] = 10.0f;
  return TableModel(vocab, table);
}

std::vector<float> softmax(std::vector<float> x, float temperature) {
  float max = *std::max_element(x.begin(), x.end());
  double total = 0;
  for (float& v : x) total += (v = std::exp((v - max) / temperature));
  for (float& v : x) v = float(v / total);
  return x;
}

}  // namespace

TEST_CASE("sampler filters") {
  const std::vector<float> logits = {1.0f, 3.0f, 2.0f, 0.5f, 2.9f};
  SUBCASE("temperature 0 is greedy") {
    SamplingOptions options;
    options.temperature = 0;
    Sampler sampler(options, 5);
    for (int i = 0; i < 10; ++i) CHECK(sampler.sample(logits.data(), {}) == 1);
  }
  SUBCASE("samples follow softmax(logits / temperature)") {
    SamplingOptions options;
    options.temperature = 1.5f;
    options.seed = 3;
    Sampler sampler(options, 5);
    std::vector<int> counts(5);
    const int draws = 40000;
    for (int i = 0; i < draws; ++i) ++counts[sampler.sample(logits.data(), {})];
    const std::vector<float> expected = softmax(logits, 1.5f);
    for (int v = 0; v < 5; ++v) {
      const double sigma = std::sqrt(expected[v] * (1 - expected[v]) / draws);
      CHECK(std::abs(counts[v] / double(draws) - expected[v]) < 5 * sigma);
    }
  }
  SUBCASE("top-k keeps the k best") {
    SamplingOptions options;
    options.top_k = 2;
    Sampler sampler(options, 5);
    for (int i = 0; i < 200; ++i) {
      const int token = sampler.sample(logits.data(), {});
      CHECK((token == 1 || token == 4));
    }
    CHECK(sampler.last_probabilities()[0] == 0.0f);
    CHECK(sampler.last_probabilities()[1] + sampler.last_probabilities()[4] == doctest::Approx(1.0));
  }
  SUBCASE("top-p keeps the smallest set reaching the mass") {
    SamplingOptions options;
    options.top_p = 0.5f;  // p(1) ≈ 0.37, p(4) ≈ 0.33: both are needed to pass 0.5
    Sampler sampler(options, 5);
    sampler.sample(logits.data(), {});
    const std::vector<float>& p = sampler.last_probabilities();
    CHECK(p[1] > 0);
    CHECK(p[4] > 0);
    CHECK(p[2] == 0.0f);
    CHECK(p[1] + p[4] == doctest::Approx(1.0));
  }
  SUBCASE("top-k ranks negative, signed-zero and infinite scores, ties by id") {
    const std::vector<float> mixed = {-1.0f, 0.0f, -0.0f, -INFINITY, 2.0f, 2.0f, -3.5f, -0.5f};
    auto kept_for = [&](int k) {
      SamplingOptions options;
      options.top_k = k;
      Sampler sampler(options, 8);
      sampler.sample(mixed.data(), {});
      std::vector<int> kept;
      for (int v = 0; v < 8; ++v)
        if (sampler.last_probabilities()[v] > 0) kept.push_back(v);
      return kept;
    };
    CHECK(kept_for(1) == std::vector<int>{4});        // 2 and 2 tie: the lower id
    CHECK(kept_for(3) == std::vector<int>{1, 4, 5});  // then +0 before −0, which tie
    CHECK(kept_for(4) == std::vector<int>{1, 2, 4, 5});
    CHECK(kept_for(6) == std::vector<int>{0, 1, 2, 4, 5, 7});
    CHECK(kept_for(7) == std::vector<int>{0, 1, 2, 4, 5, 6, 7});  // −inf last (and weightless)
  }
  SUBCASE("top-p takes candidates best first when every score is negative") {
    SamplingOptions options;
    options.top_p = 0.6f;
    Sampler sampler(options, 4);
    const std::vector<float> negative = {-3.0f, -0.2f, -4.0f, -1.0f};  // p ≈ 0.05, 0.62, 0.02, 0.28
    sampler.sample(negative.data(), {});
    const std::vector<float>& p = sampler.last_probabilities();
    CHECK(p[1] == 1.0f);
    CHECK(p[0] + p[2] + p[3] == 0.0f);
  }
  SUBCASE("repetition penalty demotes tokens already seen") {
    SamplingOptions options;
    options.temperature = 0;
    options.repetition_penalty = 1.2f;  // 3.0 / 1.2 = 2.5 < 2.9
    Sampler sampler(options, 5);
    CHECK(sampler.sample(logits.data(), {1}) == 4);
    CHECK(sampler.sample(logits.data(), {0}) == 1);
  }
  SUBCASE("the same seed gives the same tokens") {
    SamplingOptions options;
    options.seed = 42;
    Sampler a(options, 5), b(options, 5);
    for (int i = 0; i < 100; ++i) CHECK(a.sample(logits.data(), {}) == b.sample(logits.data(), {}));
  }
  SUBCASE("invalid options name themselves") {
    SamplingOptions options;
    options.top_p = 0;
    CHECK_THROWS_WITH_AS(Sampler(options, 5), doctest::Contains("top-p"), Error);
    options = {};
    options.temperature = -1;
    CHECK_THROWS_WITH_AS(Sampler(options, 5), doctest::Contains("temperature"), Error);
  }
}

TEST_CASE("generator streams text") {
  auto tokenizer = fit_char_tokenizer("abcdé");  // ids: <unk>, a, b, c, d, é
  TableModel model = cycle_model(tokenizer->vocab_size());
  GenerateOptions options;
  options.sampling.temperature = 0;

  auto run = [&](const GenerateOptions& o, const std::string& prompt, std::vector<std::string>* pieces) {
    Generator generator(model, *tokenizer, o);
    generator.start(prompt);
    std::string text, piece;
    bool more = true;
    while (more) {
      more = generator.next(&piece);
      if (pieces) pieces->push_back(piece);
      text += piece;
    }
    return std::make_pair(text, generator.stop_reason());
  };

  SUBCASE("max tokens") {
    options.max_tokens = 7;
    auto [text, reason] = run(options, "a", nullptr);
    CHECK(text == "bcdé" "\xEF\xBF\xBD" "ab");  // é wraps to <unk> (U+FFFD), then a, b
    CHECK(reason == "max_tokens");
  }
  SUBCASE("stop sequences end the text and are never shown, even in part") {
    options.max_tokens = 50;
    options.stop = {"dé"};
    std::vector<std::string> pieces;
    auto [text, reason] = run(options, "a", &pieces);
    CHECK(text == "bc");
    CHECK(reason == "stop");
    for (const std::string& piece : pieces) CHECK(piece.find('d') == std::string::npos);
  }
  SUBCASE("incomplete UTF-8 is held back") {
    CHECK(incomplete_utf8_suffix("ab\xC3") == 1);
    CHECK(incomplete_utf8_suffix("ab\xE2\x82") == 2);
    CHECK(incomplete_utf8_suffix("ab\xE2\x82\xAC") == 0);
    CHECK(incomplete_utf8_suffix("\xF0\x9F\x90") == 3);
  }
  SUBCASE("a vocabulary mismatch is refused") {
    TableModel other = cycle_model(3);
    CHECK_THROWS_WITH_AS(Generator(other, *tokenizer, options), doctest::Contains("tokenizer has 6 tokens"), Error);
  }
}

TEST_CASE("fusion interpolates the two next-token distributions") {
  TableModel a = cycle_model(4);
  std::vector<float> flat(16, 0.0f);
  TableModel b(4, flat);  // uniform
  FusedModel fused(a, b, 0.25f);
  const float* log_probs = fused.step(0);
  const std::vector<float> pa = softmax({0, 10, 0, 0}, 1.0f);
  for (int v = 0; v < 4; ++v) CHECK(std::exp(log_probs[v]) == doctest::Approx(0.25 * pa[v] + 0.75 * 0.25));
  CHECK_THROWS_AS(FusedModel(a, b, 1.5f), Error);
  TableModel small(3, std::vector<float>(9, 0.0f));
  CHECK_THROWS_WITH_AS(FusedModel(a, small, 0.5f), doctest::Contains("different vocabularies"), Error);
}
