// Sessions: a turn continues from the state the last one left, so a second turn samples exactly what one generation
// over the whole text samples (same seed), while reading only its new tokens — also once a decoder's window slides;
// forks diverge without touching their parent; saved bytes restore to the same continuation, and bad bytes are
// refused with a message that names the problem.
#include <doctest/doctest.h>

#include <memory>

#include "generate/generator.hpp"
#include "generate/session.hpp"
#include "models/gpt.hpp"
#include "models/recurrent_lm.hpp"
#include "tinylm/error.hpp"

using namespace tinylm;

namespace {

const char* kText = "call me ishmael. some years ago, never mind how long precisely, having little money in my purse";

std::unique_ptr<TrainableModel> make_model(const std::string& arch, int vocab, int context = 16) {
  Rng rng(21);
  if (arch == "gpt") {
    GptConfig config;
    config.vocab_size = vocab;
    config.context_size = context;
    config.embed_size = 32;
    config.num_heads = 4;
    config.num_layers = 2;
    auto model = std::make_unique<GptLM>(config);
    model->initialize(rng);
    return model;
  }
  RecurrentConfig config;
  config.vocab_size = vocab;
  config.embed_size = 16;
  config.hidden_size = 32;
  auto model = std::make_unique<RecurrentLM>(config);
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
  std::string text, piece;
  while (generator.next(&piece)) text += piece;
  return text + piece;
}

std::string turn(Session& session, const std::string& prompt, const GenerateOptions& options) {
  Generator& generator = session.begin_turn(prompt, options);
  while (!generator.prefill(5)) {}
  const std::string text = run(generator);
  session.end_turn();
  return text;
}

std::string one_shot(LanguageModel& model, const Tokenizer& tokenizer, const std::string& prompt,
                     const GenerateOptions& options) {
  Generator generator(model, tokenizer, options);
  generator.start(prompt);
  return run(generator);
}

}  // namespace

TEST_CASE("a session's second turn is one generation over the whole text, reading only its new tokens") {
  const auto tokenizer = fit_char_tokenizer(kText);
  for (const std::string arch : {"lstm", "gpt"}) {
    CAPTURE(arch);
    auto model = make_model(arch, tokenizer->vocab_size());  // gpt: 16 positions, so the later turns slide
    Session session(*model, *tokenizer);
    const std::string first = turn(session, "call me", sampling(12, 1));
    CHECK(session.last_turn_tokens_read() == 7 + 11);  // the prompt, and every sampled token but the last
    const std::string second = turn(session, " some years", sampling(10, 2));
    CHECK(session.last_turn_tokens_read() == 1 + 11 + 9);  // turn one's last token, the new prompt, 9 sampled
    CHECK(second == one_shot(*model, *tokenizer, "call me" + first + " some years", sampling(10, 2)));
    const std::string third = turn(session, "", sampling(10, 3));  // no prompt: continues the text
    CHECK(third == one_shot(*model, *tokenizer, "call me" + first + " some years" + second, sampling(10, 3)));
    CHECK(session.history().size() == 7 + 12 + 11 + 10 + 10);
  }
}

TEST_CASE("a turn of no tokens keeps its logits for the next") {
  const auto tokenizer = fit_char_tokenizer(kText);
  auto model = make_model("gpt", tokenizer->vocab_size(), 64);
  Session session(*model, *tokenizer);
  CHECK(turn(session, "call me", sampling(0, 1)).empty());
  CHECK(turn(session, "", sampling(8, 4)) == one_shot(*model, *tokenizer, "call me", sampling(8, 4)));
}

TEST_CASE("forks diverge independently and leave their parent as it was") {
  const auto tokenizer = fit_char_tokenizer(kText);
  auto model = make_model("gpt", tokenizer->vocab_size());
  Session parent(*model, *tokenizer);
  const std::string first = turn(parent, "call me", sampling(6, 1));
  auto left = parent.fork();
  auto right = parent.fork();
  const std::string left_text = turn(*left, " ishmael", sampling(8, 5));
  const std::string right_text = turn(*right, " some", sampling(8, 6));
  CHECK(left_text == one_shot(*model, *tokenizer, "call me" + first + " ishmael", sampling(8, 5)));
  CHECK(right_text == one_shot(*model, *tokenizer, "call me" + first + " some", sampling(8, 6)));
  CHECK(turn(parent, " never", sampling(8, 7)) ==
        one_shot(*model, *tokenizer, "call me" + first + " never", sampling(8, 7)));
}

TEST_CASE("a saved session restores to the same continuation; bad bytes are refused") {
  const auto tokenizer = fit_char_tokenizer(kText);
  auto model = make_model("gpt", tokenizer->vocab_size());
  Session session(*model, *tokenizer);
  turn(session, "call me", sampling(20, 1));  // 27 tokens through a 16-token window
  const std::vector<uint8_t> bytes = session.save();
  auto restored = Session::restore(*model, *tokenizer, bytes.data(), bytes.size());
  CHECK(restored->history() == session.history());
  const std::string expected = turn(session, " some", sampling(9, 8));
  CHECK(turn(*restored, " some", sampling(9, 8)) == expected);

  SUBCASE("not a session") {
    const std::vector<uint8_t> junk(40, 7);
    CHECK_THROWS_WITH_AS(Session::restore(*model, *tokenizer, junk.data(), junk.size()),
                         doctest::Contains("not a saved tinylm session"), Error);
  }
  SUBCASE("another format version") {
    std::vector<uint8_t> other = bytes;
    other[4] = 9;
    CHECK_THROWS_WITH_AS(Session::restore(*model, *tokenizer, other.data(), other.size()),
                         doctest::Contains("format version 9; this tinylm reads version 1"), Error);
  }
  SUBCASE("truncated") {
    CHECK_THROWS_WITH_AS(Session::restore(*model, *tokenizer, bytes.data(), bytes.size() - 4),
                         doctest::Contains("truncated"), Error);
  }
  SUBCASE("another model") {
    auto other = make_model("gpt", tokenizer->vocab_size(), 32);
    CHECK_THROWS_WITH_AS(Session::restore(*other, *tokenizer, bytes.data(), bytes.size()),
                         doctest::Contains("saved from another model"), Error);
    auto other_tokenizer = fit_char_tokenizer(std::string(kText) + "XYZ");
    auto wider = make_model("gpt", other_tokenizer->vocab_size());
    CHECK_THROWS_AS(Session::restore(*wider, *other_tokenizer, bytes.data(), bytes.size()), Error);
  }
}
