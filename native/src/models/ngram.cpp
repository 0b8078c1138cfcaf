// Interpolated modified Kneser-Ney n-gram model: fitting by counting, the model-file layout, and next-token
// probabilities (the formulas are in ngram.hpp).
//
// Discounts, per order k, from the count-of-counts n_c (n-grams of that order whose count is exactly c; the
// continuation counts below the top order), by Chen & Goodman's estimate:
//   Y = n1 / (n1 + 2 n2),   D_c = c − (c + 1) · Y · n_{c+1} / n_c   for c = 1, 2, 3 (D_3 serves every count ≥ 3).
// Small corpora make these undefined or absurd, so: Y = 1/2 when n1 = n2 = 0; D_c = c / 2 when n_c = 0; and every
// D_c is clamped to [kMinDiscount, c]. The upper bound keeps max(c − D_c, 0) = c − D_c so each context's
// probabilities sum to exactly 1; the lower bound keeps some mass for the lower orders and the uniform floor.
//
// Model file tensors (all F32; token ids < 2^20 and counts ≤ 2^24 are integers a float holds exactly, and
// tensors_to_save() refuses larger counts rather than round them):
//   ngram.{k}.tokens  (M_k, k)  every distinct k-gram of the training stream, k = 1..N, rows in lexicographic order
//   ngram.{k}.counts  (M_k)     raw count for k = N; continuation count N1+(• w_1..w_k) for k < N (may be 0 for
//                               an n-gram seen only at the very start of the stream)
// Discounts and backoff weights are not stored: they follow from the counts and are recomputed on load, so a file
// cannot hold counts and weights that disagree.
#include "models/ngram.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "models/model_common.hpp"
#include "tinylm/error.hpp"

namespace tinylm {

namespace {

constexpr double kMinDiscount = 0.05;
constexpr uint32_t kMaxExactCount = 1u << 24;  // the largest integer range float32 represents exactly

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

std::string tokens_tensor_name(int k) { return "ngram." + std::to_string(k) + ".tokens"; }
std::string counts_tensor_name(int k) { return "ngram." + std::to_string(k) + ".counts"; }

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

// ---- loading --------------------------------------------------------------------------------------------------

std::unique_ptr<NgramModel> NgramModel::from_file(const nlohmann::json& config, const SafetensorsFile& file) {
  const std::string arch = json_string_field(config, "arch");
  check(arch == "ngram", "config: arch is \"", arch, "\", expected \"ngram\"");
  const int order = json_int_field(config, "order");
  check(order >= 1 && order <= kMaxOrder, "config: order must be between 1 and ", kMaxOrder, ", got ", order);
  const int vocab_size = json_int_field(config, "vocab_size");
  check_dimension("vocab_size", vocab_size, kMaxVocab);

  std::set<std::string> expected_names;
  for (int k = 1; k <= order; ++k) {
    expected_names.insert(tokens_tensor_name(k));
    expected_names.insert(counts_tensor_name(k));
  }
  for (const SafetensorsEntry& entry : file.tensors) {
    check(expected_names.count(entry.name) > 0, "ngram model file has tensor '", entry.name, "' that an order-", order,
          " model does not use (wrong order in the config?)");
  }

  std::unique_ptr<NgramModel> model(new NgramModel(vocab_size, order));
  for (int k = 1; k <= order; ++k) {
    const std::string tokens_name = tokens_tensor_name(k), counts_name = counts_tensor_name(k);
    const SafetensorsEntry* tokens_entry = file.find(tokens_name);
    const SafetensorsEntry* counts_entry = file.find(counts_name);
    check(tokens_entry != nullptr, "ngram model file is missing tensor '", tokens_name, "' (order ", order, ")");
    check(counts_entry != nullptr, "ngram model file is missing tensor '", counts_name, "' (order ", order, ")");
    check(tokens_entry->dtype == DType::F32, "tensor '", tokens_name, "' is ", dtype_name(tokens_entry->dtype),
          "; n-gram ids must be F32 to be exact");
    check(counts_entry->dtype == DType::F32, "tensor '", counts_name, "' is ", dtype_name(counts_entry->dtype),
          "; n-gram counts must be F32 to be exact");
    check(tokens_entry->shape.size() == 2 && tokens_entry->shape[1] == k, "tensor '", tokens_name, "' has shape ",
          shape_string(tokens_entry->shape), ", expected [M, ", k, "]");
    const int64_t size = tokens_entry->shape[0];
    check(size < (int64_t{1} << 31), "tensor '", tokens_name, "' holds ", size, " n-grams, more than 2^31 − 1");
    check(counts_entry->shape == Shape{size}, "tensor '", counts_name, "' has shape ",
          shape_string(counts_entry->shape), ", expected [", size, "] to match '", tokens_name, "'");
    const std::vector<float> rows = file.read_f32(*tokens_entry);
    const std::vector<float> counts = file.read_f32(*counts_entry);

    OrderTable& table = model->tables_[k];
    table.parent.resize(static_cast<size_t>(size));
    table.token.resize(static_cast<size_t>(size));
    table.count.resize(static_cast<size_t>(size));
    std::vector<int32_t> row_ids(static_cast<size_t>(k)), previous_row_ids;
    for (int64_t row = 0; row < size; ++row) {
      for (int j = 0; j < k; ++j) {
        const float value = rows[static_cast<size_t>(row * k + j)];
        if (!(value >= 0 && value < vocab_size && value == std::floor(value))) {
          fail("tensor '", tokens_name, "' row ", row, " holds ", value, ", not a token id in [0, ", vocab_size, ")");
        }
        row_ids[static_cast<size_t>(j)] = static_cast<int32_t>(value);
      }
      if (row > 0 && !(previous_row_ids < row_ids)) {
        fail("tensor '", tokens_name, "' row ", row, " is not after row ", row - 1,
             ": rows must be distinct and in lexicographic order");
      }
      const float count = counts[static_cast<size_t>(row)];
      const float min_count = k == order ? 1.0f : 0.0f;  // raw counts of seen n-grams are ≥ 1
      if (!(count >= min_count && count <= static_cast<float>(kMaxExactCount) && count == std::floor(count))) {
        fail("tensor '", counts_name, "' row ", row, " holds ", count, ", not an integer count in [", min_count,
             ", 2^24]");
      }
      int32_t parent = 0;  // walk the prefix down from the root through orders 1..k−1
      for (int j = 0; j + 1 < k; ++j) {
        auto found = model->tables_[j + 1].node_of.find(ngram_key(parent, row_ids[static_cast<size_t>(j)]));
        if (found == model->tables_[j + 1].node_of.end()) {
          fail("tensor '", tokens_name, "' row ", row, ": its ", k - 1, "-token prefix is not in '",
               tokens_tensor_name(k - 1), "'");
        }
        parent = found->second;
      }
      table.parent[static_cast<size_t>(row)] = parent;
      table.token[static_cast<size_t>(row)] = row_ids.back();
      table.count[static_cast<size_t>(row)] = static_cast<uint32_t>(count);
      previous_row_ids = row_ids;
    }
    model->index_order(k);
  }

  // Below the top order the counts are continuation counts, so they must equal the number of (k+1)-grams whose
  // last k tokens they are. The suffix of a k-gram is the successor of its parent's suffix by its last token.
  std::vector<int32_t> parent_suffix;  // suffix node of each order k−1 node (order k−2); unused for k = 1
  for (int k = 1; k <= order; ++k) {
    const OrderTable& table = model->tables_[k];
    std::vector<int32_t> suffix(table.token.size(), 0);
    std::vector<uint32_t> left_neighbours(k > 1 ? model->tables_[k - 1].token.size() : 0, 0);
    if (k > 1) {
      const OrderTable& suffixes = model->tables_[k - 1];
      for (size_t node = 0; node < table.token.size(); ++node) {
        const int32_t suffix_parent = k == 2 ? 0 : parent_suffix[static_cast<size_t>(table.parent[node])];
        auto found = suffixes.node_of.find(ngram_key(suffix_parent, table.token[node]));
        if (found == suffixes.node_of.end()) {
          fail("tensor '", tokens_tensor_name(k), "' row ", node, ": its last ", k - 1, " tokens are not in '",
               tokens_tensor_name(k - 1), "'");
        }
        suffix[node] = found->second;
        ++left_neighbours[static_cast<size_t>(found->second)];
      }
      for (size_t node = 0; node < left_neighbours.size(); ++node) {
        if (left_neighbours[node] != suffixes.count[node]) {
          fail("tensor '", counts_tensor_name(k - 1), "' row ", node, " holds ", suffixes.count[node], " but '",
               tokens_tensor_name(k), "' has ", left_neighbours[node],
               " distinct left neighbours for it (continuation counts disagree)");
        }
      }
    }
    parent_suffix = std::move(suffix);
  }

  model->finish_tables();
  return model;
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
  for (int w = 0; w < vocab_size_; ++w) {
    logits_[static_cast<size_t>(w)] = static_cast<float>(std::log(probabilities_[static_cast<size_t>(w)]));
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
    tally.add(-std::log(probabilities_[static_cast<size_t>(target)]), probabilities_.data(), vocab_size_, target);
  }
  reset_state();
  return tally.stats();
}

// ---- saving ---------------------------------------------------------------------------------------------------

std::vector<TensorToWrite> NgramModel::tensors_to_save() const {
  std::vector<TensorToWrite> tensors;
  for (int k = 1; k <= order_; ++k) {
    const OrderTable& table = tables_[static_cast<size_t>(k)];
    for (size_t node = 0; node < table.count.size(); ++node) {
      if (table.count[node] > kMaxExactCount) {
        fail("ngram: ", counts_tensor_name(k), " row ", node, " is ", table.count[node],
             ", above 2^24, which F32 cannot store exactly; fit on less text or a lower order");
      }
    }
    const int64_t size = static_cast<int64_t>(table.token.size());
    tensors.push_back({tokens_tensor_name(k), {size, k}, table.saved_tokens.data(), DType::F32});
    tensors.push_back({counts_tensor_name(k), {size}, table.saved_counts.data(), DType::F32});
  }
  return tensors;
}

}  // namespace tinylm
