// Generator: streaming text generation, one token per next() call, so callers (CLI, wasm, worker) can stop
// between tokens. It feeds the prompt, samples, and turns token bytes into text pieces that never split a
// UTF-8 character and never show any part of a stop sequence.
//
//   Generator generator(model, tokenizer, options);
//   generator.start("Call me");
//   std::string piece;
//   while (generator.next(&piece)) std::cout << piece;   // streams
//   std::cout << piece;                                   // the final call may still carry text
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "generate/sampler.hpp"
#include "tinylm/model.hpp"
#include "tinylm/tokenizer.hpp"

namespace tinylm {

struct GenerateOptions {
  SamplingOptions sampling;
  int max_tokens = 200;
  std::vector<std::string> stop;  // generation ends before the first occurrence of any of these
  bool stop_at_eos = false;       // end at the tokenizer's <eos> (chat turns); off for word models, where <eos> is a line end
};

class Generator {
 public:
  Generator(LanguageModel& model, const Tokenizer& tokenizer, const GenerateOptions& options);
  // Resets the model's state and feeds the prompt (an empty prompt starts from <eos>, or a newline).
  void start(const std::string& prompt);
  // start() in steps, so a caller can stop (or serve other work) during a long prompt: begin() resets and encodes,
  // each prefill() feeds at most max_tokens of the prompt and returns true once all of it is fed. next() needs a
  // finished prefill.
  void begin(const std::string& prompt);
  bool prefill(int max_tokens);
  size_t prompt_tokens() const { return prompt_size_; }
  size_t prompt_tokens_fed() const { return fed_; }
  // Generates one token. *piece receives the text that became safe to show (possibly empty). Returns false when
  // generation has ended (see stop_reason()); the text of that last call is in *piece as well.
  bool next(std::string* piece);

  const std::string& stop_reason() const { return stop_reason_; }  // "", "max_tokens", "stop", "eos"
  int tokens_generated() const { return generated_; }
  int32_t last_token() const { return history_.empty() ? -1 : history_.back(); }
  const std::vector<int32_t>& history() const { return history_; }  // prompt + generated ids
  const Sampler& sampler() const { return sampler_; }

 private:
  std::string take_safe_text(bool final);

  LanguageModel& model_;
  const Tokenizer& tokenizer_;
  GenerateOptions options_;
  Sampler sampler_;
  std::vector<int32_t> history_;
  const float* logits_ = nullptr;  // next-token logits after the last fed token
  std::string pending_;            // decoded but not yet shown
  std::string stop_reason_;
  int generated_ = 0;
  bool started_ = false;
  size_t prompt_size_ = 0, fed_ = 0;  // prompt tokens in history_, and how many of them the model has seen
};

// Length of the longest suffix of `text` that is an incomplete UTF-8 sequence (0 if text ends complete).
size_t incomplete_utf8_suffix(const std::string& text);

}  // namespace tinylm
