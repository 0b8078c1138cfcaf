// Finding added tokens in text. See hf_added_tokens.hpp.
#include "tokenizer/hf_added_tokens.hpp"

#include <algorithm>

#include "tokenizer/hf_unicode.hpp"
#include "tokenizer/utf8.hpp"

namespace tinylm::hf {

void AddedTokenMatcher::add(const std::string& pattern, const AddedToken* token) {
  if (pattern.empty()) return;  // tokenizers ignores empty contents
  const uint32_t index = static_cast<uint32_t>(patterns_.size());
  patterns_.push_back({pattern, token});
  std::vector<uint32_t>& bucket = by_first_byte_[static_cast<uint8_t>(pattern[0])];
  // Longest first, so the first pattern that matches at a position is the longest there; equal patterns keep the
  // one added last (a later added token with the same content replaces the earlier in tokenizers' map).
  bucket.push_back(index);
  for (size_t at = bucket.size() - 1; at > 0 && patterns_[bucket[at - 1]].text.size() <= pattern.size(); --at) {
    std::swap(bucket[at - 1], bucket[at]);
  }
}

namespace {

char32_t last_character(const std::string& text, size_t end) {  // the character ending at byte `end` (> 0)
  size_t start = end - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  return utf8::decode_next(text, start);
}

}  // namespace

std::vector<Section> AddedTokenMatcher::split(const std::string& text) const {
  std::vector<Section> sections;
  size_t emitted = 0;  // text before this is in sections
  auto emit = [&sections](size_t begin, size_t end, int32_t id) {
    if (end > begin) sections.push_back({begin, end, id});
  };
  if (!patterns_.empty()) {
    for (size_t position = 0; position < text.size();) {
      // The leftmost-longest match at or after `position`.
      const Pattern* found = nullptr;
      for (uint32_t index : by_first_byte_[static_cast<uint8_t>(text[position])]) {
        const std::string& candidate = patterns_[index].text;
        if (text.compare(position, candidate.size(), candidate) == 0) {
          found = &patterns_[index];
          break;
        }
      }
      if (found == nullptr) {
        ++position;
        continue;
      }
      size_t start = position, stop = position + found->text.size();
      position = stop;  // the next search starts after the match, whether it is kept or not
      const AddedToken& token = *found->token;
      if (token.single_word) {
        const bool word_before = start > 0 && is_word(last_character(text, start));
        size_t after = stop;
        const bool word_after = stop < text.size() && is_word(utf8::decode_next(text, after));
        if (word_before || word_after) continue;
      }
      if (token.lstrip) {
        while (start > emitted && is_white_space(last_character(text, start))) {
          const char32_t c = last_character(text, start);
          start -= utf8::encode(c).size();
        }
      }
      if (token.rstrip) {
        while (stop < text.size()) {
          size_t next = stop;
          if (!is_white_space(utf8::decode_next(text, next))) break;
          stop = next;
        }
      }
      emit(emitted, start, -1);
      sections.push_back({start, stop, token.id});
      emitted = stop;
      position = std::max(position, stop);
    }
  }
  emit(emitted, text.size(), -1);
  return sections;
}

}  // namespace tinylm::hf
