// Session: generation that continues where it left off. Between turns a session keeps the token history and the
// model's generation state after it (LanguageModel::save_state: a recurrent model's hidden state, a decoder's KV
// cache), so a turn reads only its own prompt's tokens — never the history again — and samples exactly what one
// generation over the whole history would (same options, same seed). Several sessions share one model: each turn
// loads its session's state first, so sessions (and plain generation) may interleave between turns.
//
//   Session session(model, tokenizer);
//   Generator& turn = session.begin_turn("User: hi\nBot:", options);
//   while (turn.next(&piece)) …;
//   session.end_turn();                    // keeps the state; the next begin_turn continues from it
//
// A turn ends with its last sampled token not yet read by the model (Generator reads a token only when another
// follows): the next turn reads it first, before its own prompt. A decoder's window slides as in one long
// generation (decoder_cache.hpp): once the history outgrows the context, the model sees its last T_max/2 … T_max
// tokens. The history keeps every sampled token, a stop sequence's too (the text shown ends before it).
//
// save() gives the session as bytes — history, state and a format version, tied to the model's config and tokenizer
// — and restore() checks all of that before the session is usable.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "generate/generator.hpp"
#include "tinylm/model.hpp"
#include "tinylm/tokenizer.hpp"

namespace tinylm {

class Session {
 public:
  static constexpr uint32_t kFormatVersion = 1;

  Session(LanguageModel& model, const Tokenizer& tokenizer);
  // Starts a turn and returns its generator (valid until the next begin_turn or the session's end): the first turn
  // starts as Generator::begin does (an empty prompt from <eos>), a later one loads the session's state and appends
  // the prompt (may be empty) to the history.
  Generator& begin_turn(const std::string& prompt, const GenerateOptions& options);
  // Keeps what the turn read and generated, also of a turn stopped early. No-op without a turn in progress.
  void end_turn();
  bool in_turn() const { return generator_ != nullptr; }

  const std::vector<int32_t>& history() const { return history_; }
  size_t tokens_read() const { return history_read_; }       // of the history, by the model
  size_t last_turn_tokens_read() const { return last_turn_read_; }
  // An independent copy (the model shared): turns of one do not affect the other. Not during a turn.
  std::unique_ptr<Session> fork() const;

  std::vector<uint8_t> save() const;  // not during a turn
  // Error naming the problem: not a session, another format version, another model or tokenizer, corrupt sizes.
  static std::unique_ptr<Session> restore(LanguageModel& model, const Tokenizer& tokenizer, const uint8_t* bytes,
                                          size_t size);

 private:
  LanguageModel& model_;
  const Tokenizer& tokenizer_;
  std::vector<int32_t> history_;       // every token of every turn
  size_t history_read_ = 0;            // history_[0 … history_read_) is in state_
  GenerationState state_;              // the model after history_[0 … history_read_)
  std::vector<float> logits_;          // (V) next-token logits when the whole history is read, else empty
  size_t last_turn_read_ = 0;
  std::unique_ptr<Generator> generator_;  // the turn in progress
};

}  // namespace tinylm
