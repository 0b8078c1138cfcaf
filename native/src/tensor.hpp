// Parameters, gradients and optimizer moments as flat float blocks carved into named tensors.
//
// A model declares its tensors once, in a ParameterTable (name + shape, in PyTorch state_dict order). The table
// fixes each tensor's offset into one contiguous block; values, gradients and every optimizer moment are blocks of
// the same layout. Zero-grad, clipping, the optimizer and save/load are then single loops over flat spans.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "compact_matrices.hpp"
#include "tinylm/error.hpp"

namespace tinylm {

using Shape = std::vector<int64_t>;

inline int64_t shape_numel(const Shape& shape) {
  int64_t numel = 1;
  for (int64_t dim : shape) numel *= dim;
  return numel;
}

std::string shape_string(const Shape& shape);  // "[96, 256]"

struct TensorSpec {
  std::string name;  // PyTorch state_dict name, e.g. "rnn.weight_hh_l0"
  Shape shape;       // PyTorch layout, e.g. [4*H, H]
  size_t offset;     // first element in the flat block
  bool decay;        // AdamW weight decay applies (matrices yes; biases, norms, no)
  bool compact = false;  // held in Parameters::compact (offset = its slot there), not in the float block
  int64_t first_row = 0;  // a compact tensor stacked under another (add_stacked): its first row in their slot
};

class ParameterTable {
 public:
  // Appends a tensor; returns its offset in the flat block.
  size_t add(const std::string& name, Shape shape, bool decay);
  // Appends a 2-D tensor whose rows follow those of the tensor added just before it, so the two form one matrix
  // (Llama's q, k, v projections; gate and up): in the float block that is where add() puts it, and a compact
  // table stacks it into the same slot.
  size_t add_stacked(const std::string& name, Shape shape, bool decay);
  const std::vector<TensorSpec>& tensors() const { return tensors_; }
  const TensorSpec& find(const std::string& name) const;  // throws Error naming the tensor if absent
  const TensorSpec* try_find(const std::string& name) const;
  size_t size() const { return size_; }  // total floats
  // From now on every 2-D tensor is held compact (compact_matrices.hpp): a model that only generates and evaluates.
  void hold_matrices(CompactKind kind) { compact_kind_ = kind, holds_compact_ = true; }
  bool holds_compact() const { return holds_compact_; }
  CompactKind compact_kind() const { return compact_kind_; }
  uint64_t compact_bytes() const { return compact_bytes_; }
  uint64_t count() const;  // parameters, float and compact
  struct MatrixShape {
    int rows, cols;
  };
  const std::vector<MatrixShape>& compact_shapes() const { return compact_shapes_; }  // by slot

 private:
  std::vector<TensorSpec> tensors_;
  size_t size_ = 0;
  bool holds_compact_ = false;
  CompactKind compact_kind_ = CompactKind::F16;
  std::vector<MatrixShape> compact_shapes_;
  uint64_t compact_bytes_ = 0;
  size_t add_compact(const std::string& name, Shape shape, bool decay, bool stacked);
};

// A model's trainable state: values and gradients share the table's layout. Gradients are allocated by the first
// backward() or zero_grad() (ensure_grads), so a model that only generates holds its weights alone.
struct Parameters {
  ParameterTable table;
  std::vector<float> values;  // (table.size())
  std::vector<float> grads;   // (table.size()) once training starts, else empty
  CompactMatrices compact;    // the table's compact tensors, by slot

  // How allocate() leaves values: zeros, or empty with room for table.size() floats, for a loader that appends
  // every float tensor in the table's order (read_parameters), so the block is written once, not zeroed first.
  enum class Fill { Zeros, Appended };
  void allocate(Fill fill = Fill::Zeros);
  void ensure_grads() {
    if (grads.size() != values.size()) grads.assign(values.size(), 0.0f);
  }
  float* value(const std::string& name) { return values.data() + table.find(name).offset; }
  float* grad(const std::string& name) {
    ensure_grads();
    return grads.data() + table.find(name).offset;
  }
  void zero_grad() {
    ensure_grads();
    std::fill(grads.begin(), grads.end(), 0.0f);
  }
};

}  // namespace tinylm
