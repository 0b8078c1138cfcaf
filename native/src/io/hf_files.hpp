// The files of a Hugging Face checkpoint folder, by name (config.json, model.safetensors, shards, tokenizer.json, …):
// a directory on disk for the CLI, or files the caller holds in memory — the wasm engine gets them from JavaScript,
// which downloaded them or read them from a dropped folder. The loader (hf_checkpoint.cpp, hf_model.cpp) reads
// through this interface only, so both paths go through the same checks and give the same messages.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/safetensors.hpp"

namespace tinylm {

// A ByteSource that gathers strided pieces in one call: bytes [offset + i·stride, + piece) for i < pieces, packed
// into out. Worth it where each read crosses a boundary (wasm → JavaScript): a transposed tensor's block is one
// short piece per stored row.
class StridedByteSource {
 public:
  virtual ~StridedByteSource() = default;
  virtual void read_strided(uint64_t offset, uint64_t stride, uint64_t piece, uint64_t pieces, uint8_t* out) = 0;
};

// A weight file read tensor by tensor: its header checked against the file's size when opened, each tensor's bytes
// fetched only when read, so the loader holds one tensor (or one block of a tensor's rows) at a time beside the
// model it fills: a file on disk (open_file_source) or bytes JavaScript holds (wasm/js_files.hpp).
class HfWeightReader {
 public:
  explicit HfWeightReader(std::unique_ptr<ByteSource> source);
  const SafetensorsFile& header() const { return reader_.header(); }  // every entry checked; data empty
  // F32, F16, BF16 as float32: the whole tensor, or values [first, first + count) in its row-major order into out.
  std::vector<float> read_f32(const SafetensorsEntry& entry) { return reader_.read_f32(entry); }
  void read_f32(const SafetensorsEntry& entry, uint64_t first, uint64_t count, float* out) {
    reader_.read_f32(entry, first, count, out);
  }
  // Of a 2-D entry (R, C): columns [first, first + count) of every row, as float32 into out (R × count, row-major):
  // a band of a stored (in, out) matrix, which is a block of rows of its transpose.
  void read_f32_columns(const SafetensorsEntry& entry, uint64_t first, uint64_t count, float* out);

 private:
  ByteSource* source_;  // owned by reader_
  SafetensorsFileReader reader_;
  uint64_t data_start_ = 0;  // where the data section starts in the source
  std::vector<uint16_t> bits_;  // F16/BF16 values on their way to float32
};

class HfFiles {
 public:
  virtual ~HfFiles() = default;
  virtual bool has(const std::string& name) const = 0;
  virtual std::vector<uint8_t> read(const std::string& name) const = 0;  // a whole (JSON) file
  virtual std::unique_ptr<HfWeightReader> open_weights(const std::string& name) const = 0;
  // What messages call the folder: its directory, or the label the caller gave (a URL, "hf:owner/name").
  const std::string& label() const { return label_; }
  std::string path(const std::string& name) const {
    return label_.empty() || label_.back() == '/' ? label_ + name : label_ + "/" + name;
  }

 protected:
  explicit HfFiles(std::string label) : label_(std::move(label)) {}

 private:
  std::string label_;
};

// The regular files of directory `dir` (weights through SafetensorsFileReader).
std::shared_ptr<const HfFiles> directory_files(const std::string& dir);

}  // namespace tinylm
