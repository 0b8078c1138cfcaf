// A Hugging Face checkpoint folder whose files JavaScript holds (io/hf_files.hpp): a plain object
// { "config.json": file, "model.safetensors": file, … } whose files are either a Uint8Array, or a file object
// (web/lib/worker_files.ts), { size, read(offset, target), readStrided(offset, stride, piece, target) }, whose reads
// fill target (bytes [offset, + target.length); or the pieces [offset + i·stride, + piece) one after another) and
// answer '' or what went wrong: bytes the worker holds, or the caller's own bytes served range by range from the
// thread that holds them (web/lib/worker_ranged_files.ts), so the worker never holds a copy of those.
// Nothing is copied into the wasm heap until the loader reads it: a JSON file whole, a weight file's header when it
// is opened and then one tensor, or one block of its rows, at a time, so the heap holds the model plus that block
// while it loads.
#pragma once
#include <emscripten/val.h>

#include <algorithm>
#include <string>
#include <vector>

#include "io/hf_files.hpp"
#include "tinylm/error.hpp"

namespace tinylm::wasm {

inline bool is_ranged_file(const emscripten::val& file) {
  return file.typeOf().as<std::string>() == "object" && !file.isNull() &&
         file["read"].typeOf().as<std::string>() == "function";
}

// A file's bytes as a ByteSource: each read copies just the asked-for range into the heap, straight into the
// loader's buffer (a float tensor's rows land where they are converted or stored, with no staging copy). A ranged
// file gathers strided pieces in one call (readStrided), as a transposed tensor's block is one piece per row.
class JsWeightBytes final : public ByteSource, public StridedByteSource {
 public:
  JsWeightBytes(emscripten::val bytes, std::string path)
      : bytes_(std::move(bytes)), path_(std::move(path)), ranged_(is_ranged_file(bytes_)),
        size_(uint64_t(bytes_[ranged_ ? "size" : "length"].as<double>())) {}
  uint64_t size() const override { return size_; }
  void read(uint64_t offset, uint8_t* out, uint64_t count) override {
    check(offset <= size_ && count <= size_ - offset, "'", path_, "': bytes [", offset, ", ", offset + count,
          ") are past its end (", size_, " bytes)");
    if (count == 0) return;
    // The view is made and filled in one call: nothing allocates between, so the heap cannot grow under it.
    const emscripten::val target(emscripten::typed_memory_view(size_t(count), out));
    if (!ranged_) {
      target.call<void>("set", bytes_.call<emscripten::val>("subarray", double(offset), double(offset + count)));
      return;
    }
    const std::string problem = bytes_.call<std::string>("read", double(offset), target);
    check(problem.empty(), "'", path_, "': ", problem);
  }
  void read_strided(uint64_t offset, uint64_t stride, uint64_t piece, uint64_t pieces, uint8_t* out) override {
    if (pieces == 0 || piece == 0) return;
    const uint64_t last = offset + (pieces - 1) * stride;
    check(offset <= size_ && last <= size_ && piece <= size_ - last, "'", path_, "': bytes [", offset, ", ",
          last + piece, ") are past its end (", size_, " bytes)");
    if (!ranged_) {
      for (uint64_t i = 0; i < pieces; ++i) read(offset + i * stride, out + i * piece, piece);
      return;
    }
    const emscripten::val target(emscripten::typed_memory_view(size_t(piece * pieces), out));
    const std::string problem =
        bytes_.call<std::string>("readStrided", double(offset), double(stride), double(piece), target);
    check(problem.empty(), "'", path_, "': ", problem);
  }
  const std::string& label() const override { return path_; }

 private:
  emscripten::val bytes_;
  std::string path_;
  bool ranged_;
  uint64_t size_;
};

class JsFiles final : public HfFiles {
 public:
  JsFiles(emscripten::val files, std::string label) : HfFiles(std::move(label)), files_(std::move(files)) {}

  bool has(const std::string& name) const override {
    if (!files_.hasOwnProperty(name.c_str())) return false;
    const emscripten::val file = files_[name];
    return file.instanceof(emscripten::val::global("Uint8Array")) || is_ranged_file(file);
  }
  std::vector<uint8_t> read(const std::string& name) const override {
    check(has(name), "'", path(name), "' is missing");
    JsWeightBytes bytes(files_[name], path(name));
    std::vector<uint8_t> out(size_t(bytes.size()));
    bytes.read(0, out.data(), out.size());
    return out;
  }
  std::unique_ptr<HfWeightReader> open_weights(const std::string& name) const override {
    check(has(name), "'", path(name), "' is missing");
    return std::make_unique<HfWeightReader>(std::make_unique<JsWeightBytes>(files_[name], path(name)));
  }

 private:
  emscripten::val files_;
};

}  // namespace tinylm::wasm
