// Hugging Face tokenizers, the parts that cut and merge: GPT-2's pattern (as Oniguruma matches it, White_Space for
// \s), the Unicode classes, the Digits, Metaspace and Split pre-tokenizers with every split behaviour, and the BPE
// model's rules (leftmost lowest-rank merges, unknown characters, byte fallback, subword prefix and suffix,
// ignore_merges). Expected values follow the tokenizers library's rules, worked out by hand; the Node tests in
// tests/hf_tokenizer compare whole tokenizers with reference encoders.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "hf_tokenizer_fixtures.hpp"
#include "tinylm/error.hpp"
#include "tokenizer/hf_pre_tokenizer.hpp"
#include "tokenizer/hf_unicode.hpp"

using namespace tinylm;
using namespace tinylm::testing;

namespace {

std::vector<std::string> gpt2_chunks(const std::string& text) {
  std::vector<std::string> chunks;
  for (size_t start = 0; start < text.size();) {
    const size_t end = hf::gpt2_match_end(text, start);
    REQUIRE(end > start);
    chunks.push_back(text.substr(start, end - start));
    start = end;
  }
  return chunks;
}

std::vector<std::string> pre_tokenize(const nlohmann::json& pre_tokenizer, const std::string& text,
                                      bool at_text_start = true) {
  const hf::PreTokenizer steps = hf::PreTokenizer::from_json({pre_tokenizer, "pre_tokenizer"});
  std::vector<hf::Piece> pieces = {{text, at_text_start}};
  steps.apply(pieces);
  std::vector<std::string> texts;
  for (const hf::Piece& piece : pieces) texts.push_back(piece.text);
  return texts;
}

using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE("GPT-2's pattern: contractions, a space before a run, whitespace runs that leave their last space") {
  CHECK(gpt2_chunks("Hello world") == Strings{"Hello", " world"});
  CHECK(gpt2_chunks("I'm they'll 'S 'st") == Strings{"I", "'m", " they", "'ll", " '", "S", " '", "st"});
  CHECK(gpt2_chunks("x  \n\ny") == Strings{"x", "  \n", "\n", "y"});
  CHECK(gpt2_chunks("a   ") == Strings{"a", "   "});  // at the end: the whole run
  CHECK(gpt2_chunks(" 1851, 42!!") == Strings{" 1851", ",", " 42", "!!"});
  CHECK(gpt2_chunks("2024年€100") == Strings{"2024", "年", "€", "100"});
  CHECK(gpt2_chunks("e\u0301 👍🏽!") == Strings{"e", "\u0301", " 👍🏽!"});  // marks are not letters
}

TEST_CASE("GPT-2's pattern: \\s is White_Space as in Oniguruma (U+0085 is, U+FEFF and U+200B are not)") {
  CHECK(gpt2_chunks("a\u0085\u0085b") == Strings{"a", "\u0085", "\u0085", "b"});
  CHECK(gpt2_chunks("a \ufeffb") == Strings{"a", " \ufeff", "b"});
  CHECK(gpt2_chunks("a\u200b b") == Strings{"a", "\u200b", " b"});
  CHECK(gpt2_chunks("a\u3000\u00a0b") == Strings{"a", "\u3000", "\u00a0", "b"});  // " ?" is U+0020 only
}

TEST_CASE("the Unicode table: categories, White_Space over category, and the version it was made from") {
  using hf::CharClass;
  CHECK(hf::char_class('a') == CharClass::kLetter);
  CHECK(hf::char_class(0x4E00) == CharClass::kLetter);
  CHECK(hf::char_class(0x0301) == CharClass::kMark);
  CHECK(hf::char_class('7') == CharClass::kDecimal);
  CHECK(hf::char_class(0x0663) == CharClass::kDecimal);       // ٣
  CHECK(hf::char_class(0x216B) == CharClass::kLetterNumber);  // Ⅻ
  CHECK(hf::char_class(0x00B2) == CharClass::kOtherNumber);   // ²
  CHECK(hf::char_class('_') == CharClass::kConnector);
  CHECK(hf::char_class(' ') == CharClass::kWhiteSpace);
  CHECK(hf::char_class(0x0085) == CharClass::kWhiteSpace);
  CHECK(hf::char_class(0x2029) == CharClass::kWhiteSpace);
  CHECK(hf::char_class(0xFEFF) == CharClass::kOther);
  CHECK(hf::char_class(0x001C) == CharClass::kOther);  // Python's isspace says yes; White_Space says no
  CHECK(hf::char_class(0x0378) == CharClass::kUnassigned);
  CHECK(hf::char_class(0x10FFFF) == CharClass::kUnassigned);
  CHECK(hf::char_class(0x110000) == CharClass::kUnassigned);
  CHECK(hf::char_class(0xD800) == CharClass::kOther);  // a surrogate is assigned (Cs)
  CHECK(hf::char_class(0x1F600) == CharClass::kOther);
  CHECK(std::string(hf::unicode_version()) == "14.0.0");
  CHECK(hf::is_word(0x200D));
  CHECK_FALSE(hf::is_word('-'));
}

TEST_CASE("Digits: every \\p{N} character is a digit (Rust's char::is_numeric), alone or in runs") {
  const nlohmann::json single = {{"type", "Digits"}, {"individual_digits", true}};
  const nlohmann::json runs = {{"type", "Digits"}, {"individual_digits", false}};
  CHECK(pre_tokenize(single, "a1851b") == Strings{"a", "1", "8", "5", "1", "b"});
  CHECK(pre_tokenize(single, "٣٤ ²Ⅻx") == Strings{"٣", "٤", " ", "²", "Ⅻ", "x"});
  CHECK(pre_tokenize(runs, "a1851b²³") == Strings{"a", "1851", "b", "²³"});
}

TEST_CASE("Digits then ByteLevel (SmolLM2): GPT-2's pattern runs on each stretch, then bytes become the alphabet") {
  const nlohmann::json smollm2 = {{"type", "Sequence"},
                                  {"pretokenizers", {{{"type", "Digits"}, {"individual_digits", true}}, byte_level()}}};
  CHECK(pre_tokenize(smollm2, "In 1851 whales") ==
        Strings{"In", "Ġ", "1", "8", "5", "1", "Ġwhales"});
  // add_prefix_space applies to every piece the earlier step made, as the library's split does.
  const nlohmann::json prefixed = {{"type", "Sequence"},
                                   {"pretokenizers", {{{"type", "Digits"}, {"individual_digits", true}}, byte_level(true)}}};
  CHECK(pre_tokenize(prefixed, "a1") == Strings{"Ġa", "Ġ1"});
}

TEST_CASE("Metaspace: spaces become ▁, prepend_scheme always/first/never, split before each ▁") {
  auto metaspace = [](const char* scheme, bool split) {
    return nlohmann::json{{"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", scheme}, {"split", split}};
  };
  CHECK(pre_tokenize(metaspace("always", true), "Hey  friend") == Strings{"▁Hey", "▁", "▁friend"});
  CHECK(pre_tokenize(metaspace("always", false), "Hey friend") == Strings{"▁Hey▁friend"});
  CHECK(pre_tokenize(metaspace("first", false), "Hey", true) == Strings{"▁Hey"});
  CHECK(pre_tokenize(metaspace("first", false), "Hey", false) == Strings{"Hey"});  // not at the start of the text
  CHECK(pre_tokenize(metaspace("never", false), "Hey you") == Strings{"Hey▁you"});
  CHECK(pre_tokenize(metaspace("always", false), " Hey") == Strings{"▁Hey"});  // already starts with ▁
}

TEST_CASE("Split with a literal pattern: the five behaviours, and invert") {
  auto split = [](const char* behavior, bool invert = false) {
    return nlohmann::json{{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", behavior}, {"invert", invert}};
  };
  const std::string text = "How are you  doing?";
  CHECK(pre_tokenize(split("Removed"), text) == Strings{"How", "are", "you", "doing?"});
  CHECK(pre_tokenize(split("Isolated"), text) == Strings{"How", " ", "are", " ", "you", " ", " ", "doing?"});
  CHECK(pre_tokenize(split("Contiguous"), text) == Strings{"How", " ", "are", " ", "you", "  ", "doing?"});
  CHECK(pre_tokenize(split("MergedWithPrevious"), text) == Strings{"How ", "are ", "you ", " ", "doing?"});
  CHECK(pre_tokenize(split("MergedWithNext"), text) == Strings{"How", " are", " you", " ", " doing?"});
  CHECK(pre_tokenize(split("Removed", true), text) == Strings{" ", " ", " ", " "});
  const nlohmann::json gpt2_as_split = {{"type", "Split"}, {"pattern", {{"Regex", hf::kGpt2Pattern}}},
                                        {"behavior", "Isolated"}, {"invert", false}};
  CHECK(pre_tokenize(gpt2_as_split, "I'm  here") == Strings{"I", "'m", " ", " here"});
}

TEST_CASE("BPE: the lowest-ranked pair merges first, leftmost on ties, until no pair merges") {
  nlohmann::json document = tokenizer_document(bpe_model({"a", "b", "aa", "ab", "aaab"}, {{"a", "a"}, {"a", "b"}, {"aa", "ab"}}));
  const auto tokenizer = load(document);
  CHECK(tokenizer->encode("aaa") == std::vector<int32_t>{2, 0});     // "aa" then "a": leftmost first
  CHECK(tokenizer->encode("aab") == std::vector<int32_t>{2, 1});     // (a,a) rank 0 before (a,b) rank 1
  CHECK(tokenizer->encode("aaab") == std::vector<int32_t>{4});       // aa + ab → aaab
  CHECK(tokenizer->encode("abab") == std::vector<int32_t>{3, 3});
  CHECK(tokenizer->encode("ba") == std::vector<int32_t>{1, 0});
}

TEST_CASE("BPE: unknown characters become unk_token (fused into one with fuse_unk), or are dropped without one") {
  nlohmann::json model = bpe_model({"<unk>", "a"}, {});
  model["unk_token"] = "<unk>";
  CHECK(load(tokenizer_document(model))->encode("xxa?") == std::vector<int32_t>{0, 0, 1, 0});
  model["fuse_unk"] = true;
  CHECK(load(tokenizer_document(model))->encode("xxa?y") == std::vector<int32_t>{0, 1, 0});
  model["unk_token"] = nullptr;
  CHECK(load(tokenizer_document(model))->encode("xxa?") == std::vector<int32_t>{1});
}

TEST_CASE("BPE byte fallback: a character without a token becomes its UTF-8 bytes as <0xNN> tokens") {
  nlohmann::json model = bpe_model({"<unk>", "a", "<0xC3>", "<0xA9>", "<0x0A>"}, {});
  model["unk_token"] = "<unk>";
  model["byte_fallback"] = true;
  model["fuse_unk"] = true;
  const auto tokenizer = load(tokenizer_document(model));
  CHECK(tokenizer->encode("aé\n") == std::vector<int32_t>{1, 2, 3, 4});
  // "x" has no byte token, so it is unk; the library adds the bytes of "é" before that waiting unk.
  CHECK(tokenizer->encode("xé") == std::vector<int32_t>{2, 3, 0});
  CHECK(tokenizer->encode("xéa") == std::vector<int32_t>{2, 3, 0, 1});
}

TEST_CASE("BPE: continuing_subword_prefix and end_of_word_suffix shape the characters and the merged tokens") {
  nlohmann::json model = bpe_model({"a", "##b", "##c</w>", "ab", "abc</w>", "a</w>"}, {{"a", "##b"}, {"ab", "##c</w>"}});
  model["continuing_subword_prefix"] = "##";
  model["end_of_word_suffix"] = "</w>";
  const auto tokenizer = load(tokenizer_document(model));
  CHECK(tokenizer->encode("abc") == std::vector<int32_t>{4});
  CHECK(tokenizer->encode("a") == std::vector<int32_t>{5});
}

TEST_CASE("BPE ignore_merges: a piece that is a token is that token, whatever the merges would make") {
  nlohmann::json model = bpe_model({"a", "b", "c", "abc"}, {});
  CHECK(load(tokenizer_document(model))->encode("abc") == std::vector<int32_t>{0, 1, 2});
  model["ignore_merges"] = true;
  CHECK(load(tokenizer_document(model))->encode("abc") == std::vector<int32_t>{3});
}

TEST_CASE("BPE: merges as \"left right\" strings read the same as pairs; a repeated pair keeps its last rank") {
  nlohmann::json model = bpe_model({"a", "b", "c", "ab", "bc"}, {});
  model["merges"] = {"b c", "a b"};
  CHECK(load(tokenizer_document(model))->encode("abc") == std::vector<int32_t>{0, 4});
  model["merges"] = {"b c", "a b", "b c"};  // (b, c) now ranks after (a, b)
  CHECK(load(tokenizer_document(model))->encode("abc") == std::vector<int32_t>{3, 2});
}

TEST_CASE("a Llama piece is cut before each word's ▁ only when no token spans such a point") {
  const std::vector<std::string> tokens = {"▁", "a", "b", "▁a", "▁ab", "ab", "▁▁"};
  const std::vector<std::pair<std::string, std::string>> merges = {{"▁", "a"}, {"▁a", "b"}, {"a", "b"}, {"▁", "▁"}};
  // Parts "▁ab" "▁ab" "▁▁▁aab" "▁b", each merged alone: the same as one heap over the whole, since no merge spans.
  const auto cut = load(tokenizer_document(bpe_model(tokens, merges)));
  CHECK(cut->encode("▁ab▁ab▁▁▁aab▁b") == std::vector<int32_t>{4, 4, 6, 3, 5, 0, 2});
  CHECK(cut->encode("▁b▁a") == std::vector<int32_t>{0, 2, 3});
  // With a token "b▁" (merged first), the piece stays whole and the merge spans the point.
  std::vector<std::string> spanning_tokens = tokens;
  spanning_tokens.push_back("b▁");
  auto spanning_merges = merges;
  spanning_merges.insert(spanning_merges.begin(), {"b", "▁"});
  const auto whole = load(tokenizer_document(bpe_model(spanning_tokens, spanning_merges)));
  CHECK(whole->encode("▁b▁a") == std::vector<int32_t>{0, 7, 1});
}
