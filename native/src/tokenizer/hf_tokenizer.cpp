// HfTokenizer: reading a tokenizer.json into its parts, and the encode/decode pipelines. See hf_tokenizer.hpp;
// the post-processor, tokenizer_config.json and the "hf" JSON kind are in hf_tokenizer_config.cpp.
#include "tokenizer/hf_tokenizer.hpp"

#include <algorithm>

#include "tinylm/error.hpp"
#include "tokenizer/utf8.hpp"

namespace tinylm {

namespace {

constexpr size_t kMaxAddedTokens = 1 << 17;  // published files hold up to a few thousand

}  // namespace

HfTokenizer::HfTokenizer(const std::string& tokenizer_json, const std::string& tokenizer_config_json)
    : tokenizer_json_(tokenizer_json), tokenizer_config_json_(tokenizer_config_json) {
  try {
    const nlohmann::json document = hf::parse_document(tokenizer_json, "tokenizer.json");
    const hf::Field root{document, "tokenizer.json"};
    root.object();
    const hf::Field version = root.at("version");
    if (!version.is_null() && version.string() != "1.0") {
      fail("tokenizer.json: version is ", hf::describe(version.value), "; tinylm reads version \"1.0\" (the only "
           "one the tokenizers library writes)");
    }
    normalizer_ = hf::Normalizer::from_json(root.at("normalizer"));
    pre_tokenizer_ = hf::PreTokenizer::from_json(root.at("pre_tokenizer"));
    const hf::Field model = root.at("model");
    model.object();
    model_ = hf::BpeModel::from_json(model);
    vocab_size_ = model_.id_limit();
    decoder_ = hf::Decoder::from_json(root.at("decoder"));
    separator_ = root.at("decoder").is_null() ? " " : "";
    read_added_tokens(root.at("added_tokens"));
    read_post_processor(root.at("post_processor"), 0);
    nlohmann::json config = nlohmann::json::object();
    if (!tokenizer_config_json.empty()) config = hf::parse_document(tokenizer_config_json, "tokenizer_config.json");
    read_config(config);
  } catch (const nlohmann::json::exception& error) {  // a path the field checks missed: still an Error, never a crash
    fail("tokenizer.json: unexpected JSON structure: ", error.what());
  }
}

void HfTokenizer::read_added_tokens(const hf::Field& list) {
  if (list.is_null()) return;
  const nlohmann::json& entries = list.array();
  check(entries.size() <= kMaxAddedTokens, list.path, " holds ", entries.size(), " tokens; tinylm reads at most ",
        kMaxAddedTokens);
  added_tokens_.reserve(entries.size());
  for (size_t index = 0; index < entries.size(); ++index) {
    const hf::Field entry = list.at(index);
    entry.object();
    hf::AddedToken token;
    token.content = entry.at("content").string();
    if (token.content.empty()) continue;  // tokenizers skips empty tokens
    token.special = entry.at("special").boolean(false);
    token.single_word = entry.at("single_word").boolean(false);
    token.lstrip = entry.at("lstrip").boolean(false);
    token.rstrip = entry.at("rstrip").boolean(false);
    token.normalized = entry.at("normalized").boolean(!token.special);
    // A token the vocabulary already holds keeps the vocabulary's id, as tokenizers assigns it.
    const int32_t in_vocabulary = model_.token_id(token.content);
    token.id = in_vocabulary >= 0 ? in_vocabulary
                                  : static_cast<int32_t>(entry.at("id").integer(0, hf::kMaxVocabSize - 1));
    auto [where, inserted] = added_by_id_.emplace(token.id, added_tokens_.size());
    if (!inserted && added_tokens_[where->second].content != token.content) {
      fail(entry.path, " gives id ", token.id, " to ", hf::describe(token.content), " but ",
           hf::describe(added_tokens_[where->second].content), " has it already");
    }
    where->second = added_tokens_.size();
    added_ids_[token.content] = token.id;
    vocab_size_ = std::max(vocab_size_, token.id + 1);
    added_tokens_.push_back(std::move(token));
  }
  // Matching patterns, once the vector no longer moves: normalized tokens match their normalized form.
  added_decoded_.reserve(added_tokens_.size());
  for (const hf::AddedToken& token : added_tokens_) {
    const std::string form = token.normalized ? normalizer_.apply(token.content) : token.content;
    added_decoded_.push_back(form);
    (token.normalized ? normalized_matcher_ : raw_matcher_).add(form, &token);
  }
}

int32_t HfTokenizer::token_id(const std::string& token) const {
  if (token.empty()) return -1;
  auto found = added_ids_.find(token);
  return found != added_ids_.end() ? found->second : model_.token_id(token);
}

bool HfTokenizer::is_special(int32_t id) const {
  auto found = added_by_id_.find(id);
  return found != added_by_id_.end() && added_tokens_[found->second].special;
}

const std::string* HfTokenizer::token_string(int32_t id) const {
  check(id >= 0 && id < vocab_size_, "hf tokenizer: token id ", id, " is outside the vocabulary [0, ", vocab_size_,
        ")");
  auto found = added_by_id_.find(id);
  if (found != added_by_id_.end()) return &added_decoded_[found->second];
  return model_.token(id);
}

// ---- encoding ----------------------------------------------------------------------------------------------

std::vector<int32_t> HfTokenizer::encode(std::string_view input, bool add_special_tokens) const {
  // Text only: invalid UTF-8 becomes U+FFFD first, as a JavaScript string or a Python str would hold it.
  const std::string text = utf8::is_valid(input) ? std::string(input) : utf8::encode(utf8::decode(input));
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3);
  if (add_special_tokens) ids = prefix_ids_;

  // piece → where its ids were first written in `ids` (offset, count): text repeats its words a lot.
  std::unordered_map<std::string, std::pair<size_t, size_t>> encoded;
  std::vector<hf::Piece> pieces;
  auto encode_stretch = [&](std::string stretch, bool at_text_start) {
    pieces.clear();
    pieces.push_back({std::move(stretch), at_text_start});
    pre_tokenizer_.apply(pieces);
    for (hf::Piece& piece : pieces) {
      for (size_t start = 0; start < piece.text.size();) {
        const size_t end = model_.part_end(piece.text, start);
        auto [found, inserted] = encoded.try_emplace(piece.text.substr(start, end - start), ids.size(), 0);
        start = end;
        if (!inserted) {
          const auto [offset, count] = found->second;
          for (size_t index = 0; index < count; ++index) {
            const int32_t id = ids[offset + index];  // copied first: push_back may reallocate ids
            ids.push_back(id);
          }
          continue;
        }
        model_.encode_piece(found->first, ids);
        found->second.second = ids.size() - found->second.first;
      }
    }
  };

  for (const hf::Section& section : raw_matcher_.split(text)) {
    if (section.id >= 0) {
      ids.push_back(section.id);
      continue;
    }
    std::string stretch = text.substr(section.begin, section.end - section.begin);
    if (!normalizer_.empty()) stretch = normalizer_.apply(std::move(stretch));
    if (normalized_matcher_.empty()) {
      if (!stretch.empty()) encode_stretch(std::move(stretch), section.begin == 0);
      continue;
    }
    for (const hf::Section& part : normalized_matcher_.split(stretch)) {
      if (part.id >= 0) {
        ids.push_back(part.id);
      } else {
        encode_stretch(stretch.substr(part.begin, part.end - part.begin), section.begin == 0 && part.begin == 0);
      }
    }
  }
  if (add_special_tokens) ids.insert(ids.end(), suffix_ids_.begin(), suffix_ids_.end());
  return ids;
}

// ---- decoding ----------------------------------------------------------------------------------------------

std::string HfTokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    const std::string* token = token_string(id);
    if (token == nullptr || (skip_special_tokens && is_special(id))) continue;  // as tokenizers skips them
    tokens.push_back(*token);
  }
  return decoder_.decode(std::move(tokens));
}

std::string HfTokenizer::token_bytes(int32_t id) const {
  const std::string* token = token_string(id);
  return token == nullptr ? std::string() : decoder_.token_text(*token);
}

}  // namespace tinylm
