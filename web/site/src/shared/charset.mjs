// The characters every shipped char model and every lesson's model can read and write: tinylm's named set
// "ascii+typographic" (native/src/tokenizer/char_tokenizer.cpp, named_character_set; `tinylm train --charset`).
// Tab, newline, printable ASCII, Latin-1 (U+00A0–U+00FF), Œ œ and English typography: 216 characters.
// A model made in the tab covers it by fitting its tokenizer on text that includes this string.
const range = (from, to) => Array.from({ length: to - from + 1 }, (_, index) => String.fromCodePoint(from + index)).join('');

export const asciiTypographic = '\t\n' + range(0x20, 0x7e) + range(0xa0, 0xff) +
  '\u0152\u0153\u2010\u2011\u2013\u2014\u2018\u2019\u201A\u201C\u201D\u201E' +
  '\u2020\u2021\u2022\u2026\u2030\u2032\u2033\u2039\u203A\u20AC\u2122';
