// Pre-tokenizer steps of a tokenizer.json, and GPT-2's pattern matched without a regex engine.
// See hf_pre_tokenizer.hpp.
#include "tokenizer/hf_pre_tokenizer.hpp"

#include "tinylm/error.hpp"
#include "tokenizer/hf_normalizer.hpp"
#include "tokenizer/hf_unicode.hpp"
#include "tokenizer/utf8.hpp"

namespace tinylm::hf {

// ---- GPT-2's pattern ---------------------------------------------------------------------------------------

namespace {

enum class Gpt2Class { kLetter, kNumber, kSpace, kOther };  // \p{L}, \p{N}, \s, [^\s\p{L}\p{N}]

Gpt2Class gpt2_class(char32_t c) {
  switch (char_class(c)) {
    case CharClass::kLetter:
      return Gpt2Class::kLetter;
    case CharClass::kDecimal:
    case CharClass::kLetterNumber:
    case CharClass::kOtherNumber:
      return Gpt2Class::kNumber;
    case CharClass::kWhiteSpace:
      return Gpt2Class::kSpace;
    default:
      return Gpt2Class::kOther;
  }
}

// The end of the run of characters of class `run` that starts at `position`.
size_t run_end(const std::string& text, size_t position, Gpt2Class run) {
  while (position < text.size()) {
    size_t next = position;
    if (gpt2_class(utf8::decode_next(text, next)) != run) break;
    position = next;
  }
  return position;
}

constexpr std::string_view kContractions[] = {"s", "t", "re", "ve", "m", "ll", "d"};  // after "'"

}  // namespace

size_t gpt2_match_end(const std::string& text, size_t start) {
  if (text[start] == '\'') {  // 's|'t|'re|'ve|'m|'ll|'d (case-sensitive; none is a prefix of another)
    const std::string_view rest = std::string_view(text).substr(start + 1);
    for (std::string_view suffix : kContractions) {
      if (rest.substr(0, suffix.size()) == suffix) return start + 1 + suffix.size();
    }
  }
  size_t after_first = start;
  const char32_t first = utf8::decode_next(text, after_first);
  if (first == ' ' && after_first < text.size()) {  //  ?\p{L}+ |  ?\p{N}+ |  ?[^\s\p{L}\p{N}]+ with the space
    size_t after_second = after_first;
    const Gpt2Class second = gpt2_class(utf8::decode_next(text, after_second));
    if (second != Gpt2Class::kSpace) return run_end(text, after_second, second);
  }
  const Gpt2Class first_class = gpt2_class(first);
  if (first_class != Gpt2Class::kSpace) return run_end(text, after_first, first_class);

  // \s+(?!\S): the whole run when the text ends after it, else the run less its last character (which must not be
  // followed by \S) when that leaves one; otherwise \s+ takes the single character.
  size_t last_start = start, end = after_first;
  while (end < text.size()) {
    size_t next = end;
    if (gpt2_class(utf8::decode_next(text, next)) != Gpt2Class::kSpace) break;
    last_start = end;
    end = next;
  }
  if (end == text.size() || last_start == start) return end;
  return last_start;
}

// ---- reading -----------------------------------------------------------------------------------------------

namespace {

SplitBehavior split_behavior(const Field& field) {
  const std::string name = field.string();
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  field.fail_expected("one of \"Removed\", \"Isolated\", \"MergedWithPrevious\", \"MergedWithNext\", \"Contiguous\"");
}

// One character, as tokenizers' `char` fields are (Metaspace's replacement).
std::string single_character(const Field& field) {
  const std::string text = field.string();
  size_t end = 0;
  if (!text.empty()) utf8::decode_next(text, end);
  if (text.empty() || end != text.size()) field.fail_expected("a single character");
  return text;
}

}  // namespace

PreTokenizer PreTokenizer::from_json(const Field& field) {
  PreTokenizer pre_tokenizer;
  if (!field.is_null()) pre_tokenizer.add(field, 0);
  return pre_tokenizer;
}

void PreTokenizer::add(const Field& field, int depth) {
  check(depth < kMaxComponentDepth, field.path, " nests Sequences deeper than ", kMaxComponentDepth, " levels");
  const std::string type = field.at("type").string();
  Step step{};
  if (type == "Sequence") {
    const Field list = field.at("pretokenizers");
    for (size_t index = 0; index < list.array().size(); ++index) add(list.at(index), depth + 1);
    return;
  }
  if (type == "ByteLevel") {
    step.kind = Kind::kByteLevel;
    step.add_prefix_space = field.at("add_prefix_space").boolean(true);
    step.use_regex = field.at("use_regex").boolean(true);
  } else if (type == "Digits") {
    step.kind = Kind::kDigits;
    step.individual_digits = field.at("individual_digits").boolean(false);
  } else if (type == "Metaspace") {
    step.kind = Kind::kMetaspace;
    step.replacement = single_character(field.at("replacement"));
    const std::string scheme = field.at("prepend_scheme").string_or("always");
    if (scheme == "always") {
      step.prepend = Prepend::kAlways;
    } else if (scheme == "first") {
      step.prepend = Prepend::kFirst;
    } else if (scheme == "never") {
      step.prepend = Prepend::kNever;
    } else {
      field.at("prepend_scheme").fail_expected("\"always\", \"first\" or \"never\"");
    }
    // Files from before prepend_scheme say add_prefix_space; false means "never".
    const Field legacy = field.at("add_prefix_space");
    if (!legacy.is_null() && !legacy.boolean(true)) {
      check(step.prepend == Prepend::kNever || field.at("prepend_scheme").is_null(), legacy.path,
            " is false but prepend_scheme is not \"never\"");
      step.prepend = Prepend::kNever;
    }
    step.split = field.at("split").boolean(true);
  } else if (type == "Split") {
    const Field pattern = field.at("pattern");
    const bool is_regex = pattern.object().contains("Regex");
    if (is_regex) {
      const Field regex = pattern.at("Regex");
      if (regex.string() != kGpt2Pattern) {
        fail(regex.path, " is ", describe(regex.value), "; tinylm matches literal patterns and GPT-2's pattern ",
             nlohmann::json(kGpt2Pattern).dump());
      }
      step.kind = Kind::kSplitGpt2;
    } else {
      step.kind = Kind::kSplitLiteral;
      step.pattern = literal_pattern(pattern);
    }
    step.behavior = split_behavior(field.at("behavior"));
    step.invert = field.at("invert").boolean(false);
  } else {
    fail(field.path, ".type is \"", type, "\"; tinylm reads the pre-tokenizers Sequence, ByteLevel, Digits, "
         "Metaspace and Split");
  }
  steps_.push_back(std::move(step));
}

bool PreTokenizer::byte_level() const {
  for (const Step& step : steps_) {
    if (step.kind == Kind::kByteLevel) return true;
  }
  return false;
}

// ---- applying ----------------------------------------------------------------------------------------------

namespace {

void gpt2_matches(const std::string& text, std::vector<Match>& matches) {
  for (size_t start = 0; start < text.size();) {
    const size_t end = gpt2_match_end(text, start);
    matches.push_back({start, end, true});
    start = end;
  }
}

// Tiles text with the occurrences of a character predicate (each character its own match) and what lies between.
template <typename Predicate>
void character_matches(const std::string& text, Predicate is_match, std::vector<Match>& matches) {
  size_t gap_start = 0;
  for (size_t position = 0; position < text.size();) {
    const size_t start = position;
    if (!is_match(utf8::decode_next(text, position))) continue;
    if (gap_start < start) matches.push_back({gap_start, start, false});
    matches.push_back({start, position, true});
    gap_start = position;
  }
  if (gap_start < text.size()) matches.push_back({gap_start, text.size(), false});
}

void literal_matches(const std::string& text, const std::string& pattern, std::vector<Match>& matches) {
  size_t gap_start = 0;
  for (size_t at = text.find(pattern); at != std::string::npos; at = text.find(pattern, gap_start)) {
    if (gap_start < at) matches.push_back({gap_start, at, false});
    matches.push_back({at, at + pattern.size(), true});
    gap_start = at + pattern.size();
  }
  if (gap_start < text.size()) matches.push_back({gap_start, text.size(), false});
}

}  // namespace

void PreTokenizer::apply_step(const Step& step, const Piece& piece, std::vector<Piece>& out) const {
  std::vector<Match> matches;
  switch (step.kind) {
    case Kind::kByteLevel: {
      Piece spaced = piece;
      if (step.add_prefix_space && spaced.text[0] != ' ') spaced.text.insert(0, 1, ' ');
      const size_t first = out.size();
      if (step.use_regex) {
        gpt2_matches(spaced.text, matches);
        split_piece(spaced, matches, SplitBehavior::kIsolated, out);
      } else {
        out.push_back(std::move(spaced));
      }
      for (size_t index = first; index < out.size(); ++index) {
        std::string mapped;
        append_byte_level(mapped, out[index].text);
        out[index].text = std::move(mapped);
      }
      return;
    }
    case Kind::kDigits:
      character_matches(piece.text, is_number, matches);
      split_piece(piece, matches, step.individual_digits ? SplitBehavior::kIsolated : SplitBehavior::kContiguous, out);
      return;
    case Kind::kMetaspace: {
      Piece replaced = piece;
      std::string text;
      for (char byte : piece.text) {
        if (byte == ' ') {
          text += step.replacement;
        } else {
          text += byte;
        }
      }
      const bool starts_with_replacement = text.compare(0, step.replacement.size(), step.replacement) == 0;
      const bool prepend = step.prepend == Prepend::kAlways || (step.prepend == Prepend::kFirst && piece.at_text_start);
      if (prepend && !starts_with_replacement) text.insert(0, step.replacement);
      replaced.text = std::move(text);
      if (!step.split) {
        out.push_back(std::move(replaced));
        return;
      }
      literal_matches(replaced.text, step.replacement, matches);
      split_piece(replaced, matches, SplitBehavior::kMergedWithNext, out);
      return;
    }
    case Kind::kSplitLiteral:
    case Kind::kSplitGpt2:
      if (step.kind == Kind::kSplitGpt2) {
        gpt2_matches(piece.text, matches);
      } else {
        literal_matches(piece.text, step.pattern, matches);
      }
      if (step.invert) {
        for (Match& match : matches) match.is_match = !match.is_match;
      }
      split_piece(piece, matches, step.behavior, out);
      return;
  }
}

void PreTokenizer::apply(std::vector<Piece>& pieces) const {
  std::vector<Piece> next;
  for (const Step& step : steps_) {
    next.clear();
    next.reserve(pieces.size());
    for (const Piece& piece : pieces) apply_step(step, piece, next);
    pieces.swap(next);
  }
}

}  // namespace tinylm::hf
