// Writing safetensors: what the reference implementation (huggingface/safetensors) writes — compact JSON, tensors
// contiguous in the given order, header padded with spaces to a multiple of 8 — so files read back anywhere, and
// tests/parity/tinylm_safetensors.py writes the same bytes.
#include "io/safetensors.hpp"

#include <cstring>
#include <limits>
#include <set>
#include <nlohmann/json.hpp>

namespace tinylm {

namespace {
using Json = nlohmann::json;
}  // namespace

std::vector<uint8_t> serialize_safetensors(const std::vector<TensorToWrite>& tensors,
                                           const std::map<std::string, std::string>& metadata) {
  check_little_endian_host();
  // The header is written as text, not built as a JSON object: objects sort their keys, and the tensors keep the
  // caller's order (a state_dict's). Names and metadata still go through the JSON encoder for escaping.
  std::string header_text = "{";
  auto append_json = [&header_text](const Json& value) {
    try {
      header_text += value.dump();
    } catch (const Json::exception& error) {
      fail("serialize_safetensors: cannot encode the header (", error.what(),
           ") — HINT: tensor names and metadata must be valid UTF-8");
    }
  };
  if (!metadata.empty()) {  // first, as the reference implementation writes it
    append_json(kSafetensorsMetadataKey);
    header_text += ':';
    append_json(metadata);
  }

  std::set<std::string> names;
  uint64_t data_size = 0;
  for (const TensorToWrite& tensor : tensors) {
    check(!tensor.name.empty(), "serialize_safetensors: a tensor has an empty name");
    check(tensor.name != kSafetensorsMetadataKey, "serialize_safetensors: '", kSafetensorsMetadataKey, "' is reserved, not a tensor name");
    check(names.insert(tensor.name).second, "serialize_safetensors: duplicate tensor name '", tensor.name, "'");
    const bool is_int8 = tensor.dtype == DType::I8 || tensor.dtype == DType::U8 || tensor.dtype == DType::BOOL;
    for (int64_t dim : tensor.shape) {
      check(dim >= 0, "serialize_safetensors: tensor '", tensor.name, "' has negative dimension ", dim, " in shape ",
            shape_string(tensor.shape));
    }
    const uint64_t bytes = static_cast<uint64_t>(shape_numel(tensor.shape)) * dtype_size(tensor.dtype);
    check(bytes == 0 || (is_int8 ? tensor.int8_values != nullptr : tensor.values != nullptr),
          "serialize_safetensors: tensor '", tensor.name, "' has no ", is_int8 ? "int8_values" : "values",
          " pointer");
    if (header_text.size() > 1) header_text += ',';
    append_json(tensor.name);
    header_text += ":{\"dtype\":\"" + std::string(dtype_name(tensor.dtype)) + "\",\"shape\":[";
    for (size_t i = 0; i < tensor.shape.size(); ++i) {
      header_text += (i ? "," : "") + std::to_string(tensor.shape[i]);
    }
    header_text += "],\"data_offsets\":[" + std::to_string(data_size) + "," + std::to_string(data_size + bytes) + "]}";
    data_size += bytes;
  }
  header_text += '}';

  header_text.append((8 - header_text.size() % 8) % 8, ' ');  // the spec pads the header to an 8-byte boundary
  check(data_size <= std::numeric_limits<size_t>::max() - 8 - header_text.size(),
        "serialize_safetensors: ", data_size, " bytes of tensor data do not fit in memory");

  std::vector<uint8_t> file(8 + header_text.size() + static_cast<size_t>(data_size));
  uint64_t header_length = header_text.size();
  for (int i = 0; i < 8; ++i) file[i] = static_cast<uint8_t>(header_length >> (8 * i));
  std::memcpy(file.data() + 8, header_text.data(), header_text.size());
  uint8_t* out = file.data() + 8 + header_text.size();
  for (const TensorToWrite& tensor : tensors) {
    const size_t count = static_cast<size_t>(shape_numel(tensor.shape));
    if (tensor.dtype == DType::F32) {
      if (count) std::memcpy(out, tensor.values, count * sizeof(float));
      out += count * sizeof(float);
    } else if (dtype_size(tensor.dtype) == 1) {  // I8, U8, BOOL: bytes as they are
      if (count) std::memcpy(out, tensor.int8_values, count);
      out += count;
    } else {
      const bool bfloat = tensor.dtype == DType::BF16;
      for (size_t i = 0; i < count; ++i, out += 2) {
        const uint16_t bits = bfloat ? float_to_bfloat16(tensor.values[i]) : float_to_half(tensor.values[i]);
        std::memcpy(out, &bits, sizeof bits);
      }
    }
  }
  return file;
}

}  // namespace tinylm
