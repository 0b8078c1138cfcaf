// Word tokenizer, modelled on the Keras Tokenizer: lowercase (optional), every character in `filters` becomes a
// space, words are the runs between whitespace (the code points Python's str.split() splits on).
//
// Line ends: each "\n" of the input ends a line and, when add_eos, encodes as <eos>. Newlines are found before
// the filters apply, so removing "\n" from the filters changes nothing and the default filters (which hold "\n")
// do not hide them. A final line without "\n" gets no <eos>, so encode("") == {} and encode("a\nb") == [a, <eos>, b].
//
// Vocabulary: <unk> (id 0), <eos> (id 1, when add_eos), then the words seen by fit, most frequent first (ties in
// byte order of their UTF-8, which is code-point order) — the Keras word_index order. max_vocab bounds
// vocab_size() including the special tokens. Unseen words, and words spelled like a special token ("<unk>" when
// the filters let '<' through), encode as <unk>. Invalid UTF-8 reads as U+FFFD, so every word is valid UTF-8.
//
// Decoding: words are joined by separator() " ", and <eos> decodes to "\n" with no separator around it, so
// decode(encode(text)) gives text with filters applied, case folded, and whitespace runs within a line collapsed
// to one space. token_bytes(<eos>) stays "" as the Tokenizer contract says: the "\n" belongs to decode(), which
// sees the neighbouring tokens; a streaming decoder that wants line breaks should test for eos_id().
//
// JSON (version 1):
//   {"kind": "word", "version": 1, "tokens": ["<unk>", "<eos>", "the", "of", ...], "lowercase": true,
//    "filters": "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n", "eos": true}
// Each non-special token is non-empty, well-formed UTF-8, and holds no whitespace and no filtered character.
#include <algorithm>
#include <bitset>
#include <unordered_map>

#include "tinylm/error.hpp"
#include "tinylm/tokenizer.hpp"
#include "tokenizer/tokenizer_json.hpp"
#include "tokenizer/utf8.hpp"

namespace tinylm {

namespace {

// Splits text into words and line ends, the one reading of the text that fit and encode share.
class WordSplitter {
 public:
  WordSplitter(bool lowercase, std::string_view filters) : lowercase_(lowercase) {
    for (char32_t character : utf8::decode(filters)) {
      if (character < 128) {
        ascii_filters_.set(character);
      } else {
        other_filters_.push_back(character);
      }
    }
    std::sort(other_filters_.begin(), other_filters_.end());
  }

  bool is_filtered(char32_t character) const {
    if (character < 128) return ascii_filters_.test(character);
    return std::binary_search(other_filters_.begin(), other_filters_.end(), character);
  }

  // Calls on_word(std::string_view word) for each word and on_line_end() for each "\n", in text order.
  template <typename OnWord, typename OnLineEnd>
  void split(std::string_view text, OnWord&& on_word, OnLineEnd&& on_line_end) const {
    std::string word;
    for (size_t position = 0; position < text.size();) {
      char32_t character = utf8::decode_next(text, position);
      const bool line_end = character == '\n';
      if (lowercase_) character = utf8::to_lower(character);
      if (line_end || utf8::is_whitespace(character) || is_filtered(character)) {
        if (!word.empty()) on_word(std::string_view(word));
        word.clear();
        if (line_end) on_line_end();
      } else {
        utf8::append(word, character);
      }
    }
    if (!word.empty()) on_word(std::string_view(word));
  }

 private:
  bool lowercase_;
  std::bitset<128> ascii_filters_;
  std::vector<char32_t> other_filters_;  // sorted
};

class WordTokenizer : public Tokenizer {
 public:
  WordTokenizer(std::vector<std::string> words, bool lowercase, std::string filters, bool has_eos)
      : words_(std::move(words)),
        lowercase_(lowercase),
        filters_(std::move(filters)),
        has_eos_(has_eos),
        splitter_(lowercase_, filters_) {
    id_of_word_.reserve(words_.size());
    for (size_t index = 0; index < words_.size(); ++index) {
      id_of_word_.emplace(words_[index], static_cast<int32_t>(index) + special_count());
    }
  }

  std::string kind() const override { return "word"; }
  int vocab_size() const override { return special_count() + static_cast<int>(words_.size()); }
  int unk_id() const override { return 0; }
  int eos_id() const override { return has_eos_ ? 1 : -1; }
  std::string separator() const override { return " "; }

  std::vector<int32_t> encode(std::string_view text) const override {
    std::vector<int32_t> ids;
    std::string key;  // reused: unordered_map<std::string> lookups need a std::string in C++17
    splitter_.split(
        text,
        [&](std::string_view word) {
          key.assign(word);
          auto found = id_of_word_.find(key);
          ids.push_back(found == id_of_word_.end() ? unk_id() : found->second);
        },
        [&] {
          if (has_eos_) ids.push_back(eos_id());
        });
    return ids;
  }

  std::string token_bytes(int32_t id) const override {
    check(id >= 0 && id < vocab_size(), "word tokenizer: token id ", id, " is outside the vocabulary [0, ",
          vocab_size(), ")");
    if (id == unk_id()) return utf8::encode(utf8::kReplacementCharacter);
    if (id == eos_id()) return "";
    return words_[static_cast<size_t>(id - special_count())];
  }

  std::string decode(const std::vector<int32_t>& ids) const override {
    std::string text;
    bool after_word = false;
    for (int32_t id : ids) {
      if (has_eos_ && id == eos_id()) {
        text += '\n';
        after_word = false;
        continue;
      }
      if (after_word) text += ' ';
      text += token_bytes(id);
      after_word = true;
    }
    return text;
  }

  nlohmann::json to_json() const override {
    nlohmann::json tokens = nlohmann::json::array();
    tokens.push_back(kUnkToken);
    if (has_eos_) tokens.push_back(kEosToken);
    for (const std::string& word : words_) tokens.push_back(word);
    return {{"kind", "word"},          {"version", 1},        {"tokens", tokens},
            {"lowercase", lowercase_}, {"filters", filters_}, {"eos", has_eos_}};
  }

 private:
  int special_count() const { return has_eos_ ? 2 : 1; }

  std::vector<std::string> words_;  // id − special_count() → word
  std::unordered_map<std::string, int32_t> id_of_word_;
  bool lowercase_;
  std::string filters_;
  bool has_eos_;
  WordSplitter splitter_;
};

}  // namespace

std::unique_ptr<Tokenizer> fit_word_tokenizer(std::string_view text, const WordTokenizerOptions& options) {
  const int special_count = options.add_eos ? 2 : 1;
  check(options.max_vocab == 0 || options.max_vocab >= special_count, "word tokenizer: max_vocab ", options.max_vocab,
        " is smaller than the ", special_count, " special tokens (0 means unlimited)");
  check(utf8::is_valid(options.filters), "word tokenizer: filters are not well-formed UTF-8");

  std::unordered_map<std::string, int64_t> frequency;
  WordSplitter splitter(options.lowercase, options.filters);
  splitter.split(
      text, [&](std::string_view word) { ++frequency[std::string(word)]; }, [] {});
  // A word spelled like a special token would be a second token with the same text; it stays <unk> instead.
  frequency.erase(kUnkToken);
  frequency.erase(kEosToken);

  std::vector<std::pair<std::string, int64_t>> by_frequency(frequency.begin(), frequency.end());
  std::sort(by_frequency.begin(), by_frequency.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (options.max_vocab > 0 && by_frequency.size() > static_cast<size_t>(options.max_vocab - special_count)) {
    by_frequency.resize(static_cast<size_t>(options.max_vocab - special_count));
  }
  std::vector<std::string> words;
  words.reserve(by_frequency.size());
  for (auto& entry : by_frequency) words.push_back(std::move(entry.first));
  return std::make_unique<WordTokenizer>(std::move(words), options.lowercase, options.filters, options.add_eos);
}

std::unique_ptr<Tokenizer> word_tokenizer_from_json(const nlohmann::json& json) {
  const std::string kind = "word";
  check_tokenizer_json_fields(json, kind, {"kind", "version", "tokens", "lowercase", "filters", "eos"});
  const bool lowercase = tokenizer_json_bool(json, kind, "lowercase");
  const bool has_eos = tokenizer_json_bool(json, kind, "eos");
  const std::string filters = tokenizer_json_string(json, kind, "filters");
  check(utf8::is_valid(filters), "word tokenizer JSON: field 'filters' is not well-formed UTF-8");
  const std::vector<std::string> tokens = tokenizer_json_tokens(json, kind, has_eos);

  const WordSplitter splitter(lowercase, filters);
  std::vector<std::string> words;
  for (size_t index = has_eos ? 2 : 1; index < tokens.size(); ++index) {
    const std::string& word = tokens[index];
    bool well_formed = !word.empty() && utf8::is_valid(word) && word != kUnkToken;
    for (char32_t character : utf8::decode(word)) {
      well_formed = well_formed && !utf8::is_whitespace(character) && !splitter.is_filtered(character);
    }
    if (!well_formed) {
      fail("word tokenizer JSON: field 'tokens'[", index, "] ", json_for_message(word),
           " is not a word this tokenizer can produce (empty, malformed UTF-8, whitespace, a filtered character,"
           " or a special token)");
    }
    words.push_back(word);
  }
  return std::make_unique<WordTokenizer>(std::move(words), lowercase, filters, has_eos);
}

}  // namespace tinylm
