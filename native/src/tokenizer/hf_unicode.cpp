// Character classes from the generated run list. See hf_unicode.hpp.
#include "tokenizer/hf_unicode.hpp"

#include <algorithm>
#include <vector>

namespace tinylm::hf {

namespace {

#include "tokenizer/hf_unicode_table.inc"

// Run starts in increasing order, each (start << 4) | class, so a bisection on code_point << 4 | 15 finds the run.
std::vector<uint32_t> decode_runs() {
  std::vector<uint32_t> runs;
  runs.reserve(kUnicodeRunCount);
  uint32_t start = 0;
  for (size_t offset = 0; offset < sizeof(kUnicodeRuns);) {
    uint32_t value = 0;
    for (int shift = 0;; shift += 7) {
      const unsigned char byte = kUnicodeRuns[offset++];
      value |= static_cast<uint32_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) break;
    }
    start += value >> 4;
    runs.push_back((start << 4) | (value & 15));
  }
  return runs;
}

// The Latin-1 block by direct lookup: nearly every character of Western text.
struct Latin1Classes {
  CharClass classes[256];
};

}  // namespace

CharClass char_class(char32_t code_point) {
  // Immutable after first use (C++11 guarantees thread-safe initialisation).
  static const std::vector<uint32_t> runs = decode_runs();
  static const Latin1Classes latin1 = [] {
    Latin1Classes table{};
    size_t run = 0;
    for (uint32_t c = 0; c < 256; ++c) {
      while (run + 1 < runs.size() && (runs[run + 1] >> 4) <= c) ++run;
      table.classes[c] = static_cast<CharClass>(runs[run] & 15);
    }
    return table;
  }();
  if (code_point < 256) return latin1.classes[code_point];
  if (code_point > 0x10FFFF) return CharClass::kUnassigned;
  const uint32_t key = (static_cast<uint32_t>(code_point) << 4) | 15;
  const auto after = std::upper_bound(runs.begin(), runs.end(), key);
  return static_cast<CharClass>(*(after - 1) & 15);
}

const char* unicode_version() { return TINYLM_UNICODE_VERSION; }

bool is_word(char32_t c) {
  switch (char_class(c)) {
    case CharClass::kLetter:
    case CharClass::kMark:
    case CharClass::kDecimal:
    case CharClass::kLetterNumber:
    case CharClass::kConnector:
      return true;
    default:
      return c == 0x200C || c == 0x200D;
  }
}

}  // namespace tinylm::hf
