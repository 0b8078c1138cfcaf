// Decoder steps of a tokenizer.json. See hf_decoder.hpp.
#include "tokenizer/hf_decoder.hpp"

#include "tinylm/error.hpp"
#include "tokenizer/hf_normalizer.hpp"
#include "tokenizer/hf_pieces.hpp"
#include "tokenizer/utf8.hpp"

namespace tinylm::hf {

namespace {

std::string single_character(const Field& field) {
  const std::string text = field.string();
  size_t end = 0;
  if (!text.empty()) utf8::decode_next(text, end);
  if (text.empty() || end != text.size()) field.fail_expected("a single character");
  return text;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The byte of a "<0xNN>" token, or −1. The two characters after "<0x" are read as Rust's u8::from_str_radix(_, 16)
// reads them (which also takes "+N").
int fallback_byte(const std::string& token) {
  if (token.size() != 6 || token.compare(0, 3, "<0x") != 0 || token[5] != '>') return -1;
  const int high = token[3] == '+' ? 0 : hex_digit(token[3]), low = hex_digit(token[4]);
  return high < 0 || low < 0 ? -1 : high * 16 + low;
}

// The bytes a byte-level token stands for; a token with a character outside the alphabet keeps its own UTF-8.
std::string byte_level_bytes(const std::string& token) {
  std::string bytes;
  for (size_t position = 0; position < token.size();) {
    const int byte = byte_level_byte(utf8::decode_next(token, position));
    if (byte < 0) return token;
    bytes += static_cast<char>(byte);
  }
  return bytes;
}

std::string replace_all(const std::string& text, const std::string& pattern, const std::string& content) {
  std::string out;
  size_t from = 0;
  for (size_t at = text.find(pattern); at != std::string::npos; at = text.find(pattern, from)) {
    out.append(text, from, at - from);
    out += content;
    from = at + pattern.size();
  }
  out.append(text, from, std::string::npos);
  return out;
}

// Lossy UTF-8: each maximal invalid subsequence becomes U+FFFD (what Rust's String::from_utf8_lossy does).
std::string lossy(const std::string& bytes) {
  if (utf8::is_valid(bytes)) return bytes;
  return utf8::encode(utf8::decode(bytes));
}

std::string strip(const std::string& token, const std::string& content, size_t start, size_t stop) {
  std::vector<char32_t> characters = utf8::decode(token);
  const char32_t target = utf8::decode(content)[0];
  size_t begin = 0, end = characters.size();
  while (begin < start && begin < end && characters[begin] == target) ++begin;
  for (size_t index = 0; index < stop && end > begin && characters[end - 1] == target; ++index) --end;
  return utf8::encode(std::vector<char32_t>(characters.begin() + static_cast<std::ptrdiff_t>(begin),
                                            characters.begin() + static_cast<std::ptrdiff_t>(end)));
}

}  // namespace

Decoder Decoder::from_json(const Field& field) {
  Decoder decoder;
  if (!field.is_null()) {
    decoder.has_decoder_ = true;
    decoder.add(field, 0);
  }
  return decoder;
}

void Decoder::add(const Field& field, int depth) {
  check(depth < kMaxComponentDepth, field.path, " nests Sequences deeper than ", kMaxComponentDepth, " levels");
  const std::string type = field.at("type").string();
  Step step{};
  if (type == "Sequence") {
    const Field list = field.at("decoders");
    for (size_t index = 0; index < list.array().size(); ++index) add(list.at(index), depth + 1);
    return;
  }
  if (type == "ByteLevel") {
    step.kind = Kind::kByteLevel;
  } else if (type == "Replace") {
    step.kind = Kind::kReplace;
    step.pattern = literal_pattern(field.at("pattern"));
    step.content = field.at("content").string();
  } else if (type == "ByteFallback") {
    step.kind = Kind::kByteFallback;
  } else if (type == "Fuse") {
    step.kind = Kind::kFuse;
  } else if (type == "Strip") {
    step.kind = Kind::kStrip;
    step.content = single_character(field.at("content"));
    step.start = static_cast<size_t>(field.at("start").integer(0, 1 << 20));
    step.stop = static_cast<size_t>(field.at("stop").integer(0, 1 << 20));
  } else if (type == "Metaspace") {
    step.kind = Kind::kMetaspace;
    step.content = single_character(field.at("replacement"));
    const Field scheme = field.at("prepend_scheme");
    const Field legacy = field.at("add_prefix_space");
    step.strip_first = scheme.is_null() ? legacy.boolean(true) : scheme.string() != "never";
  } else {
    fail(field.path, ".type is \"", type, "\"; tinylm reads the decoders Sequence, ByteLevel, Replace (literal), "
         "ByteFallback, Fuse, Strip and Metaspace");
  }
  steps_.push_back(std::move(step));
}

std::string Decoder::decode(std::vector<std::string> tokens) const {
  if (!has_decoder_) {
    std::string text;
    for (size_t index = 0; index < tokens.size(); ++index) text += (index > 0 ? " " : "") + tokens[index];
    return text;
  }
  for (const Step& step : steps_) {
    std::vector<std::string> next;
    switch (step.kind) {
      case Kind::kByteLevel: {
        std::string bytes;
        for (const std::string& token : tokens) bytes += byte_level_bytes(token);
        next.push_back(lossy(bytes));
        break;
      }
      case Kind::kReplace:
        for (const std::string& token : tokens) next.push_back(replace_all(token, step.pattern, step.content));
        break;
      case Kind::kByteFallback: {
        std::string run;  // bytes of consecutive <0xNN> tokens
        auto flush = [&] {
          if (run.empty()) return;
          if (utf8::is_valid(run)) {
            next.push_back(run);
          } else {
            for (size_t index = 0; index < run.size(); ++index) next.push_back(utf8::encode(0xFFFD));
          }
          run.clear();
        };
        for (const std::string& token : tokens) {
          const int byte = fallback_byte(token);
          if (byte >= 0) {
            run += static_cast<char>(byte);
          } else {
            flush();
            next.push_back(token);
          }
        }
        flush();
        break;
      }
      case Kind::kFuse: {
        std::string joined;
        for (const std::string& token : tokens) joined += token;
        next.push_back(std::move(joined));
        break;
      }
      case Kind::kStrip:
        for (const std::string& token : tokens) next.push_back(strip(token, step.content, step.start, step.stop));
        break;
      case Kind::kMetaspace:
        for (size_t index = 0; index < tokens.size(); ++index) {
          const bool drop = index == 0 && step.strip_first;
          next.push_back(replace_all(tokens[index], step.content, drop ? "" : " "));
        }
        break;
    }
    tokens.swap(next);
  }
  std::string text;
  for (const std::string& token : tokens) text += token;
  return text;
}

std::string Decoder::token_text(const std::string& token) const {
  std::string text = token;
  for (const Step& step : steps_) {
    switch (step.kind) {
      case Kind::kByteLevel:
        text = byte_level_bytes(text);
        break;
      case Kind::kReplace:
        text = replace_all(text, step.pattern, step.content);
        break;
      case Kind::kByteFallback: {
        const int byte = fallback_byte(text);
        if (byte >= 0) text = std::string(1, static_cast<char>(byte));
        break;
      }
      case Kind::kMetaspace:
        text = replace_all(text, step.content, " ");
        break;
      case Kind::kFuse:
      case Kind::kStrip:
        break;
    }
  }
  return text;
}

}  // namespace tinylm::hf
