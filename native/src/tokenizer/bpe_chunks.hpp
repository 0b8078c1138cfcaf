// Pre-tokenisation for byte-level BPE: cuts text into chunks that merges never cross, so a learned token never
// glues the end of one word to the start of the next. The rule is GPT-2's regular expression
//     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// written out by hand over UTF-8 code point classes. At each chunk start, the first alternative that applies:
//   1. an ASCII apostrophe contraction: 's 't 're 've 'm 'll 'd (lowercase, as in GPT-2);
//   2. an optional single space (U+0020) followed by a run of one class — letters, numbers or other — so " whale",
//      " 1851" and " --" are chunks and the space before a word stays with it;
//   3. a whitespace run. If text follows it and the run is longer than one code point, its last code point is
//      left for the next chunk (to become the leading space of the next word); a lone whitespace code point that
//      is not a space before a word (e.g. "\n" before "Call") is a chunk of its own.
// Chunks are byte ranges of the input and tile it exactly, whatever the bytes: an invalid UTF-8 sequence decodes
// to U+FFFD (see utf8.hpp) and is classed as "other", so invalid input still splits and still round-trips.
#pragma once
#include <cstddef>
#include <string_view>

namespace tinylm::bpe {

// The code point classes of the rule above. Whitespace is utf8::is_whitespace. Numbers are ASCII digits and the
// common Unicode digit and number blocks (superscripts, vulgar fractions, Arabic-Indic, Devanagari, fullwidth,
// circled numbers). "Other" is ASCII punctuation and symbols, controls, and the punctuation, symbol, emoji,
// variation-selector, private-use and specials blocks (so an emoji ZWJ sequence is one chunk). Every remaining
// code point is a letter: Unicode assigns letters everywhere else, and treating combining marks as letters keeps
// "é" written as e + U+0301 inside its word (GPT-2 would split the mark off).
enum class CodePointClass { kLetter, kNumber, kWhitespace, kOther };
CodePointClass classify(char32_t code_point);

// The end (exclusive byte offset) of the chunk that starts at byte `start` of text; start < text.size().
// Always > start, so `for (p = 0; p < n; p = chunk_end(text, p))` visits every chunk once.
size_t chunk_end(std::string_view text, size_t start);

}  // namespace tinylm::bpe
