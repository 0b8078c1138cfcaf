// NgramModel's model file: reading it with every check a file can fail (orders, shapes, sorted rows, prefixes
// present, continuation counts that agree), and writing it.
//
// Model file tensors (all F32; token ids < 2^20 and counts ≤ 2^24 are integers a float holds exactly, and
// tensors_to_save() refuses larger counts rather than round them):
//   ngram.{k}.tokens  (M_k, k)  every distinct k-gram of the training stream, k = 1..N, rows in lexicographic order
//   ngram.{k}.counts  (M_k)     raw count for k = N; continuation count N1+(• w_1..w_k) for k < N (may be 0 for
//                               an n-gram seen only at the very start of the stream)
// Discounts and backoff weights are not stored: they follow from the counts and are recomputed on load, so a file
// cannot hold counts and weights that disagree.
#include <cmath>
#include <set>

#include "models/model_common.hpp"
#include "models/ngram.hpp"
#include "tinylm/error.hpp"

namespace tinylm {

namespace {

constexpr uint32_t kMaxExactCount = 1u << 24;  // the largest integer range float32 represents exactly

std::string tokens_tensor_name(int k) { return "ngram." + std::to_string(k) + ".tokens"; }
std::string counts_tensor_name(int k) { return "ngram." + std::to_string(k) + ".counts"; }

}  // namespace

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
