// UTF-8 ⇄ Unicode code points, total over all byte strings: every invalid byte sequence (stray continuation
// byte, truncated sequence, overlong form, surrogate, value above U+10FFFF) decodes to U+FFFD and decoding
// always moves forward, so no input can cause undefined behaviour or a loop. Invalid sequences are replaced the
// way the WHATWG Encoding Standard (JavaScript's TextDecoder) does — one U+FFFD per maximal invalid subpart —
// so the native and the wasm builds agree with the browser on what a byte string says.
//
// Also the two character classes the tokenizers need: a locale-free lowercase mapping and Unicode whitespace.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tinylm::utf8 {

inline constexpr char32_t kReplacementCharacter = 0xFFFD;

// Decodes the code point starting at text[position] and advances position past it (by 1 to 4 bytes; always ≥ 1
// while position < text.size()).
char32_t decode_next(std::string_view text, size_t& position);
std::vector<char32_t> decode(std::string_view text);

// Appends the UTF-8 bytes of code_point; surrogates and values above U+10FFFF append U+FFFD instead.
void append(std::string& out, char32_t code_point);
std::string encode(char32_t code_point);
std::string encode(const std::vector<char32_t>& code_points);

// True when text is well-formed UTF-8 (decoding it would produce no replacement for an invalid sequence).
bool is_valid(std::string_view text);

// Simple lowercase mapping, independent of the C locale so every build and platform agrees. Covers ASCII,
// Latin-1, Latin Extended-A, Greek and Cyrillic (the scripts a small-model corpus realistically holds); other
// code points are returned unchanged.
char32_t to_lower(char32_t code_point);

// The code points Python's str.split() treats as whitespace (ASCII space and controls \t\n\v\f\r, the
// information separators U+001C..U+001F, U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F,
// U+3000).
bool is_whitespace(char32_t code_point);

}  // namespace tinylm::utf8
