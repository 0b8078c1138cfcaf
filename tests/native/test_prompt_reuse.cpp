// Generator::begin_reusing: a generation that starts from the state the last one left when that state's tokens are
// a proper prefix of the new prompt's (the package's chat() keeps each turn's state this way). Feeding the rest
// step by step from that state is what a fresh generation over the whole prompt does, so the logits and samples
// are bit-identical — also when a decoder's window slides during the kept part or the new one. Anything else
// (another prefix, nothing new to read, no history) falls back to a full begin().
#include <doctest/doctest.h>

#include <cstring>
#include <memory>

#include "generate/generator.hpp"
#include "models/gpt.hpp"
#include "models/llama.hpp"
#include "models/recurrent_lm.hpp"

using namespace tinylm;

namespace {

const char* kText = "call me ishmael. some years ago, never mind how long precisely, having little money in my purse";

// Two models of one architecture with the same weights: one continues, the other reads every prompt afresh.
std::unique_ptr<TrainableModel> make_model(const std::string& arch, int vocab) {
  Rng rng(21);
  std::unique_ptr<TrainableModel> model;
  if (arch == "gpt") {
    GptConfig config;
    config.vocab_size = vocab;
    config.context_size = 16;  // the prompts below outgrow it: the window slides
    config.embed_size = 32;
    config.num_heads = 4;
    config.num_layers = 2;
    model = std::make_unique<GptLM>(config);
  } else if (arch == "llama") {
    LlamaConfig config;
    config.vocab_size = vocab;
    config.context_size = 16;
    config.hidden_size = 32;
    config.intermediate_size = 48;
    config.num_layers = 2;
    config.num_heads = 4;
    config.num_kv_heads = 2;
    config.head_size = 8;
    model = std::make_unique<LlamaLM>(config);
  } else {
    RecurrentConfig config;
    config.vocab_size = vocab;
    config.embed_size = 16;
    config.hidden_size = 32;
    model = std::make_unique<RecurrentLM>(config);
  }
  model->initialize(rng);
  return model;
}

GenerateOptions sampling(int max_tokens, uint64_t seed) {
  GenerateOptions options;
  options.max_tokens = max_tokens;
  options.sampling.temperature = 1;
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

bool same_bits(const float* a, const std::vector<float>& b) {
  return std::memcmp(a, b.data(), b.size() * sizeof(float)) == 0;
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
      Generator generator(*model, *tokenizer, sampling(9, 5 + turn));
      const size_t kept = generator.begin_reusing(prompt, held);
      const size_t prompt_tokens = tokenizer->encode(prompt).size();
      CHECK(kept == held.size());
      while (!generator.prefill(7)) {}
      CHECK(generator.tokens_read() == prompt_tokens - kept);
      const auto [logits, text] = fresh(*reference, *tokenizer, prompt, sampling(9, 5 + turn));
      CHECK(same_bits(generator.next_logits(), logits));
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
  edited[2] = tokens[3];
  for (const std::vector<int32_t>& held : {edited, tokens, std::vector<int32_t>{}}) {
    Generator generator(*model, *tokenizer, sampling(6, 3));
    CHECK(generator.begin_reusing(prompt, held) == 0);
    while (!generator.prefill(7)) {}
    CHECK(generator.tokens_read() == tokens.size());
    const auto [logits, text] = fresh(*reference, *tokenizer, prompt, sampling(6, 3));
    CHECK(same_bits(generator.next_logits(), logits));
    CHECK(run(generator) == text);
  }
}

TEST_CASE("a prefill stopped midway holds the tokens it fed, and the next generation continues from them") {
  const auto tokenizer = fit_char_tokenizer(kText);
  auto model = make_model("llama", tokenizer->vocab_size());
  auto reference = make_model("llama", tokenizer->vocab_size());
  const std::string prompt = "call me ishmael. some years ago";
  Generator stopped(*model, *tokenizer, sampling(6, 4));
  stopped.begin(prompt);
  CHECK_FALSE(stopped.prefill(11));
  const std::vector<int32_t> held = stopped.tokens_in_state();
  CHECK(held == std::vector<int32_t>(stopped.history().begin(), stopped.history().begin() + 11));
  Generator generator(*model, *tokenizer, sampling(6, 4));
  CHECK(generator.begin_reusing(prompt, held) == 11);
  const auto [logits, text] = fresh(*reference, *tokenizer, prompt, sampling(6, 4));
  CHECK(run(generator) == text);
}
