// safetensors: 8-byte little-endian header length N, N bytes of JSON header, then raw tensor data.
//   header: { "<name>": {"dtype": "F32"|"F16"|"I8", "shape": [..], "data_offsets": [begin, end]}, ...,
//             "__metadata__": { "<key>": "<string>", ... } }
// Offsets are relative to the start of the data section. parse_safetensors validates everything — header length,
// JSON, dtypes, shapes vs byte sizes, offsets in range, no overlaps, no gaps, no trailing bytes, no duplicate keys,
// __metadata__ strings only — before any tensor data is touched, and throws Error with a message naming the problem.
// Tensor data is little-endian; the implementation assumes (and checks) a little-endian host (x86, ARM, wasm).
// tests/parity/tinylm_safetensors.py is the PyTorch-side twin: same checks, byte-identical output.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "half.hpp"
#include "tensor.hpp"

namespace tinylm {

enum class DType { F32, F16, I8 };
const char* dtype_name(DType dtype);
size_t dtype_size(DType dtype);

struct SafetensorsEntry {
  std::string name;
  DType dtype;
  Shape shape;
  size_t begin;  // byte offset into SafetensorsFile::data
  size_t end;
};

struct SafetensorsFile {
  std::map<std::string, std::string> metadata;
  std::vector<SafetensorsEntry> tensors;  // in offset order
  std::vector<uint8_t> data;              // the data section

  const SafetensorsEntry* find(const std::string& name) const;
  // Copies a tensor out as float32 (F16 converted; I8 rejected here — quantised tensors need their scales).
  std::vector<float> read_f32(const SafetensorsEntry& entry) const;
  // Copies an I8 tensor out as raw int8 values (Error for any other dtype).
  std::vector<int8_t> read_i8(const SafetensorsEntry& entry) const;
};

SafetensorsFile parse_safetensors(const uint8_t* bytes, size_t size);

struct TensorToWrite {
  std::string name;
  Shape shape;
  const float* values;  // shape_numel(shape) floats (F32, F16)
  DType dtype = DType::F32;  // F32 or F16 (values converted on write, round-to-nearest-even), or I8
  const int8_t* int8_values = nullptr;  // shape_numel(shape) bytes written as they are (I8 only; values unused)
};
// Tensors are laid out in the given order; the header is padded with spaces to an 8-byte boundary.
std::vector<uint8_t> serialize_safetensors(const std::vector<TensorToWrite>& tensors,
                                           const std::map<std::string, std::string>& metadata);

// File helpers. write_file_atomic writes `path.tmp-<pid>`, flushes and fsyncs, then renames over `path`: a crash
// leaves either the old file or the new one, never half of one. On failure it removes the temp file and throws Error
// naming the path and the errno text. read_file_bytes throws Error naming the path if it is missing or unreadable.
std::vector<uint8_t> read_file_bytes(const std::string& path);
void write_file_atomic(const std::string& path, const std::vector<uint8_t>& bytes);


}  // namespace tinylm
