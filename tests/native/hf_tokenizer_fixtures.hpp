// Small tokenizer.json documents for the Hugging Face tokenizer tests, built field by field in the layout the
// tokenizers library writes, so each test states exactly which component it exercises.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/hf_pieces.hpp"
#include "tokenizer/hf_tokenizer.hpp"
#include "tokenizer/utf8.hpp"

namespace tinylm::testing {

// A BPE model over the given tokens (ids in order) and merges ("left", "right"); other fields as given.
inline nlohmann::json bpe_model(const std::vector<std::string>& tokens,
                                const std::vector<std::pair<std::string, std::string>>& merges) {
  nlohmann::json vocab = nlohmann::json::object();
  for (size_t id = 0; id < tokens.size(); ++id) vocab[tokens[id]] = id;
  nlohmann::json merge_list = nlohmann::json::array();
  for (const auto& [left, right] : merges) merge_list.push_back({left, right});
  return {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
          {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", false},
          {"vocab", vocab}, {"merges", merge_list}};
}

inline nlohmann::json tokenizer_document(nlohmann::json model) {
  return {{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr}, {"added_tokens", nlohmann::json::array()},
          {"normalizer", nullptr}, {"pre_tokenizer", nullptr}, {"post_processor", nullptr}, {"decoder", nullptr},
          {"model", std::move(model)}};
}

inline nlohmann::json added_token(int id, const std::string& content, bool special = true) {
  return {{"id", id}, {"content", content}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
          {"normalized", !special}, {"special", special}};
}

inline nlohmann::json byte_level(bool add_prefix_space = false) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", add_prefix_space}, {"trim_offsets", true}, {"use_regex", true}};
}

// Byte-level BPE: the 256 alphabet characters at ids 0..255 (id = byte), then one token per merge of byte strings,
// GPT-2's pre-tokenizer and decoder.
inline nlohmann::json byte_level_document(const std::vector<std::pair<std::string, std::string>>& byte_merges = {}) {
  auto alphabet = [](const std::string& bytes) {
    std::string text;
    hf::append_byte_level(text, bytes);
    return text;
  };
  std::vector<std::string> tokens;
  for (int byte = 0; byte < 256; ++byte) tokens.push_back(alphabet(std::string(1, static_cast<char>(byte))));
  std::vector<std::pair<std::string, std::string>> merges;
  for (const auto& [left, right] : byte_merges) {
    merges.emplace_back(alphabet(left), alphabet(right));
    tokens.push_back(alphabet(left + right));
  }
  nlohmann::json document = tokenizer_document(bpe_model(tokens, merges));
  document["pre_tokenizer"] = byte_level();
  document["decoder"] = byte_level(true);
  return document;
}

inline std::unique_ptr<HfTokenizer> load(const nlohmann::json& document, const nlohmann::json& config = nullptr) {
  return load_hf_tokenizer(document.dump(), config.is_null() ? std::string() : config.dump());
}

// The ids of bytes, for byte-level documents without merges (id = byte).
inline std::vector<int32_t> byte_ids(const std::string& bytes) {
  std::vector<int32_t> ids;
  for (char byte : bytes) ids.push_back(static_cast<uint8_t>(byte));
  return ids;
}

}  // namespace tinylm::testing
