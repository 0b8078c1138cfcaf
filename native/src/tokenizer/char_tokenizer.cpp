// Character tokenizer: one token per Unicode code point, so "é", "鯨" and "🐋" are one token each.
//
// Vocabulary: <unk> (id 0), <eos> (id 1, when add_eos), then the characters seen by fit and those of
// always_include, ordered by code point. max_vocab bounds vocab_size() including the special tokens; when it cuts,
// always_include stays whole and the most frequent other characters fill the rest (ties broken by the lower code
// point), all ordered by code point. Characters not in the
// vocabulary — and bytes that are not valid UTF-8, which decode to U+FFFD — encode as <unk>.
// token_bytes(<unk>) is U+FFFD in UTF-8 and token_bytes(<eos>) is "", so decode(encode(text)) == text whenever
// every character of text is in the vocabulary (and lowercase is off).
//
// JSON (version 1):
//   {"kind": "char", "version": 1, "tokens": ["<unk>", "<eos>", "\n", " ", "a", ...],
//    "lowercase": false, "eos": true}
// "tokens" lists every token by id; each non-special token is exactly one well-formed code point.
#include <algorithm>
#include <unordered_map>

#include "tinylm/error.hpp"
#include "tinylm/tokenizer.hpp"
#include "tokenizer/tokenizer_json.hpp"
#include "tokenizer/utf8.hpp"

namespace tinylm {

namespace {

class CharTokenizer : public Tokenizer {
 public:
  // characters: the non-special tokens in id order (ids start after the special tokens).
  CharTokenizer(std::vector<char32_t> characters, bool lowercase, bool has_eos)
      : characters_(std::move(characters)), lowercase_(lowercase), has_eos_(has_eos) {
    id_of_character_.reserve(characters_.size());
    for (size_t index = 0; index < characters_.size(); ++index) {
      id_of_character_.emplace(characters_[index], static_cast<int32_t>(index) + special_count());
    }
  }

  std::string kind() const override { return "char"; }
  int vocab_size() const override { return special_count() + static_cast<int>(characters_.size()); }
  int unk_id() const override { return 0; }
  int eos_id() const override { return has_eos_ ? 1 : -1; }

  std::vector<int32_t> encode(std::string_view text) const override {
    std::vector<int32_t> ids;
    ids.reserve(text.size());
    for (size_t position = 0; position < text.size();) {
      char32_t character = utf8::decode_next(text, position);
      if (lowercase_) character = utf8::to_lower(character);
      auto found = id_of_character_.find(character);
      ids.push_back(found == id_of_character_.end() ? unk_id() : found->second);
    }
    return ids;
  }

  std::string token_bytes(int32_t id) const override {
    check(id >= 0 && id < vocab_size(), "char tokenizer: token id ", id, " is outside the vocabulary [0, ",
          vocab_size(), ")");
    if (id == unk_id()) return utf8::encode(utf8::kReplacementCharacter);
    if (id == eos_id()) return "";
    return utf8::encode(characters_[static_cast<size_t>(id - special_count())]);
  }

  nlohmann::json to_json() const override {
    nlohmann::json tokens = nlohmann::json::array();
    tokens.push_back(kUnkToken);
    if (has_eos_) tokens.push_back(kEosToken);
    for (char32_t character : characters_) tokens.push_back(utf8::encode(character));
    return {{"kind", "char"}, {"version", 1}, {"tokens", tokens}, {"lowercase", lowercase_}, {"eos", has_eos_}};
  }

 private:
  int special_count() const { return has_eos_ ? 2 : 1; }

  std::vector<char32_t> characters_;  // id − special_count() → code point
  std::unordered_map<char32_t, int32_t> id_of_character_;
  bool lowercase_;
  bool has_eos_;
};

}  // namespace

std::u32string named_character_set(std::string_view name) {
  if (name.empty()) return {};
  check(name == "ascii+typographic", "char tokenizer: unknown character set '", name,
        "': the named sets are 'ascii+typographic' (or '' for none)");
  std::u32string characters = U"\t\n";
  for (char32_t code_point = 0x20; code_point <= 0x7E; ++code_point) characters.push_back(code_point);
  for (char32_t code_point = 0xA0; code_point <= 0xFF; ++code_point) characters.push_back(code_point);
  characters += U"\u0152\u0153"                                    // Œ œ
                U"\u2010\u2011\u2013\u2014"                        // ‐ ‑ – —
                U"\u2018\u2019\u201A\u201C\u201D\u201E"            // ‘ ’ ‚ “ ” „
                U"\u2020\u2021\u2022\u2026\u2030\u2032\u2033\u2039\u203A"  // † ‡ • … ‰ ′ ″ ‹ ›
                U"\u20AC\u2122";                                  // € ™
  return characters;
}

std::unique_ptr<Tokenizer> fit_char_tokenizer(std::string_view text, const CharTokenizerOptions& options) {
  const int special_count = options.add_eos ? 2 : 1;
  std::vector<char32_t> always;
  for (char32_t character : options.always_include) {
    always.push_back(options.lowercase ? utf8::to_lower(character) : character);
  }
  std::sort(always.begin(), always.end());
  always.erase(std::unique(always.begin(), always.end()), always.end());
  const int required = special_count + static_cast<int>(always.size());
  check(options.max_vocab == 0 || options.max_vocab >= required, "char tokenizer: max_vocab ", options.max_vocab,
        " is smaller than the ", special_count, " special tokens and ", always.size(),
        " characters always included (0 means unlimited)");

  std::unordered_map<char32_t, int64_t> frequency;
  for (size_t position = 0; position < text.size();) {
    char32_t character = utf8::decode_next(text, position);
    if (options.lowercase) character = utf8::to_lower(character);
    ++frequency[character];
  }
  for (char32_t character : always) frequency.erase(character);

  std::vector<std::pair<char32_t, int64_t>> by_frequency(frequency.begin(), frequency.end());
  if (options.max_vocab > 0 && by_frequency.size() > static_cast<size_t>(options.max_vocab - required)) {
    std::sort(by_frequency.begin(), by_frequency.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    by_frequency.resize(static_cast<size_t>(options.max_vocab - required));
  }
  std::vector<char32_t> characters = always;
  characters.reserve(always.size() + by_frequency.size());
  for (const auto& entry : by_frequency) characters.push_back(entry.first);
  std::sort(characters.begin(), characters.end());
  return std::make_unique<CharTokenizer>(std::move(characters), options.lowercase, options.add_eos);
}

std::unique_ptr<Tokenizer> char_tokenizer_from_json(const nlohmann::json& json) {
  const std::string kind = "char";
  check_tokenizer_json_fields(json, kind, {"kind", "version", "tokens", "lowercase", "eos"});
  const bool lowercase = tokenizer_json_bool(json, kind, "lowercase");
  const bool has_eos = tokenizer_json_bool(json, kind, "eos");
  const std::vector<std::string> tokens = tokenizer_json_tokens(json, kind, has_eos);

  std::vector<char32_t> characters;
  for (size_t index = has_eos ? 2 : 1; index < tokens.size(); ++index) {
    const std::vector<char32_t> code_points = utf8::decode(tokens[index]);
    if (code_points.size() != 1 || !utf8::is_valid(tokens[index])) {
      fail("char tokenizer JSON: field 'tokens'[", index, "] ", json_for_message(tokens[index]),
           " must be exactly one well-formed UTF-8 character");
    }
    characters.push_back(code_points[0]);
  }
  return std::make_unique<CharTokenizer>(std::move(characters), lowercase, has_eos);
}

}  // namespace tinylm
