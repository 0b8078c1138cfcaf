#include "tensor.hpp"

#include <algorithm>

#include "memory_limits.hpp"

namespace tinylm {

std::string shape_string(const Shape& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

size_t ParameterTable::add(const std::string& name, Shape shape, bool decay) {
  check(try_find(name) == nullptr, "parameter '", name, "' declared twice");
  // In 64 bits that saturate: a config's dimensions may multiply past 2^32 (wasm's size_t) or even 2^64, and a
  // wrapped total would size a block far smaller than the offsets into it.
  uint64_t count = 1;
  for (int64_t dim : shape) count = saturating_product(count, dim);
  const uint64_t total = saturating_add(size_, count);
  check_memory(saturating_mul(total, 2 * sizeof(float)), memory_cap(), LimitKind::ModelTooLarge,
               "the model's " + (total == kSaturated ? std::string("parameters") : std::to_string(total) +
               " parameters") + " (weights and gradients, at tensor '" + name + "' " + shape_string(shape) + ")",
               "use fewer layers or smaller widths");
  const size_t offset = size_;
  size_ = static_cast<size_t>(total);
  tensors_.push_back({name, std::move(shape), offset, decay});
  return offset;
}

const TensorSpec* ParameterTable::try_find(const std::string& name) const {
  auto it = std::find_if(tensors_.begin(), tensors_.end(), [&](const TensorSpec& t) { return t.name == name; });
  return it == tensors_.end() ? nullptr : &*it;
}

const TensorSpec& ParameterTable::find(const std::string& name) const {
  const TensorSpec* spec = try_find(name);
  check(spec != nullptr, "no parameter named '", name, "'");
  return *spec;
}

}  // namespace tinylm
