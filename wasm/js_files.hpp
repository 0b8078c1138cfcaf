// A Hugging Face checkpoint folder whose files JavaScript holds (io/hf_files.hpp): a plain object
// { "config.json": Uint8Array, "model.safetensors": Uint8Array, … } that the worker filled from a download, a
// dropped folder or the caller's bytes. Nothing is copied into the wasm heap until the loader reads it: a JSON file
// whole, a weight file's header when it is opened and then one tensor's bytes at a time, so the heap holds the
// model plus one tensor while it loads.
#pragma once
#include <emscripten/val.h>

#include <algorithm>
#include <string>
#include <vector>

#include "io/hf_files.hpp"
#include "tinylm/error.hpp"

namespace tinylm::wasm {

// bytes[begin, end) of a JS Uint8Array, copied into the heap in one call.
inline std::vector<uint8_t> copy_range(const emscripten::val& bytes, uint64_t begin, uint64_t end) {
  std::vector<uint8_t> out(size_t(end - begin));
  if (!out.empty()) {
    emscripten::val(emscripten::typed_memory_view(out.size(), out.data()))
        .call<void>("set", bytes.call<emscripten::val>("subarray", double(begin), double(end)));
  }
  return out;
}

class JsWeights final : public HfWeightReader {
 public:
  JsWeights(emscripten::val bytes, std::string path) : bytes_(std::move(bytes)), path_(std::move(path)) {
    const uint64_t size = bytes_["length"].as<double>();
    try {
      const std::vector<uint8_t> prefix = copy_range(bytes_, 0, std::min<uint64_t>(8, size));
      const uint64_t header_length = safetensors_header_length(prefix.data(), size);
      const std::vector<uint8_t> header_bytes = copy_range(bytes_, 0, 8 + header_length);
      header_ = parse_safetensors_header(header_bytes.data(), size);
      data_start_ = 8 + header_length;
    } catch (const Error& error) {
      throw Error("cannot load '" + path_ + "': " + error.what());
    }
  }
  const SafetensorsFile& header() const override { return header_; }
  std::vector<float> read_f32(const SafetensorsEntry& entry) override {
    // The entry's range was checked against the file's size with the header: read it as an in-memory file whose
    // data section is that range alone.
    SafetensorsFile tensor;
    tensor.data = copy_range(bytes_, data_start_ + entry.begin, data_start_ + entry.end);
    SafetensorsEntry local = entry;
    local.begin = 0;
    local.end = tensor.data.size();
    try {
      return tensor.read_f32(local);
    } catch (const Error& error) {
      throw Error("'" + path_ + "': " + error.what());
    }
  }

 private:
  emscripten::val bytes_;
  std::string path_;
  SafetensorsFile header_;
  uint64_t data_start_ = 0;
};

class JsFiles final : public HfFiles {
 public:
  JsFiles(emscripten::val files, std::string label) : HfFiles(std::move(label)), files_(std::move(files)) {}

  bool has(const std::string& name) const override {
    return files_.hasOwnProperty(name.c_str()) && files_[name].instanceof(emscripten::val::global("Uint8Array"));
  }
  std::vector<uint8_t> read(const std::string& name) const override {
    const emscripten::val bytes = files_[name];
    return copy_range(bytes, 0, uint64_t(bytes["length"].as<double>()));
  }
  std::unique_ptr<HfWeightReader> open_weights(const std::string& name) const override {
    check(has(name), "'", path(name), "' is missing");
    return std::make_unique<JsWeights>(files_[name], path(name));
  }

 private:
  emscripten::val files_;
};

}  // namespace tinylm::wasm
