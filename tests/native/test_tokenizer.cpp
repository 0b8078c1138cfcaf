// Tokenizers: UTF-8 decoding (invalid bytes → U+FFFD the way TextDecoder does), the char and word kinds
// (vocabulary order, max_vocab, unknowns, <eos>, round trips) and their JSON form (round trip, validation).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tinylm/error.hpp"
#include "tinylm/rng.hpp"
#include "tinylm/tokenizer.hpp"
#include "tokenizer/utf8.hpp"

using tinylm::Error;

namespace {

// Random text mixing ASCII, Latin-1, Greek, CJK, emoji and newlines: 1-, 2-, 3- and 4-byte UTF-8.
std::string random_utf8_text(tinylm::Rng& rng, int characters) {
  static const char32_t kRanges[][2] = {
      {0x20, 0x7E}, {0xE0, 0xFF}, {0x3B1, 0x3C9}, {0x4E00, 0x4E40}, {0x1F400, 0x1F43F}};
  std::string text;
  for (int i = 0; i < characters; ++i) {
    if (rng.next_u32() % 17 == 0) {
      text += '\n';
      continue;
    }
    const auto& range = kRanges[rng.next_u32() % 5];
    tinylm::utf8::append(text, range[0] + rng.next_u32() % (range[1] - range[0] + 1));
  }
  return text;
}

std::vector<int32_t> ids_of(const tinylm::Tokenizer& tokenizer, const std::vector<std::string>& tokens) {
  const std::string text = [&] {
    std::string joined;
    for (const std::string& token : tokens) joined += token + tokenizer.separator();
    return joined;
  }();
  return tokenizer.encode(text);
}

}  // namespace

TEST_CASE("utf8 decoding replaces invalid bytes like TextDecoder") {
  using tinylm::utf8::decode;
  const char32_t R = tinylm::utf8::kReplacementCharacter;
  SUBCASE("valid text of every length decodes to its code points") {
    CHECK(decode("a\xC3\xA9\xE9\xAF\xA8\xF0\x9F\x90\x8B") == std::vector<char32_t>{'a', 0xE9, 0x9BE8, 0x1F40B});
    CHECK(decode("").empty());
  }
  SUBCASE("stray continuation bytes and invalid leads are one U+FFFD each") {
    CHECK(decode("\x80"
                 "a\xBF") == std::vector<char32_t>{R, 'a', R});
    CHECK(decode("\xC0\xAF") == std::vector<char32_t>{R, R});  // overlong "/"
    CHECK(decode("\xFF\xFE") == std::vector<char32_t>{R, R});
  }
  SUBCASE("a truncated sequence is one U+FFFD and the next character survives") {
    CHECK(decode("\xE9\xAF"
                 "b") == std::vector<char32_t>{R, 'b'});
    CHECK(decode("\xF0\x9F\x90") == std::vector<char32_t>{R});
  }
  SUBCASE("surrogates, overlong 3-byte forms and values above U+10FFFF are rejected at the second byte") {
    CHECK(decode("\xED\xA0\x80") == std::vector<char32_t>{R, R, R});
    CHECK(decode("\xE0\x80\xAF") == std::vector<char32_t>{R, R, R});
    CHECK(decode("\xF4\x90\x80\x80") == std::vector<char32_t>{R, R, R, R});
  }
  SUBCASE("random bytes decode without fault and re-encode to valid UTF-8 that decodes the same") {
    tinylm::Rng rng(7);
    for (int trial = 0; trial < 200; ++trial) {
      std::string bytes;
      for (int i = 0; i < 40; ++i) bytes += static_cast<char>(rng.next_u32() & 0xFF);
      const std::vector<char32_t> code_points = decode(bytes);
      const std::string reencoded = tinylm::utf8::encode(code_points);
      CHECK(tinylm::utf8::is_valid(reencoded));
      CHECK(decode(reencoded) == code_points);
    }
  }
  SUBCASE("encoding a surrogate or a value above U+10FFFF writes U+FFFD") {
    CHECK(tinylm::utf8::encode(char32_t{0xD800}) == "\xEF\xBF\xBD");
    CHECK(tinylm::utf8::encode(char32_t{0x110000}) == "\xEF\xBF\xBD");
    CHECK(tinylm::utf8::is_valid("\xEF\xBF\xBD"));
    CHECK_FALSE(tinylm::utf8::is_valid("a\xC3"));
  }
}

TEST_CASE("char tokenizer vocabulary, encoding and decoding") {
  SUBCASE("special tokens first, then characters by code point; a multi-byte character is one token") {
    const auto tokenizer = tinylm::fit_char_tokenizer(
        "ba\xF0\x9F\x90\x8B"
        "a\xE9\xAF\xA8",
        {false, 0, true, {}});
    CHECK(tokenizer->kind() == "char");
    CHECK(tokenizer->vocab_size() == 6);
    CHECK(tokenizer->unk_id() == 0);
    CHECK(tokenizer->eos_id() == 1);
    CHECK(tokenizer->token_bytes(2) == "a");
    CHECK(tokenizer->token_bytes(3) == "b");
    CHECK(tokenizer->token_bytes(4) == "\xE9\xAF\xA8");      // U+9BE8 鯨
    CHECK(tokenizer->token_bytes(5) == "\xF0\x9F\x90\x8B");  // U+1F40B 🐋
    CHECK(tokenizer->token_bytes(0) == "\xEF\xBF\xBD");
    CHECK(tokenizer->token_bytes(1) == "");
    CHECK(tokenizer->encode("a\xF0\x9F\x90\x8B"
                            "b") == std::vector<int32_t>{2, 5, 3});
    CHECK_THROWS_AS(tokenizer->token_bytes(6), Error);
  }
  SUBCASE("without <eos> the characters start at id 1") {
    const auto tokenizer = tinylm::fit_char_tokenizer("ab");
    CHECK(tokenizer->eos_id() == -1);
    CHECK(tokenizer->encode("ba") == std::vector<int32_t>{2, 1});
  }
  SUBCASE("unseen characters and invalid bytes encode as <unk>") {
    const auto tokenizer = tinylm::fit_char_tokenizer("abc");
    CHECK(tokenizer->encode("axc\xFF") == std::vector<int32_t>{1, 0, 3, 0});
    CHECK(tokenizer->decode({1, 0, 3}) ==
          "a\xEF\xBF\xBD"
          "c");
  }
  SUBCASE("random UTF-8 with emoji and CJK round-trips through encode and decode") {
    tinylm::Rng rng(42);
    for (int trial = 0; trial < 20; ++trial) {
      const std::string text = random_utf8_text(rng, 300);
      const auto tokenizer = tinylm::fit_char_tokenizer(text);
      const std::vector<int32_t> ids = tokenizer->encode(text);
      CHECK(ids.size() == tinylm::utf8::decode(text).size());
      CHECK(tokenizer->decode(ids) == text);
    }
  }
  SUBCASE("max_vocab keeps the most frequent characters, ties to the lower code point, then orders by code point") {
    // Frequencies: c 4, a 3, d 3, b 2, e 1. Room for 3 characters after <unk>: c, then a over d by code point.
    const auto tokenizer = tinylm::fit_char_tokenizer("ccccaaadddbbe", {false, 4, false, {}});
    CHECK(tokenizer->vocab_size() == 4);
    CHECK(tokenizer->decode({1, 2, 3}) == "acd");
    CHECK(tokenizer->encode("abcde") == std::vector<int32_t>{1, 0, 2, 3, 0});
    CHECK_THROWS_AS(tinylm::fit_char_tokenizer("abc", {false, 1, true, {}}), Error);
  }
  SUBCASE("lowercase folds ASCII and other scripts at fit and at encode") {
    const auto tokenizer = tinylm::fit_char_tokenizer("AbÉΣ", {true, 0, false, {}});
    CHECK(tokenizer->decode({1, 2, 3, 4}) == "abéσ");
    CHECK(tokenizer->encode("aBéσ") == tokenizer->encode("AbÉΣ"));
  }
  SUBCASE("empty text gives only the special tokens; encoding empty text gives no ids") {
    const auto tokenizer = tinylm::fit_char_tokenizer("", {false, 0, true, {}});
    CHECK(tokenizer->vocab_size() == 2);
    CHECK(tokenizer->encode("").empty());
    CHECK(tokenizer->encode("x") == std::vector<int32_t>{0});
  }
}

TEST_CASE("char tokenizer: characters always in the vocabulary") {
  SUBCASE("always_include adds unseen characters; encode maps them to their own ids") {
    tinylm::CharTokenizerOptions options;
    options.always_include = U"\"'\u00E9";
    const auto tokenizer = tinylm::fit_char_tokenizer("ab", options);
    CHECK(tokenizer->vocab_size() == 6);  // <unk> " ' a b é
    CHECK(tokenizer->decode({1, 2, 3, 4, 5}) == "\"'ab\u00E9");
    CHECK(tokenizer->decode(tokenizer->encode("a\u00E9'\"")) == "a\u00E9'\"");
  }
  SUBCASE("max_vocab keeps the whole set and fills the rest with the most frequent characters") {
    tinylm::CharTokenizerOptions options;
    options.max_vocab = 4;
    options.always_include = U"zz";  // duplicates count once
    const auto tokenizer = tinylm::fit_char_tokenizer("cccaab", options);
    CHECK(tokenizer->vocab_size() == 4);
    CHECK(tokenizer->decode({1, 2, 3}) == "acz");
    options.max_vocab = 1;
    CHECK_THROWS_AS(tinylm::fit_char_tokenizer("abc", options), Error);
  }
  SUBCASE("lowercase folds the set too") {
    tinylm::CharTokenizerOptions options;
    options.lowercase = true;
    options.always_include = U"AB";
    CHECK(tinylm::fit_char_tokenizer("", options)->decode({1, 2}) == "ab");
  }
  SUBCASE("ascii+typographic: tab, newline, printable ASCII, Latin-1 and English typography; 216 characters") {
    const std::u32string set = tinylm::named_character_set("ascii+typographic");
    CHECK(set.size() == 216);
    for (char32_t c : std::u32string(U"\t\n \"'#%+/<=>@\\^_`{|}~\u00E9\u00C9\u00E7\u00F1\u00AB\u00BB\u00A3"
                                     U"\u2018\u2019\u201C\u201D\u2013\u2014\u2026\u20AC")) {
      CHECK(set.find(c) != std::u32string::npos);
    }
    tinylm::CharTokenizerOptions options;
    options.always_include = set;
    const auto tokenizer = tinylm::fit_char_tokenizer("", options);
    const std::string typed =
        "I don\u2019t know what \u201Cit\u201D is \u2014 na\u00EFve caf\u00E9, \"it's\" 5% off #1 <tag>.";
    CHECK(tokenizer->decode(tokenizer->encode(typed)) == typed);
    CHECK(tinylm::named_character_set("").empty());
    CHECK_THROWS_WITH_AS(tinylm::named_character_set("latin"), doctest::Contains("'latin'"), Error);
  }
}

TEST_CASE("word tokenizer splits like Keras and marks line ends") {
  const std::string text = "The whale, the WHALE!\nMoby-Dick; the sea.\n\nCall me";
  const auto tokenizer = tinylm::fit_word_tokenizer(text);
  SUBCASE("vocabulary: most frequent first, ties alphabetical, after <unk> and <eos>") {
    // the ×3, whale ×2, then call dick me moby sea ×1 in alphabetical order.
    CHECK(tokenizer->kind() == "word");
    CHECK(tokenizer->vocab_size() == 9);
    const std::vector<std::string> expected = {"the", "whale", "call", "dick", "me", "moby", "sea"};
    for (size_t i = 0; i < expected.size(); ++i)
      CHECK(tokenizer->token_bytes(static_cast<int32_t>(i) + 2) == expected[i]);
    CHECK(tokenizer->separator() == " ");
  }
  SUBCASE("filters become spaces, case folds, each newline is an <eos>") {
    CHECK(tokenizer->encode(text) == std::vector<int32_t>{2, 3, 2, 3, 1, 7, 5, 2, 8, 1, 1, 4, 6});
    CHECK(tokenizer->encode("") == std::vector<int32_t>{});
    CHECK(tokenizer->encode("sea\n") == std::vector<int32_t>{8, 1});
  }
  SUBCASE("decode of encode gives the normalised text, <eos> as a line break") {
    CHECK(tokenizer->decode(tokenizer->encode(text)) == "the whale the whale\nmoby dick the sea\n\ncall me");
    CHECK(tokenizer->token_bytes(tokenizer->eos_id()) == "");
  }
  SUBCASE("unseen words encode as <unk>, as do words spelled like a special token") {
    CHECK(tokenizer->encode("the kraken") == std::vector<int32_t>{2, 0});
    const auto unfiltered = tinylm::fit_word_tokenizer("<unk> <eos> x", {true, "", 0, true});
    CHECK(unfiltered->vocab_size() == 3);
    CHECK(unfiltered->encode("<unk> <eos> x") == std::vector<int32_t>{0, 0, 2});
  }
  SUBCASE("max_vocab keeps the most frequent words, ties alphabetical") {
    const auto small = tinylm::fit_word_tokenizer(text, {true, tinylm::WordTokenizerOptions().filters, 5, true});
    CHECK(small->vocab_size() == 5);
    CHECK(ids_of(*small, {"the", "whale", "call", "dick", "me"}) == std::vector<int32_t>{2, 3, 4, 0, 0});
  }
  SUBCASE("without <eos>, newlines are only whitespace; without lowercase, case is kept") {
    const auto plain = tinylm::fit_word_tokenizer("A a\nb", {false, "", 0, false});
    CHECK(plain->eos_id() == -1);
    CHECK(plain->encode("A a\nb") == std::vector<int32_t>{1, 2, 3});
    CHECK(plain->decode({1, 2, 3}) == "A a b");
  }
  SUBCASE("non-ASCII words and filters") {
    const auto unicode = tinylm::fit_word_tokenizer("Αχιλλεύς—鯨 café", {true, "—", 0, true});
    CHECK(unicode->decode(unicode->encode("αχιλλεύς 鯨—CAFÉ")) == "αχιλλεύς 鯨 café");
  }
  SUBCASE("empty text gives only the special tokens") {
    const auto empty = tinylm::fit_word_tokenizer("");
    CHECK(empty->vocab_size() == 2);
    CHECK(empty->encode("").empty());
  }
}

TEST_CASE("tokenizer JSON round trip") {
  tinylm::Rng rng(3);
  const std::string text = random_utf8_text(rng, 2000) + " the cat\nsat on the mat";
  SUBCASE("char: same kind, vocabulary and encodings") {
    const auto original = tinylm::fit_char_tokenizer(text, {true, 50, true, {}});
    const nlohmann::json json = nlohmann::json::parse(original->to_json().dump());
    CHECK(json["kind"] == "char");
    CHECK(json["version"] == 1);
    const auto restored = tinylm::tokenizer_from_json(json);
    CHECK(restored->kind() == "char");
    CHECK(restored->vocab_size() == original->vocab_size());
    CHECK(restored->eos_id() == original->eos_id());
    CHECK(restored->encode(text) == original->encode(text));
    CHECK(restored->to_json() == original->to_json());
  }
  SUBCASE("word: same kind, vocabulary and encodings") {
    const auto original = tinylm::fit_word_tokenizer(text, {true, "!,.", 0, true});
    const auto restored = tinylm::tokenizer_from_json(nlohmann::json::parse(original->to_json().dump()));
    CHECK(restored->kind() == "word");
    CHECK(restored->separator() == " ");
    CHECK(restored->encode(text) == original->encode(text));
    CHECK(restored->decode(restored->encode(text)) == original->decode(original->encode(text)));
    CHECK(restored->to_json() == original->to_json());
  }
}

TEST_CASE("tokenizer JSON validation names the field") {
  const nlohmann::json char_json = tinylm::fit_char_tokenizer("abc", {false, 0, true, {}})->to_json();
  const nlohmann::json word_json = tinylm::fit_word_tokenizer("the cat")->to_json();
  auto without = [](nlohmann::json json, const char* field) {
    json.erase(field);
    return json;
  };
  auto with = [](nlohmann::json json, const char* field, nlohmann::json value) {
    json[field] = std::move(value);
    return json;
  };
  using doctest::Contains;
  SUBCASE("kind") {
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(without(char_json, "kind")), Contains("'kind' is missing"), Error);
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(with(char_json, "kind", "sentencepiece")),
                         Contains("unknown kind \"sentencepiece\""), Error);
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(with(char_json, "kind", 3)), Contains("'kind' must be a string"),
                         Error);
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(nlohmann::json::array()), Contains("must be an object"), Error);
  }
  SUBCASE("missing, unknown and mistyped fields") {
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(without(char_json, "tokens")), Contains("'tokens' is missing"),
                         Error);
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(without(word_json, "filters")), Contains("'filters' is missing"),
                         Error);
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(with(char_json, "lowercas", true)),
                         Contains("unknown field 'lowercas'"), Error);
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(with(char_json, "lowercase", "yes")),
                         Contains("'lowercase' must be a boolean, got \"yes\""), Error);
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(with(word_json, "filters", 7)),
                         Contains("'filters' must be a string"), Error);
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(with(char_json, "tokens", "abc")),
                         Contains("'tokens' must be an array"), Error);
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(with(char_json, "version", 2)), Contains("'version' is 2"), Error);
  }
  SUBCASE("token list contents") {
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(with(char_json, "tokens", {"<unk>", "<eos>", "a", "b", "a"})),
                         Contains("'tokens' holds \"a\" twice (ids 2 and 4)"), Error);
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(with(char_json, "tokens", {"a", "<eos>"})),
                         Contains("'tokens'[0] must be \"<unk>\""), Error);
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(with(char_json, "tokens", {"<unk>", "a"})),
                         Contains("'tokens'[1] must be \"<eos>\""), Error);
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(with(char_json, "tokens", {"<unk>", "<eos>", "ab"})),
                         Contains("'tokens'[2] \"ab\" must be exactly one"), Error);
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(with(char_json, "tokens", {"<unk>", "<eos>", 5})),
                         Contains("'tokens'[2] must be a string"), Error);
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(with(word_json, "tokens", {"<unk>", "<eos>", "two words"})),
                         Contains("'tokens'[2] \"two words\""), Error);
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(with(word_json, "tokens", {"<unk>", "<eos>", "cat!"})),
                         Contains("'tokens'[2] \"cat!\""), Error);
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(with(with(word_json, "eos", false), "tokens", {"<unk>", "<eos>"})),
                         Contains("'tokens'[1] is \"<eos>\" but 'eos' is false"), Error);
  }
}
