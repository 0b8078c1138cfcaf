// Reading Hugging Face tokenizer files (tokenizer.json, tokenizer_config.json) safely: they arrive from the
// network or a dropped folder, so every size and depth is bounded before anything is built, and every malformed
// field fails with an Error that names the file, the field's path and what was found:
//   "tokenizer.json: model.merges[12] must be a pair of token strings, got 7".
// Fields follow the tokenizers library's serde defaults: a missing or null optional field takes its default.
#pragma once
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace tinylm::hf {

inline constexpr size_t kMaxDocumentBytes = size_t{64} << 20;  // the largest published tokenizer.json is ~35 MB
inline constexpr int kMaxDocumentDepth = 64;     // tokenizer.json nests 5 deep; a chat template config 4
inline constexpr int kMaxComponentDepth = 8;     // Sequence inside Sequence in normalizers, decoders, ...
inline constexpr int64_t kMaxVocabSize = 1 << 21;  // ids and counts stay far from int32 overflow

// Parses a document of at most kMaxDocumentBytes and kMaxDocumentDepth; `file` names it in errors.
nlohmann::json parse_document(std::string_view text, const char* file);

// A short description of a value for an error message: scalars as JSON (long strings cut), containers by size.
std::string describe(const nlohmann::json& value);

// A JSON value and where it sits ("tokenizer.json: model"), so nested readers can name what is wrong.
struct Field {
  const nlohmann::json& value;
  std::string path;

  Field at(const char* key) const;   // the member, or a null Field when missing (a missing field is its default)
  Field at(size_t index) const;      // an array element; index < value.size()
  bool is_null() const { return value.is_null(); }

  const nlohmann::json& object() const;  // fails unless an object
  const nlohmann::json& array() const;   // fails unless an array
  std::string string() const;            // fails unless a string
  bool boolean(bool if_null) const;      // fails unless a boolean or null
  int64_t integer(int64_t low, int64_t high) const;  // fails unless an integer in [low, high]
  std::string string_or(const std::string& if_null) const;
  [[noreturn]] void fail_expected(const char* expected) const;
};

}  // namespace tinylm::hf
