// Reading safetensors tensors: a whole file in memory (parse_safetensors), or one tensor at a time from a ByteSource
// (SafetensorsFileReader), each only after its header passed safetensors_header.cpp's checks.
//
// Contract (see safetensors.hpp): a tensor is copied out as float32 (F16 and BF16 converted) or, for I8, as raw
// int8 values, never converted here (its per-row scales live in a companion tensor: see model_file.cpp); every
// failure is a tinylm::Error naming the tensor, and the source when reading by range.
#include "io/safetensors.hpp"

#include <algorithm>
#include <cstring>
#include <memory>

namespace tinylm {

SafetensorsFile parse_safetensors(const uint8_t* bytes, size_t size) {
  SafetensorsFile file = parse_safetensors_header(bytes, size);
  file.data.assign(bytes + (size - data_section_size(file)), bytes + size);
  return file;
}

uint64_t data_section_size(const SafetensorsFile& file) {
  return file.tensors.empty() ? 0 : file.tensors.back().end;
}

const SafetensorsEntry* SafetensorsFile::find(const std::string& name) const {
  for (const SafetensorsEntry& entry : tensors) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

std::vector<float> SafetensorsFile::read_f32(const SafetensorsEntry& entry) const {
  std::vector<float> values(static_cast<size_t>(shape_numel(entry.shape)));
  read_f32(entry, 0, values.size(), values.data());
  return values;
}

void SafetensorsFile::read_f32(const SafetensorsEntry& entry, uint64_t first, uint64_t count, float* out) const {
  check(entry.dtype != DType::I8, "tensor '", entry.name,
        "' is I8 (quantised): it needs its per-row scales, so read_f32 cannot convert it");
  check(entry.dtype != DType::U8 && entry.dtype != DType::BOOL, "tensor '", entry.name, "' is ",
        dtype_name(entry.dtype), ": integer and boolean tensors are not weights tinylm reads");
  const uint64_t numel = uint64_t(shape_numel(entry.shape));
  const size_t width = dtype_size(entry.dtype);
  // Entries from parse_safetensors always pass this; a hand-made entry or range must not read out of bounds.
  const bool in_bounds = entry.begin <= entry.end && entry.end <= data.size() &&
                         entry.end - entry.begin == numel * width;
  check(in_bounds, "tensor '", entry.name, "': bytes [", entry.begin, ", ", entry.end, ") do not hold shape ",
        shape_string(entry.shape), " of ", dtype_name(entry.dtype), " within ", data.size(), " data bytes");
  check(first <= numel && count <= numel - first, "tensor '", entry.name, "': values [", first, ", ", first + count,
        ") are not in its shape ", shape_string(entry.shape));
  const uint8_t* source = data.data() + entry.begin + first * width;
  if (entry.dtype == DType::F32) {
    if (count) std::memcpy(out, source, count * sizeof(float));
  } else {
    const bool bfloat = entry.dtype == DType::BF16;
    for (size_t i = 0; i < count; ++i) {
      uint16_t bits;
      std::memcpy(&bits, source + 2 * i, sizeof bits);
      out[i] = bfloat ? bfloat16_to_float(bits) : half_to_float(bits);
    }
  }
}

std::vector<int8_t> SafetensorsFile::read_i8(const SafetensorsEntry& entry) const {
  const int8_t* values = i8_values(entry);
  return std::vector<int8_t>(values, values + (entry.end - entry.begin));
}

const int8_t* SafetensorsFile::i8_values(const SafetensorsEntry& entry) const {
  check(entry.dtype == DType::I8, "tensor '", entry.name, "' is ", dtype_name(entry.dtype), ", not I8");
  const size_t count = static_cast<size_t>(shape_numel(entry.shape));
  const bool in_bounds = entry.begin <= entry.end && entry.end <= data.size() && entry.end - entry.begin == count;
  check(in_bounds, "tensor '", entry.name, "': bytes [", entry.begin, ", ", entry.end, ") do not hold shape ",
        shape_string(entry.shape), " of I8 within ", data.size(), " data bytes");
  return reinterpret_cast<const int8_t*>(data.data() + entry.begin);
}

// ---- reading by range ---------------------------------------------------------------------------------------

SafetensorsFileReader::SafetensorsFileReader(std::unique_ptr<ByteSource> source) : source_(std::move(source)) {
  const uint64_t size = source_->size();
  std::vector<uint8_t> prefix(8);
  try {
    if (size >= 8) source_->read(0, prefix.data(), 8);
    const uint64_t header_length = safetensors_header_length(prefix.data(), size);
    prefix.resize(8 + static_cast<size_t>(header_length));
    source_->read(8, prefix.data() + 8, header_length);
    header_ = parse_safetensors_header(prefix.data(), size);
  } catch (const Error& error) {
    const std::string message = error.what();
    const std::string& label = source_->label();
    throw Error(message.find(label) == std::string::npos ? "cannot load '" + label + "': " + message : message);
  }
  data_start_ = prefix.size();
}

std::vector<float> SafetensorsFileReader::read_f32(const SafetensorsEntry& entry) {
  std::vector<float> values(static_cast<size_t>(shape_numel(entry.shape)));
  read_f32(entry, 0, values.size(), values.data());
  return values;
}

void SafetensorsFileReader::read_f32(const SafetensorsEntry& entry, uint64_t first, uint64_t count, float* out) {
  const std::string& label = source_->label();
  check(entry.dtype == DType::F32 || entry.dtype == DType::F16 || entry.dtype == DType::BF16, "'", label,
        "': tensor '", entry.name, "' is ", dtype_name(entry.dtype), ", not a float tensor read_f32 converts");
  const uint64_t numel = uint64_t(shape_numel(entry.shape));
  const uint64_t width = dtype_size(entry.dtype);
  // The header's checks already tied the entry's range to its shape and the source's size; a hand-made entry or
  // range must not read past either.
  const bool in_range = first <= numel && count <= numel - first;
  check(in_range && entry.begin <= entry.end && entry.end - entry.begin == numel * width, "'", label, "': values [",
        first, ", ", first + count, ") are not in tensor '", entry.name, "' ", shape_string(entry.shape));
  const uint64_t start = data_start_ + entry.begin + first * width;
  if (entry.dtype == DType::F32) {
    if (count) source_->read(start, reinterpret_cast<uint8_t*>(out), count * sizeof(float));
    return;
  }
  const bool bfloat = entry.dtype == DType::BF16;
  constexpr uint64_t kChunk = 1 << 15;  // 64 KB of 16-bit values at a time
  std::vector<uint16_t> bits(static_cast<size_t>(std::min(count, kChunk)));
  for (uint64_t done = 0; done < count;) {
    const uint64_t n = std::min(count - done, kChunk);
    source_->read(start + done * 2, reinterpret_cast<uint8_t*>(bits.data()), n * 2);
    for (uint64_t i = 0; i < n; ++i) out[done + i] = bfloat ? bfloat16_to_float(bits[i]) : half_to_float(bits[i]);
    done += n;
  }
}

}  // namespace tinylm
