// NgramModel — the count-based baseline every neural model is compared with: an order-N token model with
// interpolated modified Kneser-Ney smoothing (Chen & Goodman 1998, "An Empirical Study of Smoothing Techniques
// for Language Modeling", interpolated variant).
//
//   p_k(w | h) = max(c(h w) − D_k(c(h w)), 0) / c(h) + γ_k(h) · p_{k−1}(w | h')   h' = h minus its oldest token
//   γ_k(h)     = (D_k1 · N1(h•) + D_k2 · N2(h•) + D_k3+ · N3+(h•)) / c(h)                 c(h) = Σ_w c(h w)
//   p_0(w)     = 1 / V                                                                  every token keeps mass
//
// c is the raw count at the top order and the continuation count N1+(• h w) (distinct left neighbours) below it.
// Discounts D_k1, D_k2, D_k3+ come from each order's count-of-counts (see ngram.cpp). A context never seen (or
// seen with no continuation) passes all its mass to the next lower order, and the first tokens of a stream, whose
// history is shorter than N − 1, use the order their history allows.
//
// step(token) returns log p as the "logits" (softmax(log p) = p); the state is the last N − 1 tokens, held as the
// n-gram table nodes of each suffix, so a step costs N − 1 hash look-ups plus O(V + successors).
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "io/safetensors.hpp"
#include "tinylm/model.hpp"

namespace tinylm {

class NgramModel : public LanguageModel {
 public:
  static constexpr int kMaxOrder = 8;

  // Counts every n-gram (n = 1..order) of the token stream; ids must lie in [0, vocab_size).
  static std::unique_ptr<NgramModel> fit(const std::vector<int32_t>& tokens, int vocab_size, int order);
  // Rebuilds a model from config_json() and the tensors_to_save() of a saved one, validating config, tensor
  // names, dtypes, shapes and contents (ids in range, integer counts, sorted unique n-grams, prefixes present,
  // continuation counts consistent); throws Error naming the problem.
  static std::unique_ptr<NgramModel> from_file(const nlohmann::json& config, const SafetensorsFile& file);

  std::string arch() const override { return "ngram"; }
  int vocab_size() const override { return vocab_size_; }
  int order() const { return order_; }
  nlohmann::json config_json() const override;

  void reset_state() override;
  const float* step(int32_t token) override;
  void save_state(GenerationState* state) const override;  // ints: the context's node per order
  void load_state(const GenerationState& state) override;
  EvalStats evaluate(const std::vector<int32_t>& tokens) override;
  std::vector<TensorToWrite> tensors_to_save() const override;

  // Next-token probabilities (V) after the tokens fed since reset_state(); step()'s logits are their logs.
  const std::vector<double>& probabilities() const { return probabilities_; }
  // D1, D2, D3+ of one order (1..order()).
  std::array<double, 3> discounts(int order) const;
  // Distinct n-grams of one order (1..order()).
  size_t ngram_count(int order) const;

 private:
  // All distinct k-grams of one order k, sorted lexicographically; "node" = index into these arrays. Sorting
  // makes the successors of each (k−1)-gram context one contiguous run of order k.
  struct OrderTable {
    std::vector<int32_t> parent;  // (M) node of the (k−1)-gram prefix in order k−1 (the single root for k = 1)
    std::vector<int32_t> token;   // (M) last token of the k-gram
    std::vector<uint32_t> count;  // (M) raw count at the top order, continuation count below
    std::unordered_map<uint64_t, int32_t> node_of;  // ngram_key(parent, token) → node
    std::array<double, 3> discount{};               // D1, D2, D3+ for this order's counts
    std::vector<double> discounted_probability;     // (M) max(count − D, 0) / c(parent)

    // This order's nodes as contexts of order k + 1 (the top order predicts nothing).
    std::vector<int32_t> first_child;  // (M + 1) successors of node n: nodes [first_child[n], first_child[n+1])
    std::vector<double> backoff;       // (M) γ_{k+1}(node); 1 when the node has no counted successor

    std::vector<float> saved_tokens;  // (M, k) the k-grams' token ids, as written to the model file
    std::vector<float> saved_counts;  // (M)
  };

  NgramModel(int vocab_size, int order);
  static uint64_t ngram_key(int32_t parent, int32_t token);
  void index_order(int k);  // node_of for order k
  void finish_tables();     // discounts, probabilities, successor runs, saved tensors, unigram distribution
  void advance(int32_t token);
  void compute_probabilities();

  int vocab_size_;
  int order_;
  std::vector<OrderTable> tables_;          // [0] is the root (the empty context, one node), [k] order k
  std::vector<double> unigram_;             // (V) p_1(w) including the uniform floor: the same for every history
  std::vector<int32_t> context_node_;       // (order) node of the last k tokens in order k, −1 if unseen/too short
  std::vector<int32_t> next_context_node_;  // (order) scratch for advance()
  std::vector<double> level_weight_;        // (order + 1) product of the backoffs above each order this step
  std::vector<double> probabilities_;       // (V)
  std::vector<float> logits_;               // (V) log probabilities_
};

}  // namespace tinylm
