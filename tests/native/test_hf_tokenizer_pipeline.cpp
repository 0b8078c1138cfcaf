// Hugging Face tokenizers, the parts around the model: added tokens found in text (leftmost-longest, lstrip, rstrip,
// single_word, normalized), normalizers, decoders (whole-sequence decode and the streamed token bytes),
// post-processors and tokenizer_config.json. Expected values follow the tokenizers library's rules (and
// transformers' for the config), worked out by hand.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "hf_tokenizer_fixtures.hpp"
#include "tinylm/error.hpp"

using namespace tinylm;
using namespace tinylm::testing;

namespace {

using Ids = std::vector<int32_t>;

Ids concat(Ids a, const Ids& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Byte-level, no merges, with added tokens from id 256.
nlohmann::json with_added(std::vector<nlohmann::json> tokens) {
  nlohmann::json document = byte_level_document();
  document["pre_tokenizer"] = byte_level();
  document["pre_tokenizer"]["use_regex"] = false;  // one piece per stretch; without merges, ids are the bytes
  for (nlohmann::json& token : tokens) document["added_tokens"].push_back(token);
  return document;
}

nlohmann::json replace(const char* pattern, const char* content) {
  return {{"type", "Replace"}, {"pattern", {{"String", pattern}}}, {"content", content}};
}

nlohmann::json sequence(const char* key, const std::vector<nlohmann::json>& steps) {
  nlohmann::json json = {{"type", "Sequence"}};
  json[key] = steps;
  return json;
}

nlohmann::json added(int id, const std::string& content, const char* flag) {
  nlohmann::json token = added_token(id, content, false);
  token["normalized"] = false;
  if (flag != nullptr) token[flag] = true;
  return token;
}

}  // namespace

TEST_CASE("added tokens: found anywhere, leftmost-longest, the text between encoded apart") {
  const auto tokenizer = load(with_added({added_token(256, "<a>"), added_token(257, "<a><b>"), added_token(258, "a>")}));
  CHECK(tokenizer->encode("x<a><b>y<a>") == Ids{'x', 257, 'y', 256});
  CHECK(tokenizer->encode("<a") == byte_ids("<a"));
  CHECK(tokenizer->encode("<a>") == Ids{256});  // "a>" matches too, but later: the leftmost match wins
  CHECK(tokenizer->encode("a>") == Ids{258});
  CHECK(tokenizer->token_id("<a><b>") == 257);
  CHECK(tokenizer->vocab_size() == 259);
  // An added token the vocabulary holds keeps the vocabulary's id, whatever id the entry gives.
  CHECK(load(with_added({added_token(300, "q")}))->token_id("q") == 'q');
}

TEST_CASE("added tokens: lstrip and rstrip swallow the White_Space beside them") {
  const auto left = load(with_added({added(256, "<m>", "lstrip")}));
  CHECK(left->encode("a \u3000 <m> b") == Ids{'a', 256, ' ', 'b'});
  const auto right = load(with_added({added(256, "<m>", "rstrip")}));
  CHECK(right->encode("a <m> \n b") == Ids{'a', ' ', 256, 'b'});
  const auto both = load(with_added({added(256, "<m>", "lstrip"), added(257, "<n>", "lstrip")}));
  CHECK(both->encode("<m>  <n>") == Ids{256, 257});  // the second swallows the spaces after the first
}

TEST_CASE("added tokens: single_word leaves a match that touches a word character as text") {
  const auto tokenizer = load(with_added({added(256, "ab", "single_word")}));
  CHECK(tokenizer->encode("ab cd") == concat({256}, byte_ids(" cd")));
  CHECK(tokenizer->encode("(ab)") == Ids{'(', 256, ')'});
  CHECK(tokenizer->encode("xab") == byte_ids("xab"));
  CHECK(tokenizer->encode("ab_") == byte_ids("ab_"));    // _ is a word character (Pc)
  CHECK(tokenizer->encode("abé") == byte_ids("abé"));
}

TEST_CASE("added tokens: normalized tokens match the normalized text, the others the raw text") {
  nlohmann::json document = with_added({added_token(256, "AB", false), added(257, "CD", nullptr)});
  document["normalizer"] = sequence("normalizers", {replace("x", "A"), replace("y", "C")});
  const auto tokenizer = load(document);
  CHECK(tokenizer->encode("xB") == Ids{256});          // "xB" normalizes to "AB"
  CHECK(tokenizer->encode("yD") == byte_ids("CD"));    // CD is not normalized: it must be in the raw text
  CHECK(tokenizer->encode("CD") == Ids{257});
}

TEST_CASE("Llama's legacy normalizer: ▁ before each stretch between added tokens, spaces as ▁") {
  nlohmann::json model = bpe_model({"<unk>", "<s>", "</s>", "▁", "a", "b", "▁a"}, {{"▁", "a"}});
  model["unk_token"] = "<unk>";
  nlohmann::json document = tokenizer_document(model);
  document["added_tokens"] = {added_token(0, "<unk>"), added_token(1, "<s>"), added_token(2, "</s>")};
  document["normalizer"] = sequence("normalizers", {{{"type", "Prepend"}, {"prepend", "▁"}}, replace(" ", "▁")});
  const auto tokenizer = load(document);
  CHECK(tokenizer->encode("a b</s>a") == Ids{6, 3, 5, 2, 6});
  CHECK(tokenizer->encode("") == Ids{});
}

TEST_CASE("decoders: Llama's Replace, ByteFallback, Fuse, Strip — whole sequences and streamed tokens") {
  nlohmann::json model = bpe_model({"<unk>", "<s>", "</s>", "<0xE2>", "<0x82>", "<0xAC>", "▁", "a", "▁a"}, {{"▁", "a"}});
  model["unk_token"] = "<unk>";
  model["byte_fallback"] = true;
  nlohmann::json document = tokenizer_document(model);
  document["added_tokens"] = {added_token(0, "<unk>"), added_token(1, "<s>"), added_token(2, "</s>")};
  document["decoder"] = sequence("decoders", {replace("▁", " "), {{"type", "ByteFallback"}}, {{"type", "Fuse"}},
                                              {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}});
  const auto tokenizer = load(document);
  CHECK(tokenizer->decode({8, 3, 4, 5, 6, 7}) == "a€ a");        // the text's first space stripped
  CHECK(tokenizer->decode({8, 3, 4, 7}) == "a\uFFFD\uFFFDa");       // an incomplete byte run: U+FFFD per byte
  CHECK(tokenizer->decode({1, 8, 2}) == "<s> a</s>");               // special tokens are kept by default
  CHECK(tokenizer->decode({1, 8, 2}, true) == "a");
  CHECK(tokenizer->token_bytes(8) == " a");                         // mid-stream: nothing is stripped
  CHECK(tokenizer->token_bytes(3) == "\xE2");                       // the raw byte; the stream joins the character
  CHECK(tokenizer->token_bytes(1) == "<s>");
  CHECK(tokenizer->separator().empty());
  CHECK_THROWS_AS(tokenizer->token_bytes(9), Error);
}

TEST_CASE("decoders: Metaspace drops ▁ in the first token only; ByteLevel joins bytes before reading UTF-8") {
  nlohmann::json document = tokenizer_document(bpe_model({"▁a", "▁", "b"}, {}));
  document["decoder"] = {{"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "first"}, {"split", false}};
  const auto metaspace = load(document);
  CHECK(metaspace->decode({0, 1, 2, 0}) == "a b a");
  CHECK(metaspace->token_bytes(0) == " a");
  const auto byte_level = load(byte_level_document());
  CHECK(byte_level->decode(byte_ids("€x")) == "€x");
  CHECK(byte_level->decode(byte_ids("\xE2\x82")) == "\uFFFD");     // one maximal invalid subsequence
  CHECK(byte_level->token_bytes('\xE2' & 0xFF) == "\xE2");
  document["decoder"] = nullptr;
  CHECK(load(document)->decode({0, 2}) == "▁a b");                  // no decoder: tokens joined by spaces
}

TEST_CASE("post-processors: templates put their tokens around the text unless add_special_tokens is false") {
  nlohmann::json document = with_added({added_token(256, "<s>"), added_token(257, "</s>")});
  document["post_processor"] = {
      {"type", "TemplateProcessing"},
      {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                  {{"SpecialToken", {{"id", "</s>"}, {"type_id", 0}}}}}},
      {"pair", nlohmann::json::array()},
      {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {256}}, {"tokens", {"<s>"}}}},
                          {"</s>", {{"id", "</s>"}, {"ids", {257}}, {"tokens", {"</s>"}}}}}}};
  CHECK(load(document)->encode("hi") == Ids{256, 'h', 'i', 257});
  CHECK(load(document)->encode("hi", false) == Ids{'h', 'i'});
  document["post_processor"] = {{"type", "RobertaProcessing"}, {"cls", {"<s>", 256}}, {"sep", {"</s>", 257}},
                                {"trim_offsets", true}, {"add_prefix_space", false}};
  CHECK(load(document)->encode("hi") == Ids{256, 'h', 'i', 257});
  document["post_processor"] = sequence("processors", {byte_level(), document["post_processor"]});
  CHECK(load(document)->encode("") == Ids{256, 257});
}

TEST_CASE("tokenizer_config.json: bos, eos and chat template, and transformers' Llama add_bos/add_eos") {
  nlohmann::json document = with_added({added_token(256, "<s>"), added_token(257, "</s>"), added_token(258, "<|im_end|>")});
  const auto defaults = load(document);
  CHECK(defaults->bos_token() == "<s>");
  CHECK(defaults->eos_id() == 257);
  CHECK(defaults->chat_template().empty());
  CHECK(defaults->unk_id() == -1);

  const nlohmann::json config = {{"bos_token", {{"__type", "AddedToken"}, {"content", "<s>"}}},
                                 {"eos_token", "<|im_end|>"},
                                 {"chat_template", {{{"name", "tool_use"}, {"template", "T"}},
                                                    {{"name", "default"}, {"template", "{{ messages }}"}}}}};
  const auto configured = load(document, config);
  CHECK(configured->eos_token() == "<|im_end|>");
  CHECK(configured->eos_id() == 258);
  CHECK(configured->bos_id() == 256);
  CHECK(configured->chat_template() == "{{ messages }}");
  CHECK(configured->encode("a") == Ids{'a'});

  nlohmann::json llama = config;
  llama["tokenizer_class"] = "LlamaTokenizerFast";
  llama["eos_token"] = "</s>";
  CHECK(load(document, llama)->encode("a") == Ids{256, 'a'});  // add_bos_token defaults to true
  llama["add_bos_token"] = false;
  llama["add_eos_token"] = true;
  CHECK(load(document, llama)->encode("a") == Ids{'a', 257});
}

TEST_CASE("the hf kind carries both files: to_json and tokenizer_from_json give the same tokenizer") {
  nlohmann::json document = byte_level_document({{"a", "b"}, {" ", "ab"}});
  document["added_tokens"].push_back(added_token(258, "<|endoftext|>"));
  const auto tokenizer = load(document, {{"eos_token", "<|endoftext|>"}, {"chat_template", "{{ x }}"}});
  const nlohmann::json json = tokenizer->to_json();
  CHECK(json.at("kind") == "hf");
  CHECK(json.at("tokenizer_json").get<std::string>() == document.dump());
  const std::unique_ptr<Tokenizer> rebuilt = tokenizer_from_json(nlohmann::json::parse(json.dump()));
  CHECK(rebuilt->kind() == "hf");
  const std::string text = "ab ab<|endoftext|> é";
  CHECK(rebuilt->encode(text) == tokenizer->encode(text));
  CHECK(rebuilt->encode(text) == concat(Ids{256, 257, 258}, byte_ids(" é")));
  CHECK(rebuilt->eos_id() == 258);
  CHECK(rebuilt->decode(rebuilt->encode(text)) == text);
  CHECK(dynamic_cast<const HfTokenizer&>(*rebuilt).chat_template() == "{{ x }}");
}
