// The BPE model of a tokenizer.json ("model": {"type": "BPE", ...}): turns one pre-tokenized piece into token ids,
// exactly as the tokenizers library's BPE does.
//   1. Each character of the piece becomes its vocabulary token (continuing_subword_prefix before every character
//      but the first, end_of_word_suffix after the last, when set). A character without a token becomes its
//      UTF-8 bytes as <0xNN> tokens when byte_fallback (Llama), else unk_token (runs of them fused into one when
//      fuse_unk), else it is dropped.
//   2. Merges apply lowest rank first, leftmost first on ties, through a min-heap of candidate pairs; a candidate
//      is taken when the pair now at its position still merges into the token it was queued for.
//   3. ignore_merges: a piece that is itself in the vocabulary is that one token.
// "merges" may be ["a b", ...] (older files) or [["a", "b"], ...]; "dropout" must be null or 0 (encoding is
// deterministic here).
//
// Speed: Llama 2's legacy layout has no pre-tokenizer, so a whole text is one piece and one merge heap. When no
// vocabulary token holds "▁" right after another character than "▁" (true of SentencePiece vocabularies), no token
// and so no merge can span such a point, and the piece is cut there into words that encode independently (and are
// cached) with the same result; part_end() gives the cuts. Not with ignore_merges, whose whole-piece lookup would
// then apply to each word.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/hf_json.hpp"

namespace tinylm::hf {

class BpeModel {
 public:
  static BpeModel from_json(const Field& field);

  // Appends the ids of one piece (non-empty, valid UTF-8).
  void encode_piece(const std::string& piece, std::vector<int32_t>& ids) const;
  // The end of the independent part of piece that starts at byte `start` (< piece.size()): piece.size() unless
  // the vocabulary allows cutting before word markers (see above).
  size_t part_end(const std::string& piece, size_t start) const;

  int32_t token_id(const std::string& token) const;  // −1 when absent
  // The vocabulary's string for id, or nullptr when no token has that id.
  const std::string* token(int32_t id) const;
  int32_t id_limit() const { return static_cast<int32_t>(tokens_.size()); }  // 1 + the largest id
  int32_t unk_id() const { return unk_id_; }                                  // −1 without unk_token

 private:
  static uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  // A merge's rank and the id it makes, packed as rank << 32 | new_id (both < 2^31).
  static int32_t merge_rank(int64_t merge) { return static_cast<int32_t>(merge >> 32); }
  static int32_t merge_new_id(int64_t merge) { return static_cast<int32_t>(merge & 0xFFFFFFFF); }
  void read_merges(const Field& list);

  std::unordered_map<std::string, int32_t> vocab_;
  std::vector<const std::string*> tokens_;  // id → its key in vocab_ (nodes never move), nullptr for an unused id
  std::unordered_map<uint64_t, int64_t> merges_;  // pair_key(left id, right id) → rank << 32 | merged id
  int32_t byte_fallback_ids_[256];       // <0xNN> ids when byte_fallback, −1 when absent
  bool byte_fallback_ = false, fuse_unk_ = false, ignore_merges_ = false;
  int32_t unk_id_ = -1;
  std::string continuing_subword_prefix_, end_of_word_suffix_;
  bool cut_before_marker_ = false;  // pieces may be cut before each "▁" that follows another character
};

}  // namespace tinylm::hf
