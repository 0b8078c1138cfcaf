// Long calls in chunks: an Evaluation advanced a little at a time scores exactly what evaluate() scores, and a
// prompt fed by prefill() in pieces leaves the model where start() leaves it — so the worker can check for
// cancellation between chunks without changing a result.
#include <doctest/doctest.h>

#include <memory>

#include "generate/generator.hpp"
#include "models/gpt.hpp"
#include "models/ngram.hpp"
#include "models/recurrent_lm.hpp"
#include "tinylm/rng.hpp"

using namespace tinylm;

namespace {

std::vector<int32_t> token_stream(int count, int vocab) {
  std::vector<int32_t> tokens(count);
  Rng rng(9);
  for (int32_t& token : tokens) token = int32_t(rng.uniform() * vocab) % vocab;
  return tokens;
}

std::vector<std::unique_ptr<LanguageModel>> models_under_test(int vocab) {
  std::vector<std::unique_ptr<LanguageModel>> models;
  Rng rng(3);
  RecurrentConfig recurrent;
  recurrent.vocab_size = vocab;
  recurrent.embed_size = 5;
  recurrent.hidden_size = 7;
  recurrent.num_layers = 2;
  auto lstm = std::make_unique<RecurrentLM>(recurrent);
  lstm->initialize(rng);
  models.push_back(std::move(lstm));
  GptConfig gpt;
  gpt.vocab_size = vocab;
  gpt.context_size = 16;
  gpt.embed_size = 8;
  gpt.num_heads = 2;
  gpt.num_layers = 1;
  auto transformer = std::make_unique<GptLM>(gpt);
  transformer->initialize(rng);
  models.push_back(std::move(transformer));
  models.push_back(NgramModel::fit(token_stream(500, vocab), vocab, 3));
  return models;
}

}  // namespace

TEST_CASE("an evaluation advanced in chunks scores exactly what evaluate() scores") {
  const int vocab = 11;
  for (int length : {1, 2, 40, 3000}) {
    const std::vector<int32_t> tokens = token_stream(length, vocab);
    for (auto& model : models_under_test(vocab)) {
      CAPTURE(model->arch());
      CAPTURE(length);
      const EvalStats whole = model->evaluate(tokens);
      for (int64_t chunk : {int64_t(1), int64_t(100), int64_t(5000)}) {
        std::unique_ptr<Evaluation> evaluation = model->start_evaluation(tokens);
        double progress = evaluation->progress();
        int calls = 0;
        while (evaluation->advance(chunk)) {
          CHECK(evaluation->progress() >= progress);
          progress = evaluation->progress();
          ++calls;
        }
        CHECK(evaluation->progress() == 1.0);
        const EvalStats chunked = evaluation->stats();
        CHECK(chunked.tokens == whole.tokens);
        CHECK(chunked.loss == whole.loss);
        CHECK(chunked.accuracy == whole.accuracy);
        // Recurrent and GPT scoring stops between batches: a long text takes several calls in small chunks.
        if (length == 3000 && chunk == 1 && model->arch() != "ngram") CHECK(calls > 2);
      }
    }
  }
}

TEST_CASE("an unfinished recurrent evaluation restores the carried training state") {
  RecurrentConfig config;
  config.vocab_size = 6;
  config.embed_size = 3;
  config.hidden_size = 4;
  config.num_layers = 1;
  RecurrentLM model(config);
  Rng rng(5);
  model.initialize(rng);
  const std::vector<int32_t> window = token_stream(9, 6);
  model.forward(window.data(), window.data() + 1, 1, 8, false, nullptr);  // leaves a carried state
  const std::vector<float> carried = model.carried_state();
  {
    std::unique_ptr<Evaluation> evaluation = model.start_evaluation(token_stream(5000, 6));
    CHECK(evaluation->advance(1));
  }
  CHECK(model.carried_state() == carried);
}

TEST_CASE("a prompt fed in pieces by prefill() generates what start() generates") {
  const std::string text = "call me ishmael. some years ago, never mind how long precisely, having little money";
  auto tokenizer = fit_char_tokenizer(text);
  for (auto& model : models_under_test(tokenizer->vocab_size())) {
    CAPTURE(model->arch());
    GenerateOptions options;
    options.max_tokens = 30;
    options.sampling.seed = 4;
    auto generate = [&](int piece) {
      Generator generator(*model, *tokenizer, options);
      if (piece == 0) {
        generator.start(text);
      } else {
        generator.begin(text);
        int calls = 1;
        while (!generator.prefill(piece)) ++calls;
        CHECK(calls == int((text.size() + piece - 1) / piece));
      }
      std::string out, chunk;
      while (generator.next(&chunk)) out += chunk;
      return out + chunk;
    };
    const std::string whole = generate(0);
    CHECK(generate(1) == whole);
    CHECK(generate(7) == whole);
    Generator unfed(*model, *tokenizer, options);
    unfed.begin(text);
    std::string piece;
    CHECK_THROWS_WITH_AS(unfed.next(&piece), doctest::Contains("prefill"), Error);
  }
}
