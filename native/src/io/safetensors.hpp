// safetensors: 8-byte little-endian header length N, N bytes of JSON header, then raw tensor data.
//   header: { "<name>": {"dtype": "F32"|"F16"|"BF16"|"I8"|"U8"|"BOOL", "shape": [..], "data_offsets": [b, e]}, ...,
//             "__metadata__": { "<key>": "<string>", ... } }
// Offsets are relative to the start of the data section. parse_safetensors validates everything — header length,
// JSON, dtypes, shapes vs byte sizes, offsets in range, no overlaps, no gaps, no trailing bytes, no duplicate keys,
// __metadata__ strings only — before any tensor data is touched, and throws Error with a message naming the problem.
// Tensor data is little-endian; the implementation assumes (and checks) a little-endian host (x86, ARM, wasm).
// tests/parity/tinylm_safetensors.py is the PyTorch-side twin: same checks, byte-identical output.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "half.hpp"
#include "tensor.hpp"

namespace tinylm {

// U8 and BOOL are parsed (so a checkpoint's integer buffers, such as GPT-2's causal masks, do not stop the file from
// loading) but never read as weights.
enum class DType { F32, F16, I8, BF16, U8, BOOL };
const char* dtype_name(DType dtype);
size_t dtype_size(DType dtype);

// The header's "__metadata__" entry: the file's metadata (strings), never a tensor name.
inline constexpr const char* kSafetensorsMetadataKey = "__metadata__";
// Error on a big-endian host: the reader and the writer copy tensor bytes as they lie in memory.
void check_little_endian_host();

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
  // Copies a tensor out as float32 (F16 and BF16 converted; I8 rejected here — quantised tensors need their
  // scales — and so are U8 and BOOL).
  std::vector<float> read_f32(const SafetensorsEntry& entry) const;
  // Values [first, first + count) of the entry, in its row-major order, into out (count floats): a loader moves a
  // tensor into place a block of rows at a time, with no whole copy of it beside the model.
  void read_f32(const SafetensorsEntry& entry, uint64_t first, uint64_t count, float* out) const;
  // Copies an I8 tensor out as raw int8 values (Error for any other dtype).
  std::vector<int8_t> read_i8(const SafetensorsEntry& entry) const;
  // An I8 tensor's values where data holds them (shape_numel(entry.shape) bytes), after the same checks: read in
  // place rather than copied.
  const int8_t* i8_values(const SafetensorsEntry& entry) const;
};

SafetensorsFile parse_safetensors(const uint8_t* bytes, size_t size);
// The header alone, for readers that check it before reading the data: safetensors_header_length checks the length
// the first 8 bytes declare against the limit and file_size; parse_safetensors_header takes the first 8 + that many
// bytes and checks every tensor's range against the data section file_size implies (the result's data is empty).
uint64_t safetensors_header_length(const uint8_t* first_bytes, uint64_t file_size);
SafetensorsFile parse_safetensors_header(const uint8_t* bytes, uint64_t file_size);
// Bytes the tensors cover (the data section of a file parse_safetensors accepted).
uint64_t data_section_size(const SafetensorsFile& file);
// Reads a safetensors file header first: the 8-byte length, then the header, whose tensors are checked against the
// file's size (fstat) before a data byte is read or allocated for. A 2 GiB file with a bad header, or /dev/zero
// (not a regular file), is refused after reading at most the header. Error names the path and the problem.
SafetensorsFile read_safetensors_file(const std::string& path);

// Bytes read by range: a file on disk (open_file_source), or bytes a caller holds elsewhere (the wasm engine's
// JavaScript arrays), so a loader copies one tensor at a time into memory instead of the whole file.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size() const = 0;
  // Exactly `count` bytes from `offset` (within size()); Error naming label() otherwise.
  virtual void read(uint64_t offset, uint8_t* out, uint64_t count) = 0;
  virtual const std::string& label() const = 0;  // what messages call it: a path or a URL
};
// A regular file (Error naming the path if it is missing, unreadable or not a regular file). POSIX: not in wasm.
std::unique_ptr<ByteSource> open_file_source(const std::string& path);

// A safetensors file read tensor by tensor: the header is read and checked against the source's size when the
// reader opens, and each tensor's bytes are read only when asked for, so a loader holds one tensor at a time
// beside the model it fills. Error names the source and the tensor.
class SafetensorsFileReader {
 public:
  explicit SafetensorsFileReader(std::unique_ptr<ByteSource> source);
  explicit SafetensorsFileReader(const std::string& path) : SafetensorsFileReader(open_file_source(path)) {}
  const std::string& path() const { return source_->label(); }
  const SafetensorsFile& header() const { return header_; }  // every entry checked; data empty
  // The entry's values as float32 (F32, F16, BF16; as SafetensorsFile::read_f32).
  std::vector<float> read_f32(const SafetensorsEntry& entry);
  // Values [first, first + count) of the entry, in its row-major order, as float32 into out (count floats): a large
  // tensor read a block of rows at a time moves into place without a whole copy of it beside the model. F32 is read
  // straight into out; F16 and BF16 through a small buffer.
  void read_f32(const SafetensorsEntry& entry, uint64_t first, uint64_t count, float* out);

 private:
  std::unique_ptr<ByteSource> source_;
  uint64_t data_start_ = 0;  // offset of the data section
  SafetensorsFile header_;
};

struct TensorToWrite {
  std::string name;
  Shape shape;
  const float* values;  // shape_numel(shape) floats (F32, F16, BF16)
  DType dtype = DType::F32;  // F32, F16 or BF16 (values converted on write, round-to-nearest-even), or I8
  const int8_t* int8_values = nullptr;  // shape_numel(shape) bytes written as they are (I8, U8, BOOL; values unused)
};
// Tensors are laid out in the given order; the header is padded with spaces to an 8-byte boundary.
std::vector<uint8_t> serialize_safetensors(const std::vector<TensorToWrite>& tensors,
                                           const std::map<std::string, std::string>& metadata);

// File helpers. write_file_atomic writes `path.tmp-<pid>`, flushes and fsyncs, then renames over `path`: a crash
// leaves either the old file or the new one, never half of one. On failure it removes the temp file and throws Error
// naming the path and the errno text. Before writing it removes the `path.tmp-<pid>` files of processes that no
// longer exist (a writer killed mid-write). read_file_bytes throws Error naming the path if it is missing,
// unreadable, or not a regular file (a directory, a device).
std::vector<uint8_t> read_file_bytes(const std::string& path);
void write_file_atomic(const std::string& path, const std::vector<uint8_t>& bytes);
void remove_stale_temp_files(const std::string& path);


}  // namespace tinylm
