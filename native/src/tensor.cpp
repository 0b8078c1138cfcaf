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
  if (holds_compact_ && shape.size() == 2) return add_compact(name, std::move(shape), decay, false);
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

size_t ParameterTable::add_stacked(const std::string& name, Shape shape, bool decay) {
  check(!tensors_.empty() && tensors_.back().shape.size() == 2 && shape.size() == 2 &&
            tensors_.back().shape[1] == shape[1],
        "parameter '", name, "' cannot stack under the tensor before it");
  if (holds_compact_) return add_compact(name, std::move(shape), decay, true);
  return add(name, std::move(shape), decay);
}

size_t ParameterTable::add_compact(const std::string& name, Shape shape, bool decay, bool stacked) {
  check(try_find(name) == nullptr, "parameter '", name, "' declared twice");
  const uint64_t rows = as_factor(shape[0]), cols = as_factor(shape[1]);
  const uint64_t old_rows = stacked ? uint64_t(compact_shapes_.back().rows) : 0;
  const uint64_t new_rows = saturating_add(old_rows, rows);
  // The slot's bytes after this tensor, less what it held before (half panels round rows up to whole panels).
  const uint64_t bytes =
      saturating_add(compact_bytes_ - (stacked ? CompactMatrices::bytes_for(compact_kind_, old_rows, cols) : 0),
                     CompactMatrices::bytes_for(compact_kind_, new_rows, cols));
  check_memory(saturating_add(bytes, saturating_mul(size_, 2 * sizeof(float))), memory_cap(),
               LimitKind::ModelTooLarge,
               std::string("the model's ") + compact_kind_name(compact_kind_) + " matrices (at tensor '" + name +
                   "' " + shape_string(shape) + ")",
               "use fewer layers or smaller widths");
  check(new_rows <= uint64_t(INT32_MAX) && cols <= uint64_t(INT32_MAX), "parameter '", name, "' ",
        shape_string(shape), " has more rows or columns than a matrix may");
  compact_bytes_ = bytes;
  if (stacked) {
    compact_shapes_.back().rows = int(new_rows);
  } else {
    compact_shapes_.push_back({int(rows), int(cols)});
  }
  TensorSpec spec{name, std::move(shape), compact_shapes_.size() - 1, decay, true, int64_t(old_rows)};
  tensors_.push_back(std::move(spec));
  return tensors_.back().offset;
}

uint64_t ParameterTable::count() const {
  uint64_t total = 0;
  for (const TensorSpec& spec : tensors_) total += uint64_t(shape_numel(spec.shape));
  return total;
}

void Parameters::allocate(Fill fill) {
  if (fill == Fill::Zeros) {
    values.assign(table.size(), 0.0f);
  } else {
    values.clear();
    values.reserve(table.size());
  }
  grads.clear();
  compact = CompactMatrices(table.compact_kind());
  for (const ParameterTable::MatrixShape& shape : table.compact_shapes()) compact.add(shape.rows, shape.cols);
  compact.allocate();
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
