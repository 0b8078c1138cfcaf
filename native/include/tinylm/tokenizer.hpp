// Tokenizers: text ⇄ token ids. One interface; kinds "char" (Unicode code points), "word" (Keras-like), "bpe"
// (byte-level, trainable), and "hf" (a Hugging Face tokenizer.json, read by tokenizer/hf_tokenizer.hpp). Every
// kind serialises to JSON (stored in the model file's metadata) and maps anything it has not seen to <unk> instead
// of failing (byte-level BPE has seen every byte: it never needs <unk>).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tinylm {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual std::string kind() const = 0;  // "char" | "word" | "bpe" | "hf"
  virtual int vocab_size() const = 0;
  virtual std::vector<int32_t> encode(std::string_view text) const = 0;
  // The UTF-8 bytes a token stands for ("e", "whale", or a raw byte run for BPE); <unk> gives U+FFFD, <eos> "".
  // A byte-level BPE token may hold part of a multi-byte character: stream decoders buffer it.
  virtual std::string token_bytes(int32_t id) const = 0;
  // Put between consecutive tokens when decoding: "" for char and bpe, " " for word.
  virtual std::string separator() const { return ""; }
  virtual std::string decode(const std::vector<int32_t>& ids) const;
  virtual int unk_id() const = 0;  // present in the trainable kinds; −1 for an "hf" tokenizer without unk_token
  virtual int eos_id() const = 0;  // −1 when the tokenizer has no <eos>
  virtual nlohmann::json to_json() const = 0;
};

// Builds any kind from its to_json(); throws Error naming the problem for malformed JSON.
std::unique_ptr<Tokenizer> tokenizer_from_json(const nlohmann::json& json);

struct CharTokenizerOptions {
  bool lowercase = false;
  int max_vocab = 0;         // 0 = keep every character seen; else the most frequent ones (ties by code point)
  bool add_eos = false;
  std::u32string always_include;  // in the vocabulary even when the text lacks them; max_vocab never cuts them
};
// Fits the vocabulary on `text` (code points; ids ordered by code point after the special tokens).
std::unique_ptr<Tokenizer> fit_char_tokenizer(std::string_view text, const CharTokenizerOptions& options = {});

// A named character set for CharTokenizerOptions::always_include, so a model can encode what people type even
// when its corpus lacks it. "ascii+typographic": tab, newline, printable ASCII (U+0020–U+007E), Latin-1
// (U+00A0–U+00FF: accented letters, « », £, °, ©, no-break space), Œ œ, and the typographic punctuation of
// English text: ‐ ‑ – — ‘ ’ ‚ “ ” „ † ‡ • … ‰ ′ ″ ‹ › € ™. "" is the empty set. Any other name throws Error.
std::u32string named_character_set(std::string_view name);

struct WordTokenizerOptions {
  bool lowercase = true;
  std::string filters = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n";  // Keras default: characters dropped
  int max_vocab = 0;         // 0 = unlimited; else the most frequent words (ties alphabetical)
  bool add_eos = true;       // <eos> marks line ends
};
std::unique_ptr<Tokenizer> fit_word_tokenizer(std::string_view text, const WordTokenizerOptions& options = {});

// Byte-level BPE (bpe_tokenizer.cpp documents the pre-tokenisation rule and the JSON). Ids 0..255 are the bytes,
// then one id per learned merge in the order learned, then <unk> (never produced: every byte has a token), then
// <eos> when add_eos — so a byte's id is its value and a merge's id is 256 + its rank, as in GPT-2 and minbpe.
struct BpeTokenizerOptions {
  int vocab_size = 512;      // total, special tokens included: 256 bytes + merges + <unk> (+ <eos>), 257..262144
  bool add_eos = false;
  int min_pair_count = 2;    // stop learning early once the most frequent pair occurs fewer times than this
};
// Learns merges on `text` until vocab_size is reached or no pair occurs min_pair_count times. Deterministic: the
// most frequent pair wins, ties go to the lexicographically smallest pair of ids.
std::unique_ptr<Tokenizer> fit_bpe_tokenizer(std::string_view text, const BpeTokenizerOptions& options = {});

}  // namespace tinylm
