// UTF-8 decoding with WHATWG-style replacement, encoding, and the character classes the tokenizers use.
// See utf8.hpp for the contract.
#include "tokenizer/utf8.hpp"

namespace tinylm::utf8 {

char32_t decode_next(std::string_view text, size_t& position) {
  const unsigned char lead = static_cast<unsigned char>(text[position++]);
  if (lead < 0x80) return lead;

  // The lead byte fixes the sequence length and the valid range of the second byte; narrowing that range is what
  // rejects overlong forms (E0, F0), surrogates (ED) and values above U+10FFFF (F4) without decoding them first.
  int continuation_bytes = 0;
  unsigned char second_low = 0x80, second_high = 0xBF;
  char32_t code_point = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    continuation_bytes = 1;
    code_point = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    continuation_bytes = 2;
    code_point = lead & 0x0F;
    if (lead == 0xE0) second_low = 0xA0;
    if (lead == 0xED) second_high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    continuation_bytes = 3;
    code_point = lead & 0x07;
    if (lead == 0xF0) second_low = 0x90;
    if (lead == 0xF4) second_high = 0x8F;
  } else {
    return kReplacementCharacter;  // a stray continuation byte, C0/C1 (always overlong) or F5..FF
  }

  for (int index = 0; index < continuation_bytes; ++index) {
    if (position >= text.size()) return kReplacementCharacter;  // truncated at the end of the text
    const unsigned char byte = static_cast<unsigned char>(text[position]);
    const unsigned char low = index == 0 ? second_low : 0x80;
    const unsigned char high = index == 0 ? second_high : 0xBF;
    // The offending byte is not consumed: it may start the next, valid character.
    if (byte < low || byte > high) return kReplacementCharacter;
    code_point = (code_point << 6) | (byte & 0x3F);
    ++position;
  }
  return code_point;
}

std::vector<char32_t> decode(std::string_view text) {
  std::vector<char32_t> code_points;
  code_points.reserve(text.size());
  for (size_t position = 0; position < text.size();) code_points.push_back(decode_next(text, position));
  return code_points;
}

void append(std::string& out, char32_t code_point) {
  if ((code_point >= 0xD800 && code_point <= 0xDFFF) || code_point > 0x10FFFF) code_point = kReplacementCharacter;
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

std::string encode(char32_t code_point) {
  std::string out;
  append(out, code_point);
  return out;
}

std::string encode(const std::vector<char32_t>& code_points) {
  std::string out;
  out.reserve(code_points.size());
  for (char32_t code_point : code_points) append(out, code_point);
  return out;
}

bool is_valid(std::string_view text) {
  for (size_t position = 0; position < text.size();) {
    const size_t start = position;
    const char32_t code_point = decode_next(text, position);
    // A genuine U+FFFD in the text is three bytes EF BF BD; a replacement for invalid input never is.
    if (code_point == kReplacementCharacter && text.substr(start, position - start) != "\xEF\xBF\xBD") return false;
  }
  return true;
}

char32_t to_lower(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 0x20;  // Latin-1 capitals (× U+00D7 is not a letter)
  if (c >= 0x100 && c <= 0x17F) {                            // Latin Extended-A: mostly even/odd case pairs
    if (c == 0x130) return 'i';                              // İ: dotted capital I
    if (c == 0x178) return 0xFF;                             // Ÿ
    const bool even_pairs = (c <= 0x137) || (c >= 0x14A && c <= 0x177);
    const bool odd_pairs = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    if (even_pairs && c % 2 == 0) return c + 1;
    if (odd_pairs && c % 2 == 1) return c + 1;
    return c;
  }
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 0x20;  // Greek capitals (U+03A2 is unassigned)
  if (c == 0x386) return 0x3AC;
  if (c >= 0x388 && c <= 0x38A) return c + 0x25;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 0x3F;
  if (c >= 0x410 && c <= 0x42F) return c + 0x20;  // Cyrillic А..Я
  if (c >= 0x400 && c <= 0x40F) return c + 0x50;  // Cyrillic Ѐ..Џ
  return c;
}

bool is_whitespace(char32_t c) {
  if (c <= 0x20) return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
  switch (c) {
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

}  // namespace tinylm::utf8
