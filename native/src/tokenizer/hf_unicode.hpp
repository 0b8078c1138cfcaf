// The Unicode character classes the Hugging Face tokenizer pipeline tests: \p{L}, \p{N} and \s in the regular
// expressions of its pre-tokenizers, Rust's char::is_numeric in the Digits pre-tokenizer, \s and \w around added
// tokens. The data is tools/gen_unicode_classes.py's table (Unicode version in TINYLM_UNICODE_VERSION, from the
// Python that generated it), a run list of about 3 KB decoded once into 2.2 k run starts and searched by bisection
// above U+00FF.
//
// Whitespace is the White_Space property (what Oniguruma's and Rust's \s match): U+0085 is whitespace and U+FEFF
// is not, unlike JavaScript's \s.
#pragma once
#include <cstdint>

namespace tinylm::hf {

enum class CharClass : uint8_t {
  kOther = 0,         // assigned and none of the below: punctuation, symbols, controls, private use, surrogates
  kLetter = 1,        // L*
  kMark = 2,          // M*
  kDecimal = 3,       // Nd
  kLetterNumber = 4,  // Nl
  kOtherNumber = 5,   // No
  kConnector = 6,     // Pc
  kUnassigned = 7,    // Cn in this Unicode version
  kWhiteSpace = 8,    // the White_Space property, whatever the category
};

CharClass char_class(char32_t code_point);
const char* unicode_version();

inline bool is_letter(char32_t c) { return char_class(c) == CharClass::kLetter; }
inline bool is_white_space(char32_t c) { return char_class(c) == CharClass::kWhiteSpace; }
// \p{N}, and Rust's char::is_numeric (general categories Nd, Nl, No).
inline bool is_number(char32_t c) {
  const CharClass value = char_class(c);
  return value == CharClass::kDecimal || value == CharClass::kLetterNumber || value == CharClass::kOtherNumber;
}
// Rust regex's Unicode \w (Alphabetic, M, Nd, Pc, Join_Control) as this table can express it: letters, marks,
// Nd, Nl, Pc and U+200C/U+200D. Alphabetic also holds a few hundred symbols (Other_Alphabetic outside M, such as
// the circled letters U+24B6..U+24E9), which unicodedata cannot list; those count as non-word here.
bool is_word(char32_t c);

}  // namespace tinylm::hf
