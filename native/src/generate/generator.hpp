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
  // begin() that keeps what the model already holds, as llama.cpp's server keeps a cached prompt: when the model's
  // state is the one after `held` (the caller vouches that nothing stepped, reset or changed the model since) and
  // `held` is a proper prefix of the prompt's tokens, prefill() feeds only the rest; else this is begin(). The same
  // tokens fed from the same state give what begin() gives: exactly for a recurrent model, which steps; to rounding
  // for a decoder, whose batched prefill then splits the prompt elsewhere. Returns the tokens kept.
  size_t begin_reusing(const std::string& prompt, const std::vector<int32_t>& held);
  // The tokens the model's state is after: history()[0 … held + read), what begin_reusing() can keep next time.
  std::vector<int32_t> tokens_in_state() const;
  // begin() without the reset, for a session's next turn: the model's state is the one after history[0 … fed), and
  // `prompt` (may be empty) is appended to the history. When fed is the whole history, `logits` (V) are the
  // next-token logits of that state (the caller keeps them alive until the first next()).
  void continue_from(std::vector<int32_t> history, size_t fed, const float* logits, const std::string& prompt);
  // Tokens the model has read since begin()/continue_from(): the prompt's fed so far plus every generated one
  // stepped (the last generated token is read by the next turn, not this one).
  size_t tokens_read() const { return read_; }
  size_t prompt_tokens() const { return prompt_size_; }
  size_t prompt_tokens_fed() const { return fed_; }
  // Generates one token. *piece receives the text that became safe to show (possibly empty). Returns false when
  // generation has ended (see stop_reason()); the text of that last call is in *piece as well. The model reads the
  // token at the start of the next call, so a token reaches the caller without waiting for the step after it: the
  // first one as soon as the prompt's prefill has run. Until then the state (tokens_in_state(), next_logits()) is
  // the one the token was drawn from.
  bool next(std::string* piece);

  const std::string& stop_reason() const { return stop_reason_; }  // "", "max_tokens", "stop", "eos"
  int tokens_generated() const { return generated_; }
  int32_t last_token() const { return history_.empty() ? -1 : history_.back(); }
  const std::vector<int32_t>& history() const { return history_; }  // prompt + generated ids
  const Sampler& sampler() const { return sampler_; }
  const float* next_logits() const { return logits_; }  // (V) after the last token read; null before any

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
  bool unread_ = false;  // history_.back() was generated and returned but not yet read by the model
  size_t prompt_size_ = 0, fed_ = 0;  // prompt tokens in history_, and how many of them the model has seen
  size_t read_ = 0;                   // tokens_read()
  size_t held_ = 0;                   // history_[0 … held_) was in the model's state before this generation
};

// The tokens generation starts from: the prompt's, or for an empty prompt <eos>, else "\n", else <unk>.
std::vector<int32_t> encode_prompt(const Tokenizer& tokenizer, const std::string& prompt);
// Appends a generated token's text after `previous` (the token before it): <eos> is a line break, and a word
// tokenizer's separator goes before every token that does not start a line.
void append_token_text(const Tokenizer& tokenizer, int32_t previous, int32_t token, std::string* text);

// Length of the longest suffix of `text` that is an incomplete UTF-8 sequence (0 if text ends complete).
size_t incomplete_utf8_suffix(const std::string& text);

}  // namespace tinylm
