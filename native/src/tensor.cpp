#include "tensor.hpp"

#include <algorithm>

namespace tinylm {

std::string shape_string(const Shape& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

size_t ParameterTable::add(const std::string& name, Shape shape, bool decay) {
  check(try_find(name) == nullptr, "parameter '", name, "' declared twice");
  size_t offset = size_;
  size_ += static_cast<size_t>(shape_numel(shape));
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
