// A Hugging Face checkpoint folder whose files JavaScript holds (io/hf_files.hpp): a plain object
// { "config.json": Uint8Array, "model.safetensors": Uint8Array, … } that the worker filled from a download, a
// dropped folder or the caller's bytes. Nothing is copied into the wasm heap until the loader reads it: a JSON file
// whole, a weight file's header when it is opened and then one tensor, or one block of its rows, at a time, so the
// heap holds the model plus that block while it loads.
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

// A weight file's bytes as a ByteSource: each read copies just the asked-for range into the heap, straight into
// the loader's buffer (a float tensor's rows land where they are converted or stored, with no staging copy).
class JsWeightBytes final : public ByteSource {
 public:
  JsWeightBytes(emscripten::val bytes, std::string path)
      : bytes_(std::move(bytes)), path_(std::move(path)), size_(uint64_t(bytes_["length"].as<double>())) {}
  uint64_t size() const override { return size_; }
  void read(uint64_t offset, uint8_t* out, uint64_t count) override {
    check(offset <= size_ && count <= size_ - offset, "'", path_, "': bytes [", offset, ", ", offset + count,
          ") are past its end (", size_, " bytes)");
    if (count == 0) return;
    // The view is made and filled in one call: nothing allocates between, so the heap cannot grow under it.
    emscripten::val(emscripten::typed_memory_view(size_t(count), out))
        .call<void>("set", bytes_.call<emscripten::val>("subarray", double(offset), double(offset + count)));
  }
  const std::string& label() const override { return path_; }

 private:
  emscripten::val bytes_;
  std::string path_;
  uint64_t size_;
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
    return std::make_unique<HfWeightReader>(std::make_unique<JsWeightBytes>(files_[name], path(name)));
  }

 private:
  emscripten::val files_;
};

}  // namespace tinylm::wasm
