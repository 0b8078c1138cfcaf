#include "generate/generator.hpp"

#include <algorithm>
#include <cstdint>

#include "tinylm/error.hpp"

namespace tinylm {

size_t incomplete_utf8_suffix(const std::string& text) {
  // Walk back over at most 3 continuation bytes to the lead byte, and see whether its sequence is complete.
  const size_t size = text.size();
  for (size_t back = 1; back <= std::min<size_t>(4, size); ++back) {
    const unsigned char byte = static_cast<unsigned char>(text[size - back]);
    if ((byte & 0xC0) == 0x80) continue;  // continuation byte
    const size_t expected = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1;
    return expected > back ? back : 0;
  }
  return 0;  // only continuation bytes: invalid text, passed through as is
}

Generator::Generator(LanguageModel& model, const Tokenizer& tokenizer, const GenerateOptions& options)
    : model_(model), tokenizer_(tokenizer), options_(options), sampler_(options.sampling, model.vocab_size()) {
  check(tokenizer.vocab_size() == model.vocab_size(), "the tokenizer has ", tokenizer.vocab_size(),
        " tokens but the model expects ", model.vocab_size());
  check(options.max_tokens >= 0, "max tokens must be ≥ 0, got ", options.max_tokens);
  for (const std::string& stop : options.stop) check(!stop.empty(), "stop sequences must not be empty");
}

void Generator::start(const std::string& prompt) {
  begin(prompt);
  prefill(INT32_MAX);
}

bool Generator::prefill(int max_tokens) {
  check(started_, "generator: call begin() before prefill()");
  check(max_tokens > 0, "generator: prefill needs a positive token count, got ", max_tokens);
  const size_t end = std::min(prompt_size_, fed_ + size_t(max_tokens));
  if (end > fed_) {
    logits_ = model_.prefill(history_.data() + fed_, int(end - fed_));
    read_ += end - fed_;
    fed_ = end;
  }
  return fed_ == prompt_size_;
}

std::vector<int32_t> encode_prompt(const Tokenizer& tokenizer, const std::string& prompt) {
  std::vector<int32_t> tokens = tokenizer.encode(prompt);
  if (!tokens.empty()) return tokens;
  const int eos = tokenizer.eos_id();
  tokens = eos >= 0 ? std::vector<int32_t>{eos} : tokenizer.encode("\n");
  if (!tokens.empty()) return tokens;
  check(tokenizer.unk_id() >= 0, "generator: the prompt encodes to no tokens and the tokenizer has no <eos>, "
        "no token for \"\\n\" and no <unk> to start from: give a non-empty prompt");
  return {tokenizer.unk_id()};
}

void append_token_text(const Tokenizer& tokenizer, int32_t previous, int32_t token, std::string* text) {
  if (token == tokenizer.eos_id()) {
    *text += '\n';  // <eos> ends a line (word models) or a turn: shown as a line break, no separator after
    return;
  }
  if (previous != tokenizer.eos_id()) *text += tokenizer.separator();  // word models: a space before every word
  *text += tokenizer.token_bytes(token);
}

void Generator::begin(const std::string& prompt) {
  model_.reset_state();
  history_ = encode_prompt(tokenizer_, prompt);
  prompt_size_ = history_.size();
  fed_ = 0;
  read_ = 0;
  held_ = 0;
  logits_ = nullptr;
  pending_.clear();
  stop_reason_.clear();
  generated_ = 0;
  unread_ = false;
  started_ = true;
}

size_t Generator::begin_reusing(const std::string& prompt, const std::vector<int32_t>& held) {
  std::vector<int32_t> tokens = encode_prompt(tokenizer_, prompt);
  // A proper prefix only: the last prompt token must be fed for its logits.
  if (held.empty() || held.size() >= tokens.size() || !std::equal(held.begin(), held.end(), tokens.begin())) {
    begin(prompt);
    return 0;
  }
  history_ = std::move(tokens);
  prompt_size_ = history_.size();
  fed_ = held_ = held.size();
  read_ = 0;
  logits_ = nullptr;
  pending_.clear();
  stop_reason_.clear();
  generated_ = 0;
  unread_ = false;
  started_ = true;
  return held_;
}

std::vector<int32_t> Generator::tokens_in_state() const {
  const size_t in_state = std::min(history_.size(), held_ + read_);
  return std::vector<int32_t>(history_.begin(), history_.begin() + in_state);
}

void Generator::continue_from(std::vector<int32_t> history, size_t fed, const float* logits, const std::string& prompt) {
  check(fed <= history.size() && (fed < history.size() || logits != nullptr),
        "generator: continuing needs the logits of a fully read history");
  const std::vector<int32_t> added = tokenizer_.encode(prompt);
  check(!history.empty() || !added.empty(), "generator: nothing to continue from: give a prompt");
  history_ = std::move(history);
  history_.insert(history_.end(), added.begin(), added.end());
  prompt_size_ = history_.size();
  fed_ = held_ = fed;
  read_ = 0;
  logits_ = fed == prompt_size_ ? logits : nullptr;
  pending_.clear();
  stop_reason_.clear();
  generated_ = 0;
  unread_ = false;
  started_ = true;
}

bool Generator::next(std::string* piece) {
  check(started_, "generator: call start() before next()");
  check(fed_ == prompt_size_, "generator: the prompt is not fed yet: call prefill() until it returns true");
  piece->clear();
  if (!stop_reason_.empty()) return false;
  if (unread_) {  // the token the previous call returned: the model reads it now, not before the caller had it
    logits_ = model_.step(history_.back());
    ++read_;
    unread_ = false;
  }
  if (generated_ >= options_.max_tokens) {
    stop_reason_ = "max_tokens";
    *piece = take_safe_text(true);
    return false;
  }
  sampler_.set_thread_pool(model_.thread_pool());  // the model's pool may change between steps
  const int32_t token = sampler_.sample(logits_, history_);
  history_.push_back(token);
  ++generated_;
  if (options_.stop_at_eos && token == tokenizer_.eos_id()) {
    stop_reason_ = "eos";
    *piece = take_safe_text(true);
    return false;
  }
  append_token_text(tokenizer_, history_[history_.size() - 2], token, &pending_);

  for (const std::string& stop : options_.stop) {
    const size_t at = pending_.find(stop);
    if (at == std::string::npos) continue;
    pending_.resize(at);
    stop_reason_ = "stop";
    *piece = take_safe_text(true);
    return false;
  }
  unread_ = generated_ < options_.max_tokens;
  *piece = take_safe_text(false);
  if (generated_ >= options_.max_tokens) {
    stop_reason_ = "max_tokens";
    *piece += take_safe_text(true);
    return false;
  }
  return true;
}

std::string Generator::take_safe_text(bool final) {
  size_t hold = 0;
  if (!final) {
    // Hold back a tail that could still grow into a stop sequence, or that ends mid-character.
    for (const std::string& stop : options_.stop) {
      for (size_t length = std::min(stop.size() - 1, pending_.size()); length > hold; --length) {
        if (pending_.compare(pending_.size() - length, length, stop, 0, length) == 0) {
          hold = length;
          break;
        }
      }
    }
    hold = std::max(hold, incomplete_utf8_suffix(pending_));
  }
  std::string safe = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return safe;
}

}  // namespace tinylm
