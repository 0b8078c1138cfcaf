// Generator::begin_reusing: a generation that starts from the state the last one left when that state's tokens are
// a proper prefix of the new prompt's (the package's chat() keeps each turn's state this way). Feeding the rest from
// that state is what a fresh generation over the whole prompt does: a recurrent model steps, so its logits and
// samples are bit-identical; a decoder prefills in batches (LanguageModel::prefill) that split the prompt elsewhere,
// so its logits agree to rounding (1e-5 of their largest) and its greedy text is the same — also when its window
// slides during the kept part or the new one. Anything else (another prefix, nothing new to read, no history)
// falls back to a full begin().
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

#include "generate/generator.hpp"
#include "models/gpt.hpp"
#include "models/llama.hpp"
#include "models/recurrent_lm.hpp"

using namespace tinylm;

namespace {

const char* kText = "call me ishmael. some years ago, never mind how long precisely, having little money in my purse";

template <typename Model, typename Config>
std::unique_ptr<TrainableModel> initialized(const Config& config) {
  Rng rng(21);
  auto model = std::make_unique<Model>(config);
  model->initialize(rng);
  return model;
}

// Two models made alike have the same weights: one continues, the other reads every prompt afresh.
std::unique_ptr<TrainableModel> make_model(const std::string& arch, int vocab) {
  if (arch == "gpt") {
    GptConfig config;
    config.vocab_size = vocab;
    config.context_size = 16;  // the prompts below outgrow it: the window slides
    config.embed_size = 32;
    config.num_heads = 4;
    config.num_layers = 2;
    return initialized<GptLM>(config);
  }
  if (arch == "llama") {
    LlamaConfig config;
    config.vocab_size = vocab;
    config.context_size = 16;
    config.hidden_size = 32;
    config.intermediate_size = 48;
    config.num_layers = 2;
    config.num_heads = 4;
    config.num_kv_heads = 2;
    config.head_size = 8;
    return initialized<LlamaLM>(config);
  }
  RecurrentConfig config;
  config.vocab_size = vocab;
  config.embed_size = 16;
  config.hidden_size = 32;
  return initialized<RecurrentLM>(config);
}

// Sampled for the recurrent model (bit-identical logits), greedy for the decoders (logits equal to rounding).
GenerateOptions sampling(int max_tokens, uint64_t seed, const std::string& arch = "lstm") {
  GenerateOptions options;
  options.max_tokens = max_tokens;
  options.sampling.temperature = arch == "lstm" ? 1 : 0;
  options.sampling.seed = seed;
  return options;
}

std::string run(Generator& generator) {
  while (!generator.prefill(5)) {}
  std::string text, piece;
  while (generator.next(&piece)) text += piece;
  return text + piece;
}

// The first logits and the text a fresh generation over `prompt` gives.
std::pair<std::vector<float>, std::string> fresh(LanguageModel& model, const Tokenizer& tokenizer,
                                                 const std::string& prompt, const GenerateOptions& options) {
  Generator generator(model, tokenizer, options);
  generator.begin(prompt);
  while (!generator.prefill(7)) {}
  std::vector<float> logits(generator.next_logits(), generator.next_logits() + model.vocab_size());
  return {logits, run(generator)};
}

// Bit-identical for the recurrent model; within 1e-5 of the largest logit for a decoder's batched prefill.
bool same_logits(const float* a, const std::vector<float>& b, const std::string& arch) {
  if (arch == "lstm") return std::memcmp(a, b.data(), b.size() * sizeof(float)) == 0;
  float largest = 0, difference = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    largest = std::max(largest, std::fabs(b[i]));
    difference = std::max(difference, std::fabs(a[i] - b[i]));
  }
  return difference <= 1e-5f * largest;
}

}  // namespace

TEST_CASE("begin_reusing reads only the new tokens and samples what a fresh generation over the whole prompt does") {
  const auto tokenizer = fit_char_tokenizer(kText);
  for (const std::string arch : {"lstm", "gpt", "llama"}) {
    CAPTURE(arch);
    auto model = make_model(arch, tokenizer->vocab_size());
    auto reference = make_model(arch, tokenizer->vocab_size());
    std::string prompt = "call me";
    std::vector<int32_t> held;
    for (int turn = 0; turn < 3; ++turn) {
      CAPTURE(turn);
      Generator generator(*model, *tokenizer, sampling(9, 5 + turn, arch));
      const size_t kept = generator.begin_reusing(prompt, held);
      const size_t prompt_tokens = tokenizer->encode(prompt).size();
      CHECK(kept == held.size());
      while (!generator.prefill(7)) {}
      CHECK(generator.tokens_read() == prompt_tokens - kept);
      const auto [logits, text] = fresh(*reference, *tokenizer, prompt, sampling(9, 5 + turn, arch));
      CHECK(same_logits(generator.next_logits(), logits, arch));
      CHECK(run(generator) == text);
      // The state holds the prompt and every generated token but the last (read only when another follows).
      held = generator.tokens_in_state();
      CHECK(held.size() == generator.history().size() - 1);
      CHECK(std::equal(held.begin(), held.end(), generator.history().begin()));
      prompt += text + (turn == 0 ? " some years" : ", never mind");
    }
  }
}

TEST_CASE("begin_reusing falls back to a full read unless the held tokens are a proper prefix of the prompt") {
  const auto tokenizer = fit_char_tokenizer(kText);
  auto model = make_model("gpt", tokenizer->vocab_size());
  auto reference = make_model("gpt", tokenizer->vocab_size());
  const std::string prompt = "call me ishmael. some";
  const std::vector<int32_t> tokens = tokenizer->encode(prompt);
  std::vector<int32_t> edited(tokens.begin(), tokens.begin() + 6);
  edited[2] = tokens[0];  // "ca?l": another prefix
  for (const std::vector<int32_t>& held : {edited, tokens, std::vector<int32_t>{}}) {
    Generator generator(*model, *tokenizer, sampling(6, 3, "gpt"));
    CHECK(generator.begin_reusing(prompt, held) == 0);
    while (!generator.prefill(7)) {}
    CHECK(generator.tokens_read() == tokens.size());
    const auto [logits, text] = fresh(*reference, *tokenizer, prompt, sampling(6, 3, "gpt"));
    CHECK(same_logits(generator.next_logits(), logits, "gpt"));
    CHECK(run(generator) == text);
  }
}

TEST_CASE("a prefill stopped midway holds the tokens it fed, and the next generation continues from them") {
  const auto tokenizer = fit_char_tokenizer(kText);
  auto model = make_model("llama", tokenizer->vocab_size());
  auto reference = make_model("llama", tokenizer->vocab_size());
  const std::string prompt = "call me ishmael. some years ago";
  Generator stopped(*model, *tokenizer, sampling(6, 4, "llama"));
  stopped.begin(prompt);
  CHECK_FALSE(stopped.prefill(11));
  const std::vector<int32_t> held = stopped.tokens_in_state();
  CHECK(held == std::vector<int32_t>(stopped.history().begin(), stopped.history().begin() + 11));
  Generator generator(*model, *tokenizer, sampling(6, 4, "llama"));
  CHECK(generator.begin_reusing(prompt, held) == 11);
  const auto [logits, text] = fresh(*reference, *tokenizer, prompt, sampling(6, 4, "llama"));
  CHECK(run(generator) == text);
}
