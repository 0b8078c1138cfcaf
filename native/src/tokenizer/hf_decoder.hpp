// The decoder of a tokenizer.json: token strings back to text. Supported types, as the tokenizers library applies
// them to the list of token strings:
//   ByteLevel            GPT-2, SmolLM2: each token's characters back to the bytes they stand for (a token with a
//                        character outside the alphabet keeps its UTF-8), all joined, invalid UTF-8 as U+FFFD
//   Replace {pattern: {String}, content}   in each token (Llama: "▁" → " ")
//   ByteFallback         runs of <0xNN> tokens → their bytes as text (each byte U+FFFD when the run is not UTF-8)
//   Fuse                 all tokens joined into one
//   Strip {content, start, stop}   up to `start` leading and `stop` trailing `content` characters off each token
//                        (Llama: after Fuse, the one space its normalizer put before the text)
//   Metaspace {replacement, prepend_scheme}   "▁" → " " in each token, dropped in the first unless "never"
//   Sequence {decoders}  each in order
// No decoder joins the tokens with " ", as tokenizers does.
//
// Streaming: token_text(token) is what one token adds to text that is already under way — the same steps with the
// token not first (Metaspace's first-token rule and Strip, which trim the ends of the whole text, do not apply),
// and raw bytes instead of U+FFFD (ByteLevel, ByteFallback), so a character split across tokens is joined by the
// caller. For valid UTF-8, decode(tokens) equals the concatenation of token_text over tokens with the text-start
// rules applied once.
#pragma once
#include <string>
#include <vector>

#include "tokenizer/hf_json.hpp"

namespace tinylm::hf {

class Decoder {
 public:
  static Decoder from_json(const Field& field);  // null: tokens joined by " "

  std::string decode(std::vector<std::string> tokens) const;
  std::string token_text(const std::string& token) const;

 private:
  enum class Kind { kByteLevel, kReplace, kByteFallback, kFuse, kStrip, kMetaspace };
  struct Step {
    Kind kind;
    std::string pattern, content;  // Replace; Strip's and Metaspace's character in `content`
    size_t start = 0, stop = 0;    // Strip
    bool strip_first = true;       // Metaspace: prepend_scheme is not "never"
  };
  void add(const Field& field, int depth);

  std::vector<Step> steps_;
  bool has_decoder_ = false;
};

}  // namespace tinylm::hf
