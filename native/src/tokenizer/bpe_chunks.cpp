// GPT-2 style pre-tokenisation without a regex library. See bpe_chunks.hpp for the rule.
#include "tokenizer/bpe_chunks.hpp"

#include "tokenizer/utf8.hpp"

namespace tinylm::bpe {

namespace {

struct Range {
  char32_t first, last;
};

bool in_ranges(char32_t code_point, const Range* ranges, size_t count) {
  for (size_t index = 0; index < count; ++index) {
    if (code_point >= ranges[index].first && code_point <= ranges[index].last) return true;
  }
  return false;
}

// Non-ASCII numbers (\p{N}): digits of the scripts a small corpus may hold, and the number-form blocks.
constexpr Range kNumberRanges[] = {
    {0xB2, 0xB3},     {0xB9, 0xB9},     {0xBC, 0xBE},     {0x660, 0x669},   {0x6F0, 0x6F9},
    {0x966, 0x96F},   {0x2070, 0x2070}, {0x2074, 0x2079}, {0x2080, 0x2089}, {0x2150, 0x2189},
    {0x2460, 0x249B}, {0x24EA, 0x24FF}, {0x2776, 0x2793}, {0x3007, 0x3007}, {0x3021, 0x3029},
    {0xFF10, 0xFF19},
};

// Non-ASCII punctuation, symbols and controls: [^\s\p{L}\p{N}] once whitespace and numbers are ruled out.
constexpr Range kOtherRanges[] = {
    {0x7F, 0xA9},     {0xAB, 0xB4},     {0xB6, 0xB9},     {0xBB, 0xBF},     {0xD7, 0xD7},
    {0xF7, 0xF7},     {0x37E, 0x37E},   {0x387, 0x387},   {0x2000, 0x206F}, {0x20A0, 0x20CF},
    {0x2100, 0x214F}, {0x2190, 0x2BFF}, {0x2E00, 0x2E7F}, {0x3000, 0x3004}, {0x3008, 0x3020},
    {0x3030, 0x303F}, {0xE000, 0xF8FF}, {0xFE00, 0xFE0F}, {0xFE30, 0xFE6F}, {0xFF01, 0xFF0F},
    {0xFF1A, 0xFF20}, {0xFF3B, 0xFF40}, {0xFF5B, 0xFF65}, {0xFFF0, 0xFFFF}, {0x1F000, 0x1FAFF},
    {0xE0000, 0xE007F},
};

// GPT-2's contractions, without the apostrophe; none is a prefix of another, so their order does not matter.
constexpr std::string_view kContractionSuffixes[] = {"s", "t", "re", "ve", "m", "ll", "d"};

}  // namespace

CodePointClass classify(char32_t c) {
  if (c < 0x80) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return CodePointClass::kLetter;
    if (c >= '0' && c <= '9') return CodePointClass::kNumber;
    if (utf8::is_whitespace(c)) return CodePointClass::kWhitespace;
    return CodePointClass::kOther;
  }
  // Whitespace first: U+0085 and U+00A0 lie inside an "other" range.
  if (utf8::is_whitespace(c)) return CodePointClass::kWhitespace;
  if (in_ranges(c, kNumberRanges, sizeof(kNumberRanges) / sizeof(Range))) return CodePointClass::kNumber;
  if (in_ranges(c, kOtherRanges, sizeof(kOtherRanges) / sizeof(Range))) return CodePointClass::kOther;
  return CodePointClass::kLetter;
}

size_t chunk_end(std::string_view text, size_t start) {
  if (text[start] == '\'') {
    const std::string_view rest = text.substr(start + 1);
    for (std::string_view suffix : kContractionSuffixes) {
      if (rest.substr(0, suffix.size()) == suffix) return start + 1 + suffix.size();
    }
  }

  size_t position = start;
  const char32_t first = utf8::decode_next(text, position);
  CodePointClass run_class = classify(first);
  if (first == ' ' && position < text.size()) {
    size_t after_next = position;
    const CodePointClass next_class = classify(utf8::decode_next(text, after_next));
    if (next_class != CodePointClass::kWhitespace) {  // " ?X+": the space leads a run of the next class
      run_class = next_class;
      position = after_next;
    }
  }

  if (run_class != CodePointClass::kWhitespace) {
    while (position < text.size()) {
      size_t next = position;
      if (classify(utf8::decode_next(text, next)) != run_class) break;
      position = next;
    }
    return position;
  }

  // "\s+(?!\S)|\s+": the whole run at the end of the text or when it is one code point; otherwise all of it but
  // the last code point, which then leads the next chunk.
  size_t last_start = start;
  int length = 1;
  while (position < text.size()) {
    size_t next = position;
    if (classify(utf8::decode_next(text, next)) != CodePointClass::kWhitespace) break;
    last_start = position;
    position = next;
    ++length;
  }
  if (position == text.size() || length == 1) return position;
  return last_start;
}

}  // namespace tinylm::bpe
