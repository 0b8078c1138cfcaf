// Beam search and the generation state it forks per beam: a state saved and loaded continues bit for bit (every
// architecture, through a decoder's sliding window); one beam is greedy decoding; on a table model with a
// hand-checked distribution beam search finds the sequence greedy misses, and the length penalty decides as the
// formula says; every hypothesis's log-probability is what evaluate() recomputes; results do not depend on the
// thread count.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <memory>

#include "generate/beam_search.hpp"
#include "generate/fusion.hpp"
#include "generate/generator.hpp"
#include "models/gpt.hpp"
#include "models/llama.hpp"
#include "models/ngram.hpp"
#include "models/recurrent_lm.hpp"
#include "parallel/thread_pool.hpp"
#include "tinylm/error.hpp"

using namespace tinylm;

namespace {

const char* kText = "call me ishmael. some years ago, never mind how long precisely, having little money in my purse";

// Next-token logits are a row of a table chosen by the last token; the state is that token.
class TableModel : public LanguageModel {
 public:
  TableModel(int vocab, std::vector<float> table) : vocab_(vocab), table_(std::move(table)) {}
  std::string arch() const override { return "table"; }
  int vocab_size() const override { return vocab_; }
  nlohmann::json config_json() const override { return {{"arch", "table"}}; }
  void reset_state() override { last_ = -1; }
  const float* step(int32_t token) override {
    last_ = token;
    return table_.data() + int64_t(token) * vocab_;
  }
  void save_state(GenerationState* state) const override { state->ints = {last_}; }
  void load_state(const GenerationState& state) override { last_ = state.ints.at(0); }
  EvalStats evaluate(const std::vector<int32_t>&) override { return {}; }
  std::vector<TensorToWrite> tensors_to_save() const override { return {}; }

 private:
  int vocab_;
  std::vector<float> table_;
  int32_t last_ = -1;
};

// A table of log-probabilities: rows[from] = {{to, p}, …}; every other token gets 1e-9.
TableModel table_model(const Tokenizer& tokenizer, const std::vector<std::pair<char, std::vector<std::pair<char, double>>>>& rows) {
  const int V = tokenizer.vocab_size();
  std::vector<float> table(size_t(V) * V, std::log(1e-9f));
  const auto id = [&](char c) { return c == '$' ? tokenizer.eos_id() : tokenizer.encode(std::string(1, c)).at(0); };
  for (const auto& [from, row] : rows) {
    for (const auto& [to, p] : row) table[size_t(id(from)) * V + id(to)] = float(std::log(p));
  }
  return TableModel(V, table);
}

std::unique_ptr<GptLM> small_gpt(int vocab, int context) {
  GptConfig config;
  config.vocab_size = vocab;
  config.context_size = context;
  config.embed_size = 32;
  config.num_heads = 4;
  config.num_layers = 2;
  auto model = std::make_unique<GptLM>(config);
  Rng rng(11);
  model->initialize(rng);
  model->set_step_precision(GptLM::StepPrecision::Float);
  return model;
}

std::unique_ptr<RecurrentLM> small_lstm(int vocab) {
  RecurrentConfig config;
  config.vocab_size = vocab;
  config.embed_size = 16;
  config.hidden_size = 32;
  config.num_layers = 2;
  auto model = std::make_unique<RecurrentLM>(config);
  Rng rng(12);
  model->initialize(rng);
  model->set_step_precision(RecurrentLM::StepPrecision::Float);
  return model;
}

std::unique_ptr<LlamaLM> small_llama(int vocab, int context) {
  LlamaConfig config;
  config.vocab_size = vocab;
  config.context_size = context;
  config.hidden_size = 32;
  config.intermediate_size = 48;
  config.num_layers = 2;
  config.num_heads = 4;
  config.num_kv_heads = 2;
  config.head_size = 8;
  auto model = std::make_unique<LlamaLM>(config);
  Rng rng(13);
  model->initialize(rng);
  model->set_step_precision(LlamaLM::StepPrecision::Float);
  return model;
}

bool same_bits(const float* a, const float* b, int n) { return std::memcmp(a, b, sizeof(float) * size_t(n)) == 0; }

std::vector<BeamHypothesis> search(LanguageModel& model, const Tokenizer& tokenizer, const std::string& prompt,
                                   const BeamSearchOptions& options) {
  BeamSearch beam_search(model, tokenizer, options);
  beam_search.begin(prompt);
  while (!beam_search.prefill(3)) {}
  while (beam_search.advance()) {}
  return beam_search.results();
}

}  // namespace

TEST_CASE("a saved generation state continues bit for bit") {
  const auto tokenizer = fit_char_tokenizer(kText);
  const int V = tokenizer->vocab_size();
  const std::vector<int32_t> tokens = tokenizer->encode(kText);
  std::vector<std::unique_ptr<LanguageModel>> models;
  models.push_back(small_lstm(V));
  models.push_back(small_gpt(V, 16));   // 60 steps slide its 16-position window several times
  models.push_back(small_llama(V, 16));
  models.push_back(NgramModel::fit(tokens, V, 3));
  for (auto& model : models) {
    CAPTURE(model->arch());
    for (size_t split : {size_t(1), size_t(7), size_t(8), size_t(13), size_t(40)}) {
      CAPTURE(split);
      model->reset_state();
      for (size_t i = 0; i < split; ++i) model->step(tokens[i]);
      GenerationState state;
      model->save_state(&state);
      std::vector<float> expected;
      for (size_t i = split; i < 60; ++i) {
        const float* logits = model->step(tokens[i]);
        expected.insert(expected.end(), logits, logits + V);
      }
      model->reset_state();
      model->step(tokens[50]);  // something else in between
      model->load_state(state);
      bool same = true;
      for (size_t i = split; i < 60; ++i) same = same && same_bits(model->step(tokens[i]), &expected[(i - split) * V], V);
      CHECK(same);
    }
  }
  SUBCASE("a state from another model is refused, naming the mismatch") {
    GenerationState state;
    models[1]->reset_state();
    models[1]->step(3);
    models[1]->save_state(&state);
    CHECK_THROWS_WITH_AS(models[0]->load_state(state), doctest::Contains("from another model"), Error);
    CHECK_THROWS_WITH_AS(small_llama(V, 16)->load_state(state), doctest::Contains("from another model"), Error);
    state.ints[0] = 99;
    CHECK_THROWS_WITH_AS(models[1]->load_state(state), doctest::Contains("99 cached"), Error);
  }
}

TEST_CASE("one beam is greedy decoding") {
  const auto tokenizer = fit_char_tokenizer(kText);
  const int V = tokenizer->vocab_size();
  std::vector<std::unique_ptr<LanguageModel>> models;
  models.push_back(small_lstm(V));
  models.push_back(small_gpt(V, 16));  // 30 tokens past a 16-token window: the beam's state slides
  models.push_back(small_llama(V, 16));
  for (auto& model : models) {
    CAPTURE(model->arch());
    GenerateOptions greedy;
    greedy.sampling.temperature = 0;
    greedy.max_tokens = 30;
    Generator generator(*model, *tokenizer, greedy);
    generator.start("some years");
    std::string piece, text;
    while (generator.next(&piece)) text += piece;
    text += piece;
    const std::vector<int32_t> generated(generator.history().end() - 30, generator.history().end());

    BeamSearchOptions options;
    options.beams = 1;
    options.max_tokens = 30;
    const std::vector<BeamHypothesis> results = search(*model, *tokenizer, "some years", options);
    REQUIRE(results.size() == 1);
    CHECK(results[0].tokens == generated);
    CHECK(results[0].text == text);
    CHECK(results[0].stop_reason == "max_tokens");
  }
}

TEST_CASE("beam search finds the more probable sequence greedy decoding misses") {
  // From 'c': a 0.5, b 0.4, c 0.1. From 'a': a 0.4, b 0.3, c 0.3. From 'b': c 0.9, a 0.1.
  // Greedy: 'a' then 'a' = 0.5 · 0.4 = 0.20. The best pair: 'b' then 'c' = 0.4 · 0.9 = 0.36.
  const auto tokenizer = fit_char_tokenizer("abc");
  TableModel model = table_model(*tokenizer, {{'c', {{'a', 0.5}, {'b', 0.4}, {'c', 0.1}}},
                                              {'a', {{'a', 0.4}, {'b', 0.3}, {'c', 0.3}}},
                                              {'b', {{'c', 0.9}, {'a', 0.1}}}});
  BeamSearchOptions options;
  options.max_tokens = 2;
  options.beams = 1;
  CHECK(search(model, *tokenizer, "c", options)[0].text == "aa");
  options.beams = 2;
  const std::vector<BeamHypothesis> results = search(model, *tokenizer, "c", options);
  REQUIRE(results.size() == 2);
  CHECK(results[0].text == "bc");
  CHECK(results[0].log_probability == doctest::Approx(std::log(0.4 * 0.9)).epsilon(1e-6));
  CHECK(results[0].score == doctest::Approx(std::log(0.4 * 0.9) / 2).epsilon(1e-6));  // length penalty 1
  CHECK(results[1].text == "aa");
  CHECK(results[1].log_probability == doctest::Approx(std::log(0.5 * 0.4)).epsilon(1e-6));
}

TEST_CASE("the length penalty divides by length^penalty, as Hugging Face's beam scorer does") {
  // From 'c' and from 'a': a 0.6, <eos> 0.4; a hypothesis ends at <eos>. In 3 tokens the candidates are
  //   "" (<eos> at once)  Σ log p = log 0.4 = −0.916,  length 0 → 1
  //   "a" + <eos>         log 0.6 + log 0.4 = −1.427,   length 1
  //   "aa" + <eos>        2 log 0.6 + log 0.4 = −1.938,  length 2
  //   "aaa"               3 log 0.6 = −1.532,           length 3
  // Penalty 0 compares the sums: "" wins. Penalty 1: −1.532/3 = −0.511 beats −0.916: "aaa" wins.
  CharTokenizerOptions with_eos;
  with_eos.add_eos = true;
  const auto tokenizer = fit_char_tokenizer("ac", with_eos);
  TableModel model = table_model(*tokenizer, {{'c', {{'a', 0.6}, {'$', 0.4}}}, {'a', {{'a', 0.6}, {'$', 0.4}}}});
  BeamSearchOptions options;
  options.beams = 2;
  options.max_tokens = 3;
  options.stop_at_eos = true;
  options.length_penalty = 0;
  std::vector<BeamHypothesis> results = search(model, *tokenizer, "c", options);
  CHECK(results[0].text == "");
  CHECK(results[0].stop_reason == "eos");
  CHECK(results[0].tokens == std::vector<int32_t>{tokenizer->eos_id()});
  CHECK(results[0].score == doctest::Approx(std::log(0.4)).epsilon(1e-6));
  options.length_penalty = 1;
  results = search(model, *tokenizer, "c", options);
  CHECK(results[0].text == "aaa");
  CHECK(results[0].stop_reason == "max_tokens");
  CHECK(results[0].score == doctest::Approx(3 * std::log(0.6) / 3).epsilon(1e-6));
  options.length_penalty = 2;
  results = search(model, *tokenizer, "c", options);
  CHECK(results[0].score == doctest::Approx(3 * std::log(0.6) / 9).epsilon(1e-6));
}

TEST_CASE("a stop sequence ends a hypothesis before it") {
  const auto tokenizer = fit_char_tokenizer("abc");
  TableModel model = table_model(*tokenizer, {{'c', {{'a', 0.9}, {'b', 0.1}}},
                                              {'a', {{'b', 0.9}, {'a', 0.1}}},
                                              {'b', {{'c', 0.9}, {'a', 0.1}}}});
  BeamSearchOptions options;
  options.beams = 2;
  options.max_tokens = 6;
  options.stop = {"bc"};
  const std::vector<BeamHypothesis> results = search(model, *tokenizer, "c", options);
  CHECK(results[0].text == "a");
  CHECK(results[0].stop_reason == "stop");
  CHECK(results[0].tokens.size() == 3);  // a b c: the tokens that completed the stop sequence count
}

TEST_CASE("beam scores are the log-probabilities evaluate() recomputes, whatever the thread count") {
  const auto tokenizer = fit_char_tokenizer(kText);
  const int V = tokenizer->vocab_size();
  std::vector<std::unique_ptr<TrainableModel>> models;
  models.push_back(small_lstm(V));
  models.push_back(small_gpt(V, 64));
  models.push_back(small_llama(V, 64));
  const std::string prompt = "call me ishmael";
  const std::vector<int32_t> prompt_tokens = tokenizer->encode(prompt);
  for (auto& model : models) {
    CAPTURE(model->arch());
    BeamSearchOptions options;
    options.beams = 4;
    options.max_tokens = 12;
    options.length_penalty = 0.7f;
    const std::vector<BeamHypothesis> results = search(*model, *tokenizer, prompt, options);
    REQUIRE(results.size() == 4);
    const double prompt_loss = model->evaluate(prompt_tokens).loss * double(prompt_tokens.size() - 1);
    for (const BeamHypothesis& hypothesis : results) {
      std::vector<int32_t> all = prompt_tokens;
      all.insert(all.end(), hypothesis.tokens.begin(), hypothesis.tokens.end());
      const double total_loss = model->evaluate(all).loss * double(all.size() - 1);
      CHECK(-(total_loss - prompt_loss) == doctest::Approx(hypothesis.log_probability).epsilon(1e-4));
      CHECK(hypothesis.score ==
            doctest::Approx(hypothesis.log_probability / std::pow(double(hypothesis.tokens.size()), 0.7)));
    }
    for (size_t i = 1; i < results.size(); ++i) CHECK(results[i - 1].score >= results[i].score);
    for (int threads : {1, 2, 3}) {
      CAPTURE(threads);
      ThreadPool pool(threads);
      model->set_thread_pool(&pool);
      const std::vector<BeamHypothesis> threaded = search(*model, *tokenizer, prompt, options);
      model->set_thread_pool(nullptr);
      REQUIRE(threaded.size() == results.size());
      for (size_t i = 0; i < results.size(); ++i) {
        CHECK(threaded[i].tokens == results[i].tokens);
        CHECK(threaded[i].log_probability == results[i].log_probability);  // bit for bit
      }
    }
  }
}

TEST_CASE("beam search over a fused model") {
  const auto tokenizer = fit_char_tokenizer(kText);
  const int V = tokenizer->vocab_size();
  auto gpt = small_gpt(V, 64);
  auto lstm = small_lstm(V);
  FusedModel fused(*gpt, *lstm, 0.3f);
  BeamSearchOptions options;
  options.beams = 3;
  options.max_tokens = 10;
  const std::vector<BeamHypothesis> results = search(fused, *tokenizer, "call me", options);
  REQUIRE(results.size() == 3);
  // The fused log-probabilities step by step: log(0.3 p_gpt + 0.7 p_lstm) of each chosen token.
  const std::vector<int32_t> prompt = tokenizer->encode("call me");
  fused.reset_state();
  const float* log_probs = nullptr;
  for (int32_t token : prompt) log_probs = fused.step(token);
  double sum = 0;
  for (int32_t token : results[0].tokens) {
    sum += log_probs[token];
    log_probs = fused.step(token);
  }
  CHECK(sum == doctest::Approx(results[0].log_probability).epsilon(1e-5));
}

TEST_CASE("beam search options are checked") {
  BeamSearchOptions options;
  options.beams = 0;
  CHECK_THROWS_WITH_AS(options.validate(), "beams must be between 1 and 64, got 0", Error);
  options.beams = 2;
  options.length_penalty = NAN;
  CHECK_THROWS_WITH_AS(options.validate(), doctest::Contains("length penalty must be a finite number"), Error);
}
