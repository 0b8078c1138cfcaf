// Private to the tokenizer kinds: each kind's JSON reader (dispatched to by tokenizer_from_json) and the field
// checks they share, so every malformed document fails with the same kind of message:
//   "char tokenizer JSON: field 'lowercase' must be a boolean, got \"yes\"".
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tinylm/tokenizer.hpp"

namespace tinylm {

std::unique_ptr<Tokenizer> char_tokenizer_from_json(const nlohmann::json& json);
std::unique_ptr<Tokenizer> word_tokenizer_from_json(const nlohmann::json& json);
std::unique_ptr<Tokenizer> bpe_tokenizer_from_json(const nlohmann::json& json);
std::unique_ptr<Tokenizer> hf_tokenizer_from_json(const nlohmann::json& json);  // hf_tokenizer_config.cpp

// The special tokens: char and word put <unk> at id 0, then <eos> when enabled; bpe puts them after its merges.
inline constexpr const char* kUnkToken = "<unk>";
inline constexpr const char* kEosToken = "<eos>";

// value as compact JSON for an error message; invalid UTF-8 is shown as U+FFFD instead of throwing.
std::string json_for_message(const nlohmann::json& value);

// Checks that json is an object holding exactly `fields` (no missing or unknown field) and that its "version" is
// the one this build reads. `kind` prefixes every message ("char tokenizer JSON: ...").
void check_tokenizer_json_fields(const nlohmann::json& json, const std::string& kind,
                                 const std::vector<std::string>& fields);
bool tokenizer_json_bool(const nlohmann::json& json, const std::string& kind, const char* field);
std::string tokenizer_json_string(const nlohmann::json& json, const std::string& kind, const char* field);
// "tokens": an array of strings that starts with the special tokens (<unk>, then <eos> when has_eos) and holds
// no string twice. Returns it whole, special tokens included, so index = token id.
std::vector<std::string> tokenizer_json_tokens(const nlohmann::json& json, const std::string& kind, bool has_eos);

}  // namespace tinylm
