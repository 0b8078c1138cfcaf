// Normalizer steps of a tokenizer.json. See hf_normalizer.hpp.
#include "tokenizer/hf_normalizer.hpp"

#include "tinylm/error.hpp"
#include "tokenizer/hf_unicode.hpp"
#include "tokenizer/utf8.hpp"

namespace tinylm::hf {

std::string literal_pattern(const Field& pattern) {
  const nlohmann::json& object = pattern.object();
  if (object.size() == 1 && object.contains("String")) {
    std::string literal = pattern.at("String").string();
    // tokenizers compiles the literal into a regular expression; an empty one would match between every character
    check(!literal.empty(), pattern.path, ".String is empty; a pattern must match at least one character");
    return literal;
  }
  if (object.contains("Regex")) {
    fail(pattern.path, " is a regular expression (", describe(object.at("Regex")),
         "); tinylm reads literal {\"String\": ...} patterns here");
  }
  pattern.fail_expected("{\"String\": \"...\"}");
}

Normalizer Normalizer::from_json(const Field& field) {
  Normalizer normalizer;
  if (!field.is_null()) normalizer.add(field, 0);
  return normalizer;
}

void Normalizer::add(const Field& field, int depth) {
  check(depth < kMaxComponentDepth, field.path, " nests Sequences deeper than ", kMaxComponentDepth, " levels");
  const std::string type = field.at("type").string();
  if (type == "Sequence") {
    const Field list = field.at("normalizers");
    for (size_t index = 0; index < list.array().size(); ++index) add(list.at(index), depth + 1);
  } else if (type == "Prepend") {
    steps_.push_back({Kind::kPrepend, field.at("prepend").string(), "", false, false});
  } else if (type == "Replace") {
    steps_.push_back({Kind::kReplace, literal_pattern(field.at("pattern")), field.at("content").string(), false,
                      false});
  } else if (type == "Strip") {
    steps_.push_back({Kind::kStrip, "", "", field.at("strip_left").boolean(true), field.at("strip_right").boolean(true)});
  } else {
    fail(field.path, ".type is \"", type, "\"; tinylm reads the normalizers Sequence, Prepend, Replace (literal) "
         "and Strip");
  }
}

namespace {

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

std::string strip(const std::string& text, bool left, bool right) {
  size_t begin = 0, end = text.size();
  if (left) {
    while (begin < end) {
      size_t next = begin;
      if (!is_white_space(utf8::decode_next(text, next))) break;
      begin = next;
    }
  }
  if (right) {
    while (end > begin) {
      size_t start = end - 1;  // back to the lead byte of the last character
      while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
      size_t next = start;
      if (!is_white_space(utf8::decode_next(text, next))) break;
      end = start;
    }
  }
  return text.substr(begin, end - begin);
}

}  // namespace

std::string Normalizer::apply(std::string text) const {
  for (const Step& step : steps_) {
    switch (step.kind) {
      case Kind::kPrepend:
        if (!text.empty()) text = step.text + text;
        break;
      case Kind::kReplace:
        text = replace_all(text, step.text, step.content);
        break;
      case Kind::kStrip:
        text = strip(text, step.left, step.right);
        break;
    }
  }
  return text;
}

}  // namespace tinylm::hf
