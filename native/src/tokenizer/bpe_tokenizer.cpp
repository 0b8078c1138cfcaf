// Byte-level BPE tokenizer: every byte is a token, and learned merges join frequent adjacent tokens into longer
// ones ("t"+"h" → "th", "th"+"e" → "the", " "+"whale" → " whale"). Since any byte string is a sequence of known
// bytes, decode(encode(s)) == s byte for byte for every input — invalid UTF-8, NUL bytes and emoji included —
// and <unk> is never produced. A token may hold part of a multi-byte character; stream decoders buffer it.
//
// Vocabulary (ids): 0..255 the bytes by value; 256 + r the merge of rank r (r = 0 is learned first); then <unk>;
// then <eos> when enabled. Specials come last, unlike the char and word kinds, so byte and merge ids equal their
// rank as in GPT-2 and minbpe, and a byte-level model trained elsewhere (token = byte value) keeps its ids.
//
// Training (fit_bpe_tokenizer): text is cut into chunks (bpe_chunks.hpp) so merges never cross a word, number,
// punctuation or whitespace boundary. Each unique chunk is kept once with its count; pair counts are summed over
// unique chunks and updated incrementally after each merge, touching only the chunks holding the merged pair.
// The winner is the most frequent pair, ties to the lexicographically smallest (left id, right id) — so training
// is deterministic across platforms. Learning stops at vocab_size or when the best pair occurs fewer than
// min_pair_count times (a small text may give a smaller vocabulary).
//
// Encoding applies merges by rank inside each chunk: repeatedly the lowest-ranked adjacent pair, leftmost first —
// the order training applied them — with a heap so a long chunk costs O(n log n). Repeated chunks are encoded once
// per encode() call.
//
// JSON (version 1): the merges in rank order, each the pair of ids it joins; ids refer to bytes or earlier merges.
//   {"kind": "bpe", "version": 1, "merges": [[116, 104], [256, 101], ...], "eos": false}
// There is no "tokens" list (byte tokens are not valid UTF-8 JSON strings); token_bytes() rebuilds every token.
#include <algorithm>
#include <unordered_map>

#include "tinylm/error.hpp"
#include "tinylm/tokenizer.hpp"
#include "tokenizer/bpe_chunks.hpp"
#include "tokenizer/tokenizer_json.hpp"
#include "tokenizer/utf8.hpp"

namespace tinylm {

namespace {

constexpr int kByteCount = 256;
constexpr int kMaxVocabSize = 262144;  // more than any released tokenizer; keeps ids and counts far from overflow

struct Merge {
  int32_t left, right;  // the ids joined; the merge of rank r creates id kByteCount + r
};

uint64_t pair_key(int32_t left, int32_t right) {
  // Ordering keys as integers orders pairs lexicographically, which is the tie-break training needs.
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

// ---- encoding ----------------------------------------------------------------------------------------------

class BpeTokenizer : public Tokenizer {
 public:
  BpeTokenizer(std::vector<Merge> merges, bool has_eos) : merges_(std::move(merges)), has_eos_(has_eos) {
    token_bytes_.reserve(kByteCount + merges_.size());
    for (int byte = 0; byte < kByteCount; ++byte) token_bytes_.emplace_back(1, static_cast<char>(byte));
    rank_of_pair_.reserve(merges_.size());
    for (size_t rank = 0; rank < merges_.size(); ++rank) {
      const Merge& merge = merges_[rank];
      token_bytes_.push_back(token_bytes_[static_cast<size_t>(merge.left)] +
                             token_bytes_[static_cast<size_t>(merge.right)]);
      rank_of_pair_.emplace(pair_key(merge.left, merge.right), static_cast<int32_t>(rank));
    }
  }

  std::string kind() const override { return "bpe"; }
  int vocab_size() const override { return unk_id() + (has_eos_ ? 2 : 1); }
  int unk_id() const override { return kByteCount + static_cast<int>(merges_.size()); }
  int eos_id() const override { return has_eos_ ? unk_id() + 1 : -1; }

  std::vector<int32_t> encode(std::string_view text) const override {
    std::vector<int32_t> ids;
    ids.reserve(text.size() / 2);
    // chunk → where its ids were first written in `ids` (offset, count): text repeats its words a lot.
    std::unordered_map<std::string_view, std::pair<size_t, size_t>> encoded_chunks;
    MergeScratch scratch;
    for (size_t start = 0; start < text.size();) {
      const size_t end = bpe::chunk_end(text, start);
      const std::string_view chunk = text.substr(start, end - start);
      start = end;
      auto [found, inserted] = encoded_chunks.try_emplace(chunk, ids.size(), 0);
      if (!inserted) {
        const auto [offset, count] = found->second;
        for (size_t index = 0; index < count; ++index) {
          const int32_t id = ids[offset + index];  // copied first: push_back may reallocate ids
          ids.push_back(id);
        }
        continue;
      }
      encode_chunk(chunk, scratch, ids);
      found->second.second = ids.size() - found->second.first;
    }
    return ids;
  }

  std::string token_bytes(int32_t id) const override {
    check(id >= 0 && id < vocab_size(), "bpe tokenizer: token id ", id, " is outside the vocabulary [0, ",
          vocab_size(), ")");
    if (id == unk_id()) return utf8::encode(utf8::kReplacementCharacter);
    if (id == eos_id()) return "";
    return token_bytes_[static_cast<size_t>(id)];
  }

  nlohmann::json to_json() const override {
    nlohmann::json merges = nlohmann::json::array();
    for (const Merge& merge : merges_) merges.push_back({merge.left, merge.right});
    return {{"kind", "bpe"}, {"version", 1}, {"merges", merges}, {"eos", has_eos_}};
  }

 private:
  // A symbol of the chunk being merged, in a doubly linked list over the chunk's bytes; id −1 once merged away.
  struct Symbol {
    int32_t id, previous, next;
  };
  // An adjacent pair that some merge joins; stale once either side has changed (checked when popped).
  struct Candidate {
    int32_t rank, left_position, left_id, right_id;
  };
  struct MergeScratch {
    std::vector<Symbol> symbols;
    std::vector<Candidate> heap;
  };

  void push_candidate(MergeScratch& scratch, int32_t left_position) const {
    const Symbol& left = scratch.symbols[static_cast<size_t>(left_position)];
    if (left.next < 0) return;
    const int32_t right_id = scratch.symbols[static_cast<size_t>(left.next)].id;
    auto found = rank_of_pair_.find(pair_key(left.id, right_id));
    if (found == rank_of_pair_.end()) return;
    scratch.heap.push_back({found->second, left_position, left.id, right_id});
    std::push_heap(scratch.heap.begin(), scratch.heap.end(), later_candidate);
  }

  // Heap order: lowest rank first, then leftmost — the order in which training merged the chunk.
  static bool later_candidate(const Candidate& a, const Candidate& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.left_position > b.left_position;
  }

  void encode_chunk(std::string_view chunk, MergeScratch& scratch, std::vector<int32_t>& ids) const {
    const int32_t length = static_cast<int32_t>(chunk.size());
    scratch.symbols.resize(chunk.size());
    scratch.heap.clear();
    for (int32_t position = 0; position < length; ++position) {
      scratch.symbols[static_cast<size_t>(position)] = {static_cast<unsigned char>(chunk[position]), position - 1,
                                                        position + 1 < length ? position + 1 : -1};
    }
    for (int32_t position = 0; position + 1 < length; ++position) push_candidate(scratch, position);

    while (!scratch.heap.empty()) {
      std::pop_heap(scratch.heap.begin(), scratch.heap.end(), later_candidate);
      const Candidate candidate = scratch.heap.back();
      scratch.heap.pop_back();
      Symbol& left = scratch.symbols[static_cast<size_t>(candidate.left_position)];
      if (left.id != candidate.left_id || left.next < 0) continue;
      Symbol& right = scratch.symbols[static_cast<size_t>(left.next)];
      if (right.id != candidate.right_id) continue;

      left.id = kByteCount + candidate.rank;
      left.next = right.next;
      if (right.next >= 0) scratch.symbols[static_cast<size_t>(right.next)].previous = candidate.left_position;
      right.id = -1;
      if (left.previous >= 0) push_candidate(scratch, left.previous);
      push_candidate(scratch, candidate.left_position);
    }
    for (int32_t position = length > 0 ? 0 : -1; position >= 0;) {
      const Symbol& symbol = scratch.symbols[static_cast<size_t>(position)];
      ids.push_back(symbol.id);
      position = symbol.next;
    }
  }

  std::vector<Merge> merges_;                           // by rank
  std::vector<std::string> token_bytes_;                // id → bytes, for the bytes and the merges
  std::unordered_map<uint64_t, int32_t> rank_of_pair_;  // pair_key(left, right) → rank
  bool has_eos_;
};

// ---- training ----------------------------------------------------------------------------------------------

// The unique chunks of the training text as token sequences, with the pair statistics that pick the next merge.
class MergeLearner {
 public:
  explicit MergeLearner(std::string_view text) {
    std::unordered_map<std::string_view, int64_t> chunk_counts;
    for (size_t start = 0; start < text.size();) {
      const size_t end = bpe::chunk_end(text, start);
      ++chunk_counts[text.substr(start, end - start)];
      start = end;
    }
    words_.reserve(chunk_counts.size());
    word_counts_.reserve(chunk_counts.size());
    for (const auto& [chunk, count] : chunk_counts) {
      const int32_t word = static_cast<int32_t>(words_.size());
      words_.emplace_back(chunk.begin(), chunk.end());
      for (int32_t& symbol : words_.back()) symbol = static_cast<unsigned char>(symbol);
      word_counts_.push_back(count);
      const std::vector<int32_t>& symbols = words_.back();
      for (size_t index = 0; index + 1 < symbols.size(); ++index) {
        const uint64_t key = pair_key(symbols[index], symbols[index + 1]);
        pair_counts_[key] += count;
        words_with_pair_[key].push_back(word);
      }
    }
    for (const auto& [key, count] : pair_counts_) heap_.push_back({count, key});
    std::make_heap(heap_.begin(), heap_.end(), lower_priority);
  }

  // Learns the next merge, the best pair occurring at least min_count times; false when there is none.
  bool learn(int64_t min_count, std::vector<Merge>& merges) {
    while (!heap_.empty()) {
      std::pop_heap(heap_.begin(), heap_.end(), lower_priority);
      const PairCount best = heap_.back();
      heap_.pop_back();
      auto current = pair_counts_.find(best.key);
      if (current == pair_counts_.end() || current->second != best.count) continue;  // stale entry
      if (best.count < min_count) return false;
      const Merge merge{static_cast<int32_t>(best.key >> 32), static_cast<int32_t>(best.key & 0xFFFFFFFFu)};
      apply(merge, kByteCount + static_cast<int32_t>(merges.size()));
      merges.push_back(merge);
      return true;
    }
    return false;
  }

 private:
  struct PairCount {
    int64_t count;
    uint64_t key;
  };
  static bool lower_priority(const PairCount& a, const PairCount& b) {
    return a.count != b.count ? a.count < b.count : a.key > b.key;
  }

  void add_to_pair(int32_t left, int32_t right, int64_t delta) {
    const uint64_t key = pair_key(left, right);
    pair_counts_[key] += delta;
    changed_pairs_.push_back(key);
  }

  // Replaces every occurrence of merge (left to right, as encoding does) by new_id in the words that hold it, and
  // moves the pair counts by exactly the pairs each replacement destroys and creates.
  void apply(const Merge& merge, int32_t new_id) {
    std::vector<int32_t> affected = std::move(words_with_pair_[pair_key(merge.left, merge.right)]);
    words_with_pair_.erase(pair_key(merge.left, merge.right));
    std::sort(affected.begin(), affected.end());
    affected.erase(std::unique(affected.begin(), affected.end()), affected.end());
    changed_pairs_.clear();

    for (int32_t word : affected) {
      std::vector<int32_t>& symbols = words_[static_cast<size_t>(word)];
      const int64_t count = word_counts_[static_cast<size_t>(word)];
      size_t kept = 0;  // symbols[0, kept) is the merged prefix; the read position is always ahead of it
      for (size_t index = 0; index < symbols.size();) {
        const bool match =
            index + 1 < symbols.size() && symbols[index] == merge.left && symbols[index + 1] == merge.right;
        if (!match) {
          symbols[kept++] = symbols[index++];
          continue;
        }
        // The left neighbour is the already merged output, so a pair created by the previous replacement in
        // this word ((new, left) in "a b a b") is destroyed again here and the counts stay exact.
        add_to_pair(merge.left, merge.right, -count);
        if (kept > 0) {
          add_to_pair(symbols[kept - 1], merge.left, -count);
          add_to_pair(symbols[kept - 1], new_id, count);
          words_with_pair_[pair_key(symbols[kept - 1], new_id)].push_back(word);
        }
        if (index + 2 < symbols.size()) {
          add_to_pair(merge.right, symbols[index + 2], -count);
          add_to_pair(new_id, symbols[index + 2], count);
          words_with_pair_[pair_key(new_id, symbols[index + 2])].push_back(word);
        }
        symbols[kept++] = new_id;
        index += 2;
      }
      symbols.resize(kept);
    }

    std::sort(changed_pairs_.begin(), changed_pairs_.end());
    changed_pairs_.erase(std::unique(changed_pairs_.begin(), changed_pairs_.end()), changed_pairs_.end());
    for (uint64_t key : changed_pairs_) {
      auto found = pair_counts_.find(key);
      if (found->second > 0) {
        heap_.push_back({found->second, key});
        std::push_heap(heap_.begin(), heap_.end(), lower_priority);
      } else {
        pair_counts_.erase(found);
      }
    }
  }

  std::vector<std::vector<int32_t>> words_;  // unique chunk → its current token ids
  std::vector<int64_t> word_counts_;         // unique chunk → occurrences in the text
  std::unordered_map<uint64_t, int64_t> pair_counts_;                 // occurrences over the whole text
  std::unordered_map<uint64_t, std::vector<int32_t>> words_with_pair_;  // may list a word that lost the pair
  std::vector<PairCount> heap_;  // max-heap by count, then smallest pair; stale entries skipped when popped
  std::vector<uint64_t> changed_pairs_;
};

int special_count(bool has_eos) { return has_eos ? 2 : 1; }

}  // namespace

std::unique_ptr<Tokenizer> fit_bpe_tokenizer(std::string_view text, const BpeTokenizerOptions& options) {
  const int smallest = kByteCount + special_count(options.add_eos);
  check(options.vocab_size >= smallest && options.vocab_size <= kMaxVocabSize, "bpe tokenizer: vocab_size ",
        options.vocab_size, " is outside [", smallest, ", ", kMaxVocabSize, "] (256 bytes + <unk>",
        options.add_eos ? " + <eos>" : "", " + merges)");
  check(options.min_pair_count >= 1, "bpe tokenizer: min_pair_count must be ≥ 1, got ", options.min_pair_count);

  const int merge_target = options.vocab_size - smallest;
  std::vector<Merge> merges;
  merges.reserve(static_cast<size_t>(merge_target));
  if (merge_target > 0) {
    MergeLearner learner(text);
    while (static_cast<int>(merges.size()) < merge_target && learner.learn(options.min_pair_count, merges)) {
    }
  }
  return std::make_unique<BpeTokenizer>(std::move(merges), options.add_eos);
}

std::unique_ptr<Tokenizer> bpe_tokenizer_from_json(const nlohmann::json& json) {
  const std::string kind = "bpe";
  check_tokenizer_json_fields(json, kind, {"kind", "version", "merges", "eos"});
  const bool has_eos = tokenizer_json_bool(json, kind, "eos");
  const nlohmann::json& list = json.at("merges");
  check(list.is_array(), "bpe tokenizer JSON: field 'merges' must be an array, got ", list.type_name());
  const size_t max_merges = static_cast<size_t>(kMaxVocabSize - kByteCount - special_count(has_eos));
  check(list.size() <= max_merges, "bpe tokenizer JSON: field 'merges' has ", list.size(),
        " entries; at most ", max_merges, " fit the vocabulary limit of ", kMaxVocabSize);

  std::vector<Merge> merges;
  merges.reserve(list.size());
  std::unordered_map<uint64_t, size_t> rank_of_pair;
  for (size_t rank = 0; rank < list.size(); ++rank) {
    const nlohmann::json& entry = list[rank];
    const bool is_pair = entry.is_array() && entry.size() == 2 && entry[0].is_number_integer() &&
                         entry[1].is_number_integer();
    if (!is_pair) {
      fail("bpe tokenizer JSON: field 'merges'[", rank, "] must be a pair of token ids [left, right], got ",
           json_for_message(entry));
    }
    const int64_t existing = kByteCount + static_cast<int64_t>(rank);  // ids defined before this merge
    for (const nlohmann::json& id : entry) {
      const int64_t value = id.get<int64_t>();
      if (value < 0 || value >= existing) {
        fail("bpe tokenizer JSON: field 'merges'[", rank, "] ", json_for_message(entry), " refers to id ", value,
             ", but only ids 0..", existing - 1, " exist before it (256 bytes + ", rank, " earlier merges)");
      }
    }
    const Merge merge{entry[0].get<int32_t>(), entry[1].get<int32_t>()};
    auto [where, inserted] = rank_of_pair.emplace(pair_key(merge.left, merge.right), rank);
    if (!inserted) {
      fail("bpe tokenizer JSON: field 'merges'[", rank, "] ", json_for_message(entry), " repeats 'merges'[",
           where->second, "]");
    }
    merges.push_back(merge);
  }
  return std::make_unique<BpeTokenizer>(std::move(merges), has_eos);
}

}  // namespace tinylm
