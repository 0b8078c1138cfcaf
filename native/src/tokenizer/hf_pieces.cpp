// Split behaviours and the byte-level alphabet. See hf_pieces.hpp.
#include "tokenizer/hf_pieces.hpp"

#include <algorithm>

#include "tokenizer/utf8.hpp"

namespace tinylm::hf {

void split_piece(const Piece& piece, const std::vector<Match>& matches, SplitBehavior behavior,
                 std::vector<Piece>& out) {
  // Ranges to keep, built as tokenizers' NormalizedString::split folds its matches.
  std::vector<std::pair<size_t, size_t>> kept;
  kept.reserve(matches.size());
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::kRemoved:
      for (const Match& match : matches) {
        if (!match.is_match) kept.emplace_back(match.begin, match.end);
      }
      break;
    case SplitBehavior::kIsolated:
      for (const Match& match : matches) kept.emplace_back(match.begin, match.end);
      break;
    case SplitBehavior::kContiguous:
      for (size_t index = 0; index < matches.size(); ++index) {
        const Match& match = matches[index];
        if (index > 0 && match.is_match == previous_match) {
          kept.back().second = match.end;
        } else {
          kept.emplace_back(match.begin, match.end);
        }
        previous_match = match.is_match;
      }
      break;
    case SplitBehavior::kMergedWithPrevious:
      for (const Match& match : matches) {
        if (match.is_match && !previous_match && !kept.empty()) {
          kept.back().second = match.end;
        } else {
          kept.emplace_back(match.begin, match.end);
        }
        previous_match = match.is_match;
      }
      break;
    case SplitBehavior::kMergedWithNext:
      // Walk backwards: a match joins the piece after it unless that piece is a match too.
      for (size_t index = matches.size(); index-- > 0;) {
        const Match& match = matches[index];
        if (match.is_match && !previous_match && !kept.empty()) {
          kept.back().first = match.begin;
        } else {
          kept.emplace_back(match.begin, match.end);
        }
        previous_match = match.is_match;
      }
      std::reverse(kept.begin(), kept.end());
      break;
  }
  for (const auto& [begin, end] : kept) {
    if (end > begin) out.push_back({piece.text.substr(begin, end - begin), piece.at_text_start && begin == 0});
  }
}

namespace {

bool stands_for_itself(uint8_t byte) {
  return (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) || byte >= 0xAE;
}

// byte → code point, and for U+0100..U+0143 the byte back.
struct ByteLevelAlphabet {
  char32_t char_of_byte[256];
  uint8_t byte_of_shifted[68];
};

const ByteLevelAlphabet& alphabet() {
  static const ByteLevelAlphabet table = [] {
    ByteLevelAlphabet built{};
    char32_t next = 0x100;
    for (int byte = 0; byte < 256; ++byte) {
      if (stands_for_itself(static_cast<uint8_t>(byte))) {
        built.char_of_byte[byte] = static_cast<char32_t>(byte);
      } else {
        built.byte_of_shifted[next - 0x100] = static_cast<uint8_t>(byte);
        built.char_of_byte[byte] = next++;
      }
    }
    return built;
  }();
  return table;
}

}  // namespace

char32_t byte_level_char(uint8_t byte) { return alphabet().char_of_byte[byte]; }

int byte_level_byte(char32_t code_point) {
  if (code_point < 0x100) return stands_for_itself(static_cast<uint8_t>(code_point)) ? static_cast<int>(code_point) : -1;
  if (code_point >= 0x100 + 68) return -1;
  return alphabet().byte_of_shifted[code_point - 0x100];
}

void append_byte_level(std::string& out, const std::string& text) {
  const ByteLevelAlphabet& table = alphabet();
  for (char byte : text) {
    const uint8_t value = static_cast<uint8_t>(byte);
    if (value >= '!' && value <= '~') {
      out += byte;
    } else {
      utf8::append(out, table.char_of_byte[value]);
    }
  }
}

}  // namespace tinylm::hf
