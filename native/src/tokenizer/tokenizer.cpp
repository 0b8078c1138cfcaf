// The Tokenizer pieces shared by every kind: the default decode (token bytes joined by the separator),
// tokenizer_from_json (dispatch on "kind"), and the JSON field checks the kinds' readers share.
//
// Every kind's JSON is an object {"kind": "<kind>", "version": 1, "tokens": [...], ...options}: "tokens" lists
// every token by id, special tokens included (<unk> first, then <eos> when "eos" is true). The exceptions are
// "bpe", whose tokens are raw bytes (not JSON strings): it lists its "merges" and rebuilds the tokens; and "hf",
// which holds the text of a Hugging Face tokenizer.json and tokenizer_config.json (tokenizer/hf_tokenizer.hpp). The kinds
// document their own options at the top of their .cpp. Readers reject missing fields, unknown fields (a misspelt option
// must not be silently ignored), wrong types, other versions and duplicate tokens, naming the field.
#include "tinylm/tokenizer.hpp"

#include <unordered_map>

#include "tinylm/error.hpp"
#include "tokenizer/tokenizer_json.hpp"

namespace tinylm {

namespace {

constexpr int kTokenizerJsonVersion = 1;

}  // namespace

std::string json_for_message(const nlohmann::json& value) {
  // replace: a JSON value built in C++ may hold invalid UTF-8, and reporting it must not throw a second error.
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  const std::string separator_bytes = separator();
  std::string text;
  for (size_t index = 0; index < ids.size(); ++index) {
    if (index > 0) text += separator_bytes;
    text += token_bytes(ids[index]);
  }
  return text;
}

std::unique_ptr<Tokenizer> tokenizer_from_json(const nlohmann::json& json) {
  check(json.is_object(), "tokenizer JSON must be an object, got ", json.type_name());
  auto kind = json.find("kind");
  check(kind != json.end(), "tokenizer JSON: field 'kind' is missing");
  if (!kind->is_string()) fail("tokenizer JSON: field 'kind' must be a string, got ", json_for_message(*kind));
  const std::string& name = kind->get_ref<const std::string&>();
  if (name == "char") return char_tokenizer_from_json(json);
  if (name == "word") return word_tokenizer_from_json(json);
  if (name == "bpe") return bpe_tokenizer_from_json(json);
  if (name == "hf") return hf_tokenizer_from_json(json);
  fail("tokenizer JSON: unknown kind ", json_for_message(*kind), " (known: \"char\", \"word\", \"bpe\", \"hf\")");
}

void check_tokenizer_json_fields(const nlohmann::json& json, const std::string& kind,
                                 const std::vector<std::string>& fields) {
  check(json.is_object(), kind, " tokenizer JSON must be an object, got ", json.type_name());
  for (const std::string& field : fields) {
    check(json.contains(field), kind, " tokenizer JSON: field '", field, "' is missing");
  }
  for (const auto& item : json.items()) {
    bool known = false;
    for (const std::string& field : fields) known = known || item.key() == field;
    check(known, kind, " tokenizer JSON: unknown field '", item.key(), "'");
  }
  const nlohmann::json& version = json.at("version");
  if (!version.is_number_integer() || version.get<int64_t>() != kTokenizerJsonVersion) {
    fail(kind, " tokenizer JSON: field 'version' is ", json_for_message(version), "; this build reads version ",
         kTokenizerJsonVersion);
  }
}

bool tokenizer_json_bool(const nlohmann::json& json, const std::string& kind, const char* field) {
  const nlohmann::json& value = json.at(field);
  if (!value.is_boolean()) {
    fail(kind, " tokenizer JSON: field '", field, "' must be a boolean, got ", json_for_message(value));
  }
  return value.get<bool>();
}

std::string tokenizer_json_string(const nlohmann::json& json, const std::string& kind, const char* field) {
  const nlohmann::json& value = json.at(field);
  if (!value.is_string()) {
    fail(kind, " tokenizer JSON: field '", field, "' must be a string, got ", json_for_message(value));
  }
  return value.get<std::string>();
}

std::vector<std::string> tokenizer_json_tokens(const nlohmann::json& json, const std::string& kind, bool has_eos) {
  const nlohmann::json& list = json.at("tokens");
  check(list.is_array(), kind, " tokenizer JSON: field 'tokens' must be an array, got ", list.type_name());
  std::vector<std::string> tokens;
  tokens.reserve(list.size());
  std::unordered_map<std::string, size_t> first_index;
  for (size_t index = 0; index < list.size(); ++index) {
    const nlohmann::json& token = list[index];
    if (!token.is_string()) {
      fail(kind, " tokenizer JSON: field 'tokens'[", index, "] must be a string, got ", json_for_message(token));
    }
    auto [where, inserted] = first_index.emplace(token.get<std::string>(), index);
    if (!inserted) {
      fail(kind, " tokenizer JSON: field 'tokens' holds ", json_for_message(token), " twice (ids ", where->second,
           " and ", index, ")");
    }
    tokens.push_back(token.get<std::string>());
  }
  const size_t special_count = has_eos ? 2 : 1;
  check(tokens.size() >= special_count, kind, " tokenizer JSON: field 'tokens' has ", tokens.size(),
        " entries, fewer than its ", special_count, " special tokens");
  if (tokens[0] != kUnkToken) {
    fail(kind, " tokenizer JSON: field 'tokens'[0] must be \"<unk>\", got ", json_for_message(tokens[0]));
  }
  if (has_eos && tokens[1] != kEosToken) {
    fail(kind, " tokenizer JSON: field 'tokens'[1] must be \"<eos>\" since 'eos' is true, got ",
         json_for_message(tokens[1]));
  }
  for (size_t index = special_count; index < tokens.size(); ++index) {
    check(tokens[index] != kEosToken, kind, " tokenizer JSON: field 'tokens'[", index,
          "] is \"<eos>\" but 'eos' is false");
  }
  return tokens;
}

}  // namespace tinylm
