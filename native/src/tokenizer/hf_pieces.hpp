// The text pieces that flow through a Hugging Face tokenizer between its added-token split and its model, and the
// two tools every pipeline step shares: the split behaviours (how a step's matches become pieces) and GPT-2's
// byte-level alphabet (each byte shown as a printable character, so byte strings are JSON strings).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tinylm::hf {

// A piece of valid UTF-8 text. at_text_start: the piece begins at offset 0 of the text given to encode (Metaspace's
// prepend_scheme "first" prepends only there). A piece split off later inside another never does.
struct Piece {
  std::string text;
  bool at_text_start = false;
};

// A tiling of a piece's text: each range either matched the step's pattern or lies between matches.
struct Match {
  size_t begin, end;
  bool is_match;
};

// tokenizers' SplitDelimiterBehavior: what a match becomes. "Removed" drops it; "Isolated" keeps it as its own
// piece; "MergedWithPrevious"/"MergedWithNext" glue it to the piece before/after; "Contiguous" merges runs of
// neighbouring matches (and of non-matches) into one piece.
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

// Cuts piece.text along matches (which tile it) by behavior and appends the non-empty pieces to out; the first
// keeps piece.at_text_start when it begins at offset 0.
void split_piece(const Piece& piece, const std::vector<Match>& matches, SplitBehavior behavior,
                 std::vector<Piece>& out);

// GPT-2's byte-level alphabet: bytes '!'..'~', 0xA1..0xAC and 0xAE..0xFF stand for themselves (as code points);
// the other 68 bytes map to U+0100.. in byte order (space → U+0120 'Ġ', newline → U+010A 'Ċ').
char32_t byte_level_char(uint8_t byte);
// The byte a code point of the alphabet stands for, or −1 when it is not in the alphabet.
int byte_level_byte(char32_t code_point);
// Appends text with every byte replaced by its alphabet character (UTF-8).
void append_byte_level(std::string& out, const std::string& text);

}  // namespace tinylm::hf
