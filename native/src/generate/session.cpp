#include "generate/session.hpp"

#include <cstdio>
#include <cstring>

#include "io/json_text.hpp"
#include "tinylm/error.hpp"

namespace tinylm {

namespace {

constexpr char kMagic[4] = {'T', 'L', 'M', 'S'};

// FNV-1a of the tokenizer's JSON: a session restores only onto a model that encodes text the same way.
std::string tokenizer_fingerprint(const Tokenizer& tokenizer) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (const char c : tokenizer.to_json().dump()) hash = (hash ^ uint8_t(c)) * 0x100000001b3ull;
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

void append_bytes(std::vector<uint8_t>* bytes, const void* data, size_t size) {
  const size_t at = bytes->size();
  bytes->resize(at + size);
  if (size) std::memcpy(bytes->data() + at, data, size);
}

template <typename T>
void append_array(std::vector<uint8_t>* bytes, const std::vector<T>& values) {
  append_bytes(bytes, values.data(), values.size() * sizeof(T));
}

}  // namespace

Session::Session(LanguageModel& model, const Tokenizer& tokenizer) : model_(model), tokenizer_(tokenizer) {}

Generator& Session::begin_turn(const std::string& prompt, const GenerateOptions& options) {
  end_turn();
  generator_ = std::make_unique<Generator>(model_, tokenizer_, options);
  if (history_.empty()) {
    generator_->begin(prompt);
  } else {
    model_.load_state(state_);
    generator_->continue_from(history_, history_read_, logits_.empty() ? nullptr : logits_.data(), prompt);
  }
  return *generator_;
}

void Session::end_turn() {
  if (!generator_) return;
  const size_t read = generator_->tokens_read();
  const size_t before = history_.empty() ? 0 : history_read_;
  history_ = generator_->history();
  history_read_ = before + read;
  last_turn_read_ = read;
  model_.save_state(&state_);
  logits_.clear();
  if (history_read_ == history_.size() && generator_->next_logits() != nullptr) {
    logits_.assign(generator_->next_logits(), generator_->next_logits() + model_.vocab_size());
  }
  generator_.reset();
}

std::unique_ptr<Session> Session::fork() const {
  check(!generator_, "session: a turn is in progress; fork after it ends");
  auto copy = std::make_unique<Session>(model_, tokenizer_);
  copy->history_ = history_;
  copy->history_read_ = history_read_;
  copy->state_ = state_;
  copy->logits_ = logits_;
  return copy;
}

// Layout: "TLMS", u32 version, u32 header length, the header (JSON: model config, tokenizer fingerprint, counts),
// then int32 history, int32 state ints, float state floats, float logits — little-endian, as wasm and x86 store them.
std::vector<uint8_t> Session::save() const {
  check(!generator_, "session: a turn is in progress; save after it ends");
  const nlohmann::json header = {{"model", model_.config_json()},
                                 {"tokenizer", tokenizer_fingerprint(tokenizer_)},
                                 {"history", history_.size()},
                                 {"read", history_read_},
                                 {"state_ints", state_.ints.size()},
                                 {"state_floats", state_.floats.size()},
                                 {"logits", logits_.size()}};
  const std::string header_text = header.dump();
  std::vector<uint8_t> bytes;
  const uint32_t words[2] = {kFormatVersion, uint32_t(header_text.size())};
  append_bytes(&bytes, kMagic, sizeof kMagic);
  append_bytes(&bytes, words, sizeof words);
  append_bytes(&bytes, header_text.data(), header_text.size());
  append_array(&bytes, history_);
  append_array(&bytes, state_.ints);
  append_array(&bytes, state_.floats);
  append_array(&bytes, logits_);
  return bytes;
}

std::unique_ptr<Session> Session::restore(LanguageModel& model, const Tokenizer& tokenizer, const uint8_t* bytes,
                                          size_t size) {
  check(size >= 12 && std::memcmp(bytes, kMagic, 4) == 0,
        "not a saved tinylm session (it should start with \"TLMS\"): pass the bytes session.save() returned");
  uint32_t words[2];
  std::memcpy(words, bytes + 4, 8);
  check(words[0] == kFormatVersion, "this session was saved in format version ", words[0], "; this tinylm reads version ",
        kFormatVersion);
  check(words[1] <= size - 12, "session: its header runs past the end of the bytes (", size, " bytes): truncated?");
  const nlohmann::json header = parse_json(bytes + 12, words[1], nullptr, false);
  check(header.is_object() && header.contains("model") && header.contains("tokenizer"),
        "session: the header is not a session header");
  check(header["model"] == model.config_json(), "this session was saved from another model (config ",
        header["model"].dump(), "; this model's is ", model.config_json().dump(), ")");
  check(header["tokenizer"] == tokenizer_fingerprint(tokenizer),
        "this session was saved from a model with another tokenizer");
  const auto count = [&](const char* field) {
    check(header.contains(field) && header[field].is_number_unsigned(), "session: the header's '", field,
          "' is missing or not a count");
    return header[field].get<uint64_t>();
  };
  const uint64_t history = count("history"), read = count("read"), ints = count("state_ints"),
                 floats = count("state_floats"), logits = count("logits");
  const uint64_t body = size - 12 - words[1];
  check(history < body && ints < body && floats < body && logits < body &&
            4 * (history + ints + floats + logits) == body,
        "session: the header's counts do not match its ", body, " bytes of data: truncated or corrupt");
  check(read <= history && (logits == 0 || (read == history && logits == uint64_t(model.vocab_size()))),
        "session: inconsistent counts (", read, " of ", history, " tokens read, ", logits, " logits)");
  auto session = std::make_unique<Session>(model, tokenizer);
  const uint8_t* at = bytes + 12 + words[1];
  const auto read_array = [&at](auto* values, uint64_t n) {
    values->resize(size_t(n));
    if (n) std::memcpy(values->data(), at, size_t(n) * 4);
    at += n * 4;
  };
  read_array(&session->history_, history);
  read_array(&session->state_.ints, ints);
  read_array(&session->state_.floats, floats);
  read_array(&session->logits_, logits);
  session->history_read_ = size_t(read);
  for (size_t i = 0; i < session->history_.size(); ++i) {
    check(session->history_[i] >= 0 && session->history_[i] < model.vocab_size(), "session: token ",
          session->history_[i], " at ", i, " is outside the vocabulary");
  }
  check(!session->history_.empty() || read == 0, "session: no history but tokens read");
  // A reset first: it rebuilds the compact weight copies a step reads (they follow the weights only at a reset),
  // as a first turn's Generator::begin does. Then the state's sizes are checked against the model.
  model.reset_state();
  model.load_state(session->state_);
  return session;
}

}  // namespace tinylm
