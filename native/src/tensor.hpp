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
};

class ParameterTable {
 public:
  // Appends a tensor; returns its offset in the flat block.
  size_t add(const std::string& name, Shape shape, bool decay);
  const std::vector<TensorSpec>& tensors() const { return tensors_; }
  const TensorSpec& find(const std::string& name) const;  // throws Error naming the tensor if absent
  const TensorSpec* try_find(const std::string& name) const;
  size_t size() const { return size_; }  // total floats

 private:
  std::vector<TensorSpec> tensors_;
  size_t size_ = 0;
};

// A model's trainable state: values and gradients share the table's layout.
struct Parameters {
  ParameterTable table;
  std::vector<float> values;  // (table.size())
  std::vector<float> grads;   // (table.size())

  void allocate() {
    values.assign(table.size(), 0.0f);
    grads.assign(table.size(), 0.0f);
  }
  float* value(const std::string& name) { return values.data() + table.find(name).offset; }
  float* grad(const std::string& name) { return grads.data() + table.find(name).offset; }
  void zero_grad() { std::fill(grads.begin(), grads.end(), 0.0f); }
};

}  // namespace tinylm
