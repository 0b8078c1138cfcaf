// Interpolated modified Kneser-Ney n-gram model: fitting by counting and next-token probabilities (the formulas are
// in ngram.hpp; the model file is read and written in ngram_file.cpp).
//
// Discounts, per order k, from the count-of-counts n_c (n-grams of that order whose count is exactly c; the
// continuation counts below the top order), by Chen & Goodman's estimate:
//   Y = n1 / (n1 + 2 n2),   D_c = c − (c + 1) · Y · n_{c+1} / n_c   for c = 1, 2, 3 (D_3 serves every count ≥ 3).
// Small corpora make these undefined or absurd, so: Y = 1/2 when n1 = n2 = 0; D_c = c / 2 when n_c = 0; and every
// D_c is clamped to [kMinDiscount, c]. The upper bound keeps max(c − D_c, 0) = c − D_c so each context's
// probabilities sum to exactly 1; the lower bound keeps some mass for the lower orders and the uniform floor.
#include "models/ngram.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "models/model_common.hpp"
#include "tinylm/error.hpp"

namespace tinylm {

namespace {

constexpr double kMinDiscount = 0.05;

std::array<double, 3> estimate_discounts(const std::vector<uint32_t>& counts) {
  std::array<double, 5> count_of_counts{};  // [c] = n_c for c = 1..4
  for (uint32_t count : counts) {
    if (count >= 1 && count <= 4) count_of_counts[count] += 1;
  }
  const double n1 = count_of_counts[1], n2 = count_of_counts[2];
  const double y = (n1 + 2 * n2 > 0) ? n1 / (n1 + 2 * n2) : 0.5;
  std::array<double, 3> discounts{};
  for (int c = 1; c <= 3; ++c) {
    double discount = count_of_counts[c] > 0 ? c - (c + 1) * y * count_of_counts[c + 1] / count_of_counts[c] : c / 2.0;
    discounts[c - 1] = std::clamp(discount, kMinDiscount, static_cast<double>(c));
  }
  return discounts;
}

double discount_for(const std::array<double, 3>& discounts, uint32_t count) {
  return discounts[std::min<uint32_t>(count, 3) - 1];
}


}  // namespace

// ---- construction ---------------------------------------------------------------------------------------------

NgramModel::NgramModel(int vocab_size, int order)
    : vocab_size_(vocab_size),
      order_(order),
      tables_(static_cast<size_t>(order) + 1),
      unigram_(static_cast<size_t>(vocab_size)),
      context_node_(static_cast<size_t>(order)),
      next_context_node_(static_cast<size_t>(order)),
      level_weight_(static_cast<size_t>(order) + 1),
      probabilities_(static_cast<size_t>(vocab_size)),
      logits_(static_cast<size_t>(vocab_size)) {
  reset_state();
}

uint64_t NgramModel::ngram_key(int32_t parent, int32_t token) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(parent)) << 32) | static_cast<uint32_t>(token);
}

std::unique_ptr<NgramModel> NgramModel::fit(const std::vector<int32_t>& tokens, int vocab_size, int order) {
  check(order >= 1 && order <= kMaxOrder, "ngram: order must be between 1 and ", kMaxOrder, ", got ", order);
  check(vocab_size >= 1 && vocab_size <= kMaxVocab, "ngram: vocab_size must be between 1 and ", kMaxVocab, ", got ",
        vocab_size);
  check(tokens.size() < (1ull << 31), "ngram: ", tokens.size(), " tokens is more than 2^31 − 1");
  check_token_ids(tokens.data(), static_cast<int64_t>(tokens.size()), vocab_size, "input");

  // Pass 1: count, numbering each order's n-grams by first appearance. The k-gram ending at position i is
  // (node of the (k−1)-gram ending at i − 1, token i), so each position costs one hash look-up per order.
  struct FirstSeenOrder {
    std::unordered_map<uint64_t, int32_t> node_of;
    std::vector<int32_t> parent, token;
    std::vector<uint32_t> count;
  };
  std::vector<FirstSeenOrder> seen(static_cast<size_t>(order) + 1);
  for (int k = 1; k <= order; ++k) seen[k].node_of.reserve(std::min<size_t>(tokens.size(), 1u << 20));
  std::vector<int32_t> previous_nodes(static_cast<size_t>(order) + 1, 0), current_nodes = previous_nodes;
  for (size_t position = 0; position < tokens.size(); ++position) {
    const int32_t token = tokens[position];
    const int longest = static_cast<int>(std::min<size_t>(static_cast<size_t>(order), position + 1));
    for (int k = 1; k <= longest; ++k) {
      FirstSeenOrder& table = seen[k];
      const int32_t parent = previous_nodes[k - 1];
      auto [where, inserted] =
          table.node_of.try_emplace(ngram_key(parent, token), static_cast<int32_t>(table.token.size()));
      if (inserted) {
        table.parent.push_back(parent);
        table.token.push_back(token);
        table.count.push_back(0);
        // A new k-gram is one more distinct left neighbour of its (k−1)-token suffix, which ends here too.
        if (k >= 2) ++seen[k - 1].count[current_nodes[k - 1]];
      }
      current_nodes[k] = where->second;
      if (k == order) ++table.count[where->second];
    }
    std::swap(previous_nodes, current_nodes);
  }

  // Pass 2: renumber every order in lexicographic order, so each context's successors are contiguous.
  std::unique_ptr<NgramModel> model(new NgramModel(vocab_size, order));
  std::vector<int32_t> new_node_of_parent = {0};  // root
  for (int k = 1; k <= order; ++k) {
    FirstSeenOrder& first_seen = seen[k];
    const size_t size = first_seen.token.size();
    for (int32_t& parent : first_seen.parent) parent = new_node_of_parent[static_cast<size_t>(parent)];
    std::vector<int32_t> sorted(size);
    std::iota(sorted.begin(), sorted.end(), 0);
    std::sort(sorted.begin(), sorted.end(), [&](int32_t a, int32_t b) {
      return first_seen.parent[a] != first_seen.parent[b] ? first_seen.parent[a] < first_seen.parent[b]
                                                          : first_seen.token[a] < first_seen.token[b];
    });
    OrderTable& table = model->tables_[k];
    table.parent.resize(size);
    table.token.resize(size);
    table.count.resize(size);
    std::vector<int32_t> new_node(size);
    for (size_t rank = 0; rank < size; ++rank) {
      const int32_t old_node = sorted[rank];
      table.parent[rank] = first_seen.parent[old_node];
      table.token[rank] = first_seen.token[old_node];
      table.count[rank] = first_seen.count[old_node];
      new_node[static_cast<size_t>(old_node)] = static_cast<int32_t>(rank);
    }
    new_node_of_parent = std::move(new_node);
    first_seen = FirstSeenOrder();  // release the first-seen table before the next order is built
    model->index_order(k);
  }
  model->finish_tables();
  return model;
}

void NgramModel::index_order(int k) {
  OrderTable& table = tables_[k];
  table.node_of.clear();
  table.node_of.reserve(table.token.size());
  for (size_t node = 0; node < table.token.size(); ++node) {
    table.node_of.emplace(ngram_key(table.parent[node], table.token[node]), static_cast<int32_t>(node));
  }
}

void NgramModel::finish_tables() {
  tables_[0].saved_tokens.clear();
  for (int k = 1; k <= order_; ++k) {
    OrderTable& table = tables_[k];
    OrderTable& contexts = tables_[k - 1];
    const size_t size = table.token.size();
    const size_t context_count = k == 1 ? 1 : contexts.token.size();
    table.discount = estimate_discounts(table.count);

    // The successor runs, c(h) and the backoff γ(h) of every (k−1)-gram context.
    contexts.first_child.assign(context_count + 1, 0);
    for (int32_t parent : table.parent) ++contexts.first_child[static_cast<size_t>(parent) + 1];
    for (size_t context = 0; context < context_count; ++context) {
      contexts.first_child[context + 1] += contexts.first_child[context];
    }
    contexts.backoff.assign(context_count, 1.0);
    std::vector<double> total(context_count, 0.0);
    for (size_t context = 0; context < context_count; ++context) {
      double discounted_mass = 0;
      for (int32_t node = contexts.first_child[context]; node < contexts.first_child[context + 1]; ++node) {
        const uint32_t count = table.count[static_cast<size_t>(node)];
        total[context] += count;
        if (count > 0) discounted_mass += discount_for(table.discount, count);
      }
      if (total[context] > 0) contexts.backoff[context] = discounted_mass / total[context];
    }
    table.discounted_probability.assign(size, 0.0);
    for (size_t node = 0; node < size; ++node) {
      const uint32_t count = table.count[node];
      const double context_total = total[static_cast<size_t>(table.parent[node])];
      if (count > 0) table.discounted_probability[node] = (count - discount_for(table.discount, count)) / context_total;
    }

    // A k-gram's row is its prefix's row plus its last token.
    table.saved_tokens.resize(size * static_cast<size_t>(k));
    table.saved_counts.resize(size);
    for (size_t node = 0; node < size; ++node) {
      float* row = table.saved_tokens.data() + node * static_cast<size_t>(k);
      if (k > 1) {
        const float* prefix_row = contexts.saved_tokens.data() + static_cast<size_t>(table.parent[node]) * (k - 1);
        std::copy(prefix_row, prefix_row + (k - 1), row);
      }
      row[k - 1] = static_cast<float>(table.token[node]);
      table.saved_counts[node] = static_cast<float>(table.count[node]);
    }
  }

  // p_1 does not depend on the history, so it is computed once.
  std::fill(unigram_.begin(), unigram_.end(), tables_[0].backoff[0] / vocab_size_);
  for (size_t node = 0; node < tables_[1].token.size(); ++node) {
    unigram_[static_cast<size_t>(tables_[1].token[node])] += tables_[1].discounted_probability[node];
  }
}

// ---- generation and scoring ---------------------------------------------------------------------------------

nlohmann::json NgramModel::config_json() const {
  return {{"arch", "ngram"}, {"order", order_}, {"vocab_size", vocab_size_}};
}

std::array<double, 3> NgramModel::discounts(int order) const {
  check(order >= 1 && order <= order_, "ngram: order ", order, " is outside [1, ", order_, "]");
  return tables_[static_cast<size_t>(order)].discount;
}

size_t NgramModel::ngram_count(int order) const {
  check(order >= 1 && order <= order_, "ngram: order ", order, " is outside [1, ", order_, "]");
  return tables_[static_cast<size_t>(order)].token.size();
}

void NgramModel::reset_state() {
  std::fill(context_node_.begin(), context_node_.end(), -1);
  context_node_[0] = 0;  // the empty history is always known
  std::copy(unigram_.begin(), unigram_.end(), probabilities_.begin());
}

void NgramModel::advance(int32_t token) {
  // The last k tokens are the last k − 1 tokens followed by `token`; once a suffix is unseen, so are longer ones.
  next_context_node_[0] = 0;
  for (int k = 1; k < order_; ++k) {
    const int32_t parent = context_node_[static_cast<size_t>(k - 1)];
    int32_t node = -1;
    if (parent >= 0) {
      const auto& node_of = tables_[static_cast<size_t>(k)].node_of;
      auto found = node_of.find(ngram_key(parent, token));
      if (found != node_of.end()) node = found->second;
    }
    next_context_node_[static_cast<size_t>(k)] = node;
  }
  std::swap(context_node_, next_context_node_);
}

void NgramModel::compute_probabilities() {
  // Unrolling the interpolation: p_N = Σ_k (Π_{j>k} γ_j) · discounted_k + (Π_{j≥2} γ_j) · p_1.
  double weight = 1.0;
  for (int k = order_; k >= 2; --k) {
    level_weight_[static_cast<size_t>(k)] = weight;
    const int32_t context = context_node_[static_cast<size_t>(k - 1)];
    if (context >= 0) weight *= tables_[static_cast<size_t>(k - 1)].backoff[static_cast<size_t>(context)];
  }
  for (int w = 0; w < vocab_size_; ++w)
    probabilities_[static_cast<size_t>(w)] = weight * unigram_[static_cast<size_t>(w)];
  for (int k = order_; k >= 2; --k) {
    const int32_t context = context_node_[static_cast<size_t>(k - 1)];
    if (context < 0) continue;
    const OrderTable& contexts = tables_[static_cast<size_t>(k - 1)];
    const OrderTable& table = tables_[static_cast<size_t>(k)];
    const double level_weight = level_weight_[static_cast<size_t>(k)];
    for (int32_t node = contexts.first_child[static_cast<size_t>(context)];
         node < contexts.first_child[static_cast<size_t>(context) + 1]; ++node) {
      probabilities_[static_cast<size_t>(table.token[static_cast<size_t>(node)])] +=
          level_weight * table.discounted_probability[static_cast<size_t>(node)];
    }
  }
}

void NgramModel::save_state(GenerationState* state) const {
  state->ints.assign(context_node_.begin(), context_node_.end());
  state->floats.clear();
}

void NgramModel::load_state(const GenerationState& state) {
  check(state.floats.empty() && state.ints.size() == size_t(order_) && state.ints[0] == 0,
        "generation state: an order-", order_, " n-gram state holds ", order_, " context nodes, got ", state.ints.size(),
        " (the state is from another model)");
  for (int k = 1; k < order_; ++k) {
    const int32_t node = state.ints[size_t(k)];
    check(node >= -1 && node < int64_t(tables_[size_t(k)].token.size()), "generation state: context node ", node,
          " of order ", k, " is not in the model's table");
  }
  std::copy(state.ints.begin(), state.ints.end(), context_node_.begin());
}

const float* NgramModel::step(int32_t token) {
  if (token < 0 || token >= vocab_size_) {
    fail("ngram: token id ", token, " is outside the vocabulary [0, ", vocab_size_, ")");
  }
  advance(token);
  compute_probabilities();
  // In float, like the logits: the engine calls no double log, whose table would cost every page that loads the wasm
  // engine ~4 KB of download.
  for (int w = 0; w < vocab_size_; ++w) {
    logits_[static_cast<size_t>(w)] = std::log(static_cast<float>(probabilities_[static_cast<size_t>(w)]));
  }
  return logits_.data();
}

EvalStats NgramModel::evaluate(const std::vector<int32_t>& tokens) {
  check_token_ids(tokens.data(), static_cast<int64_t>(tokens.size()), vocab_size_, "input");
  EvalTally tally;
  reset_state();
  for (size_t position = 0; position + 1 < tokens.size(); ++position) {
    advance(tokens[position]);
    compute_probabilities();
    const int32_t target = tokens[position + 1];
    // log in float (step() says why): a relative error of ~1e-7 in each token's loss.
    const float probability = static_cast<float>(probabilities_[static_cast<size_t>(target)]);
    tally.add(-double(std::log(probability)), probabilities_.data(), vocab_size_, target);
  }
  reset_state();
  return tally.stats();
}

}  // namespace tinylm
