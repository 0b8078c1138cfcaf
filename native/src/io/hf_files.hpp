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

// A weight file read tensor by tensor: its header checked against the file's size when opened, each tensor's bytes
// fetched only when read, so the loader holds one tensor at a time beside the model it fills.
class HfWeightReader {
 public:
  virtual ~HfWeightReader() = default;
  virtual const SafetensorsFile& header() const = 0;  // every entry checked; data empty
  virtual std::vector<float> read_f32(const SafetensorsEntry& entry) = 0;  // F32, F16, BF16 as float32
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
