// The BPE model of a tokenizer.json. See hf_bpe.hpp.
#include "tokenizer/hf_bpe.hpp"

#include <algorithm>

#include "tinylm/error.hpp"
#include "tokenizer/utf8.hpp"

namespace tinylm::hf {

namespace {

constexpr const char* kWordMarker = "\xE2\x96\x81";  // "▁" U+2581, SentencePiece's space (3 bytes)

std::string byte_token(unsigned byte) {
  static const char kHex[] = "0123456789ABCDEF";
  return std::string("<0x") + kHex[byte >> 4] + kHex[byte & 15] + ">";
}

}  // namespace

BpeModel BpeModel::from_json(const Field& field) {
  BpeModel model;
  const std::string type = field.at("type").string_or("BPE");  // older files leave the BPE model untyped
  if (type != "BPE") {
    fail(field.path, ".type is \"", type, "\"; tinylm reads BPE models (WordPiece, Unigram and WordLevel are not "
         "supported)");
  }
  const Field dropout = field.at("dropout");
  if (!dropout.is_null() && !(dropout.value.is_number() && dropout.value.get<double>() == 0.0)) {
    fail(dropout.path, " is ", describe(dropout.value), "; BPE dropout randomises training tokenization and tinylm "
         "encodes deterministically: set it to null");
  }
  model.continuing_subword_prefix_ = field.at("continuing_subword_prefix").string_or("");
  model.end_of_word_suffix_ = field.at("end_of_word_suffix").string_or("");
  model.fuse_unk_ = field.at("fuse_unk").boolean(false);
  model.byte_fallback_ = field.at("byte_fallback").boolean(false);
  model.ignore_merges_ = field.at("ignore_merges").boolean(false);

  const Field vocab = field.at("vocab");
  const nlohmann::json& entries = vocab.object();
  check(static_cast<int64_t>(entries.size()) <= kMaxVocabSize, vocab.path, " holds ", entries.size(),
        " tokens; tinylm reads at most ", kMaxVocabSize);
  model.vocab_.reserve(entries.size());
  int64_t largest = -1;
  for (const auto& [token, id_value] : entries.items()) {
    const int64_t id = Field{id_value, vocab.path + "[" + nlohmann::json(token).dump() + "]"}.integer(0, kMaxVocabSize - 1);
    model.vocab_.emplace(token, static_cast<int32_t>(id));
    largest = std::max(largest, id);
  }
  model.tokens_.assign(static_cast<size_t>(largest + 1), nullptr);
  for (const auto& [token, id] : model.vocab_) {
    const std::string*& slot = model.tokens_[static_cast<size_t>(id)];
    if (slot != nullptr) fail(vocab.path, " gives id ", id, " to both ", describe(*slot), " and ", describe(token));
    slot = &token;
  }
  for (unsigned byte = 0; byte < 256; ++byte) model.byte_fallback_ids_[byte] = model.token_id(byte_token(byte));

  const Field unk = field.at("unk_token");
  if (!unk.is_null()) {
    model.unk_id_ = model.token_id(unk.string());
    check(model.unk_id_ >= 0, unk.path, " is ", describe(unk.value), ", which is not in ", vocab.path);
  }
  model.read_merges(field.at("merges"));

  // Cut points are safe when no token joins another character to a following "▁".
  bool safe = !model.ignore_merges_ && model.token_id(kWordMarker) >= 0 && model.continuing_subword_prefix_.empty() &&
              model.end_of_word_suffix_.empty();
  for (size_t id = 0; safe && id < model.tokens_.size(); ++id) {
    if (model.tokens_[id] == nullptr) continue;
    const std::string& token = *model.tokens_[id];
    for (size_t at = token.find(kWordMarker, 1); safe && at != std::string::npos; at = token.find(kWordMarker, at + 1)) {
      safe = at >= 3 && token.compare(at - 3, 3, kWordMarker) == 0;
    }
  }
  model.cut_before_marker_ = safe;
  return model;
}

size_t BpeModel::part_end(const std::string& piece, size_t start) const {
  if (!cut_before_marker_) return piece.size();
  for (size_t at = piece.find(kWordMarker, start + 1); at != std::string::npos; at = piece.find(kWordMarker, at + 1)) {
    if (at < 3 || piece.compare(at - 3, 3, kWordMarker) != 0) return at;
  }
  return piece.size();
}

void BpeModel::read_merges(const Field& list) {
  const nlohmann::json& merges = list.array();
  check(static_cast<int64_t>(merges.size()) <= kMaxVocabSize, list.path, " holds ", merges.size(),
        " merges; tinylm reads at most ", kMaxVocabSize);
  merges_.reserve(merges.size());
  const size_t prefix_length = continuing_subword_prefix_.size();
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const Field entry = list.at(rank);
    std::string left, right;
    if (entry.value.is_string()) {  // "left right"
      const std::string text = entry.string();
      const size_t space = text.find(' ');
      if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos) {
        entry.fail_expected("two tokens separated by one space");
      }
      left = text.substr(0, space);
      right = text.substr(space + 1);
    } else if (entry.value.is_array() && entry.value.size() == 2 && entry.value[0].is_string() &&
               entry.value[1].is_string()) {
      left = entry.value[0].get<std::string>();
      right = entry.value[1].get<std::string>();
    } else {
      entry.fail_expected("a pair of token strings");
    }
    const int32_t left_id = token_id(left), right_id = token_id(right);
    // The merged token is left + right without right's continuing_subword_prefix, as tokenizers builds it.
    const bool right_has_prefix = right.compare(0, prefix_length, continuing_subword_prefix_) == 0;
    const int32_t new_id = token_id(left + right.substr(right_has_prefix ? prefix_length : 0));
    if (left_id < 0 || right_id < 0 || new_id < 0) {
      fail(entry.path, " ", describe(entry.value), " names a token that is not in the vocabulary (",
           left_id < 0 ? describe(left) : right_id < 0 ? describe(right) : describe(left + right), ")");
    }
    // A repeated pair takes its last rank, as a map built from the list does in tokenizers.
    merges_[pair_key(left_id, right_id)] = (static_cast<int64_t>(rank) << 32) | new_id;
  }
}

int32_t BpeModel::token_id(const std::string& token) const {
  auto found = vocab_.find(token);
  return found == vocab_.end() ? -1 : found->second;
}

const std::string* BpeModel::token(int32_t id) const {
  return id < 0 || id >= id_limit() ? nullptr : tokens_[static_cast<size_t>(id)];
}

void BpeModel::encode_piece(const std::string& piece, std::vector<int32_t>& ids) const {
  if (ignore_merges_) {
    const int32_t whole = token_id(piece);
    if (whole >= 0) {
      ids.push_back(whole);
      return;
    }
  }
  // A symbol of the piece, linked to its neighbours; length 0 once merged into its left neighbour.
  struct Symbol {
    int32_t id, previous, next;
    uint32_t length;
  };
  std::vector<Symbol> symbols;
  symbols.reserve(piece.size());
  auto add = [&symbols](int32_t id, uint32_t length) {
    const int32_t index = static_cast<int32_t>(symbols.size());
    if (index > 0) symbols.back().next = index;
    symbols.push_back({id, index - 1, -1, length});
  };

  // 1. characters → tokens, with byte fallback and unknown-character handling.
  int32_t pending_unk_length = 0;  // > 0 while an unk symbol waits to be added (fuse_unk grows it)
  std::string character;
  for (size_t position = 0; position < piece.size();) {
    const size_t start = position;
    utf8::decode_next(piece, position);
    const uint32_t byte_length = static_cast<uint32_t>(position - start);
    character.assign(start == 0 ? "" : continuing_subword_prefix_);
    character.append(piece, start, byte_length);
    if (position == piece.size()) character += end_of_word_suffix_;

    const int32_t id = token_id(character);
    if (id >= 0) {
      if (pending_unk_length > 0) add(unk_id_, static_cast<uint32_t>(pending_unk_length));
      pending_unk_length = 0;
      add(id, byte_length);
      continue;
    }
    if (byte_fallback_) {
      bool all_bytes = true;
      for (char byte : character) all_bytes = all_bytes && byte_fallback_ids_[static_cast<uint8_t>(byte)] >= 0;
      if (all_bytes) {  // tokenizers adds them without first adding a waiting unk
        for (char byte : character) add(byte_fallback_ids_[static_cast<uint8_t>(byte)], 1);
        continue;
      }
    }
    if (unk_id_ < 0) continue;  // no unk_token: the character is dropped
    if (pending_unk_length > 0 && !fuse_unk_) {
      add(unk_id_, static_cast<uint32_t>(pending_unk_length));
      pending_unk_length = 0;
    }
    pending_unk_length += static_cast<int32_t>(byte_length);
  }
  if (pending_unk_length > 0) add(unk_id_, static_cast<uint32_t>(pending_unk_length));

  // 2. merges, lowest (rank, position) first.
  struct Candidate {
    int32_t rank, position, new_id;
  };
  auto later = [](const Candidate& a, const Candidate& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.position > b.position;
  };
  std::vector<Candidate> heap;
  auto push = [&](int32_t position) {
    const Symbol& left = symbols[static_cast<size_t>(position)];
    if (left.next < 0) return;
    auto found = merges_.find(pair_key(left.id, symbols[static_cast<size_t>(left.next)].id));
    if (found == merges_.end()) return;
    heap.push_back({merge_rank(found->second), position, merge_new_id(found->second)});
    std::push_heap(heap.begin(), heap.end(), later);
  };
  for (int32_t position = 0; position + 1 < static_cast<int32_t>(symbols.size()); ++position) push(position);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const Candidate top = heap.back();
    heap.pop_back();
    Symbol& left = symbols[static_cast<size_t>(top.position)];
    if (left.length == 0 || left.next < 0) continue;
    Symbol& right = symbols[static_cast<size_t>(left.next)];
    auto found = merges_.find(pair_key(left.id, right.id));
    if (found == merges_.end() || merge_new_id(found->second) != top.new_id) continue;  // stale
    left.id = top.new_id;
    left.length += right.length;
    left.next = right.next;
    right.length = 0;
    if (left.next >= 0) symbols[static_cast<size_t>(left.next)].previous = top.position;
    if (left.previous >= 0) push(left.previous);
    push(top.position);
  }
  for (const Symbol& symbol : symbols) {
    if (symbol.length > 0) ids.push_back(symbol.id);
  }
}

}  // namespace tinylm::hf
