// The normalizer of a tokenizer.json: rewrites each stretch of text between added tokens before it is split.
// Supported types, as the tokenizers library applies them:
//   Prepend {prepend}             puts `prepend` before a non-empty text (Llama 2's legacy "▁")
//   Replace {pattern: {String}, content}   every non-overlapping occurrence, left to right (Llama 2's " " → "▁")
//   Strip {strip_left, strip_right}        White_Space at either end
//   Sequence {normalizers}                 each in order (nested at most kMaxComponentDepth deep)
// Others (NFC/NFKC, Lowercase, Precompiled, regex patterns, ...) fail at load with the type named, so a tokenizer is
// never silently approximated.
#pragma once
#include <string>
#include <vector>

#include "tokenizer/hf_json.hpp"

namespace tinylm::hf {

class Normalizer {
 public:
  static Normalizer from_json(const Field& field);  // null: no normalizer

  bool empty() const { return steps_.empty(); }
  std::string apply(std::string text) const;

 private:
  enum class Kind { kPrepend, kReplace, kStrip };
  struct Step {
    Kind kind;
    std::string text;        // Prepend's prefix, Replace's pattern
    std::string content;     // Replace's replacement
    bool left = false, right = false;  // Strip's sides
  };
  void add(const Field& field, int depth);

  std::vector<Step> steps_;  // Sequences flattened: applying them in order is what a Sequence does
};

// {"String": "..."} → the string; a {"Regex": ...} pattern fails naming `path` (only literal patterns are read).
std::string literal_pattern(const Field& pattern);

}  // namespace tinylm::hf
