// Added tokens of a tokenizer.json ("added_tokens": special tokens such as <|endoftext|> or <s>, and any token added
// after training), and finding them in text before anything else runs, as the tokenizers library does:
//   - tokens with normalized=false are found in the raw text; those with normalized=true in each stretch between
//     them after the normalizer ran (matching their normalized form);
//   - matches are leftmost-longest and non-overlapping, found over all contents at once;
//   - single_word: a match is dropped (left as text) when a word character (\w) touches it on either side;
//   - lstrip / rstrip: the match swallows the White_Space before / after it, which then never reaches the model.
// Nothing special is done for special=true here: special tokens in text are matched like any added token (the
// library's default, encode_special_tokens=false); `special` matters when decoding skips special tokens.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tinylm::hf {

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false, single_word = false, lstrip = false, rstrip = false, normalized = true;
};

// A stretch of text: an added token's id, or −1 for text between tokens (which the normalizer and model encode).
struct Section {
  size_t begin, end;
  int32_t id;
};

class AddedTokenMatcher {
 public:
  // pattern: the text to find (a token's content, or its normalized form); token outlives the matcher.
  void add(const std::string& pattern, const AddedToken* token);
  bool empty() const { return patterns_.empty(); }

  // Tiles text with sections, dropping empty ones. Without patterns: one text section.
  std::vector<Section> split(const std::string& text) const;

 private:
  struct Pattern {
    std::string text;
    const AddedToken* token;
  };
  std::vector<Pattern> patterns_;
  std::vector<uint32_t> by_first_byte_[256];  // indices into patterns_, longest first
};

}  // namespace tinylm::hf
