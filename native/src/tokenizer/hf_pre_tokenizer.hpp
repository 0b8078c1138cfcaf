// The pre-tokenizer of a tokenizer.json: cuts each stretch of normalized text into the pieces the model encodes one
// at a time (a BPE merge never crosses a piece boundary). Supported types, as the tokenizers library applies them:
//   ByteLevel {add_prefix_space, use_regex}   GPT-2, SmolLM2: optionally " " before a piece that lacks one, then
//       GPT-2's pattern 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ (each match
//       a piece), then every byte written in the byte-level alphabet (hf_pieces.hpp)
//   Digits {individual_digits}   SmolLM2: every \p{N} character its own piece (or runs of them, when false)
//   Metaspace {replacement, prepend_scheme, split}   Llama (non-legacy): " " → "▁", "▁" prepended ("always", or
//       "first": only to the piece at the start of the text), split before each "▁" when split
//   Split {pattern, behavior, invert}   a literal {"String"} pattern, or {"Regex"} holding exactly GPT-2's pattern
//   Sequence {pretokenizers}   each in order
// The pattern is matched by hand (as Oniguruma runs it: leftmost alternative first, greedy runs, \s = White_Space),
// with the classes of hf_unicode.hpp.
#pragma once
#include <string>
#include <vector>

#include "tokenizer/hf_json.hpp"
#include "tokenizer/hf_pieces.hpp"

namespace tinylm::hf {

// GPT-2's pattern, as tokenizer.json files spell it in a Split pre-tokenizer.
inline constexpr const char* kGpt2Pattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

// The end of GPT-2's pattern's match at `start` of valid UTF-8 text (start < text.size()). The pattern matches
// somewhere at every position, so successive matches tile the text.
size_t gpt2_match_end(const std::string& text, size_t start);

class PreTokenizer {
 public:
  static PreTokenizer from_json(const Field& field);  // null: the whole stretch is one piece

  // Replaces pieces by their pre-tokenized pieces, in order.
  void apply(std::vector<Piece>& pieces) const;
  // True when a ByteLevel step writes pieces in the byte-level alphabet.
  bool byte_level() const;

 private:
  enum class Kind { kByteLevel, kDigits, kMetaspace, kSplitLiteral, kSplitGpt2 };
  enum class Prepend { kAlways, kFirst, kNever };
  struct Step {
    Kind kind;
    bool add_prefix_space = false, use_regex = true;  // ByteLevel
    bool individual_digits = false;                   // Digits
    std::string replacement;                          // Metaspace's character, UTF-8
    Prepend prepend = Prepend::kAlways;               // Metaspace
    bool split = true;                                // Metaspace
    std::string pattern;                              // Split
    SplitBehavior behavior = SplitBehavior::kIsolated;
    bool invert = false;                              // Split
  };
  void add(const Field& field, int depth);
  void apply_step(const Step& step, const Piece& piece, std::vector<Piece>& out) const;

  std::vector<Step> steps_;
};

}  // namespace tinylm::hf
