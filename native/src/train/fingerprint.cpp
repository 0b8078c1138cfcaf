#include "train/fingerprint.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "kernels/kernels.hpp"
#include "tensor.hpp"
#include "tinylm/tokenizer.hpp"

namespace tinylm {

namespace {

// Eight bytes at a time (so hashing a 135M-parameter block costs a fraction of a second), each word mixed in by a
// multiply and a rotation; the tail byte by byte. Same value on every platform: words are read little-endian.
class Fingerprint {
 public:
  void add(const void* data, size_t size) {
    const auto* bytes = static_cast<const uint8_t*>(data);
    size_t i = 0;
    for (; i + 8 <= size; i += 8) {
      uint64_t word = 0;
      for (int b = 7; b >= 0; --b) word = (word << 8) | bytes[i + b];
      mix(word);
    }
    for (; i < size; ++i) mix(bytes[i] | 0x100u);
    mix(size);  // so that ("ab", "c") and ("a", "bc") differ
  }
  void add(const std::string& text) { add(text.data(), text.size()); }

  std::string hex() const {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(finish(state_)));
    return text;
  }

 private:
  void mix(uint64_t word) {
    state_ ^= word * 0x9e3779b97f4a7c15ull;
    state_ = ((state_ << 31) | (state_ >> 33)) * 0xbf58476d1ce4e5b9ull;
  }
  static uint64_t finish(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
  }
  uint64_t state_ = 0xcbf29ce484222325ull;
};

}  // namespace

std::string bytes_fingerprint(const void* data, size_t size) {
  Fingerprint fingerprint;
  fingerprint.add(data, size);
  return fingerprint.hex();
}

std::string weights_fingerprint(TrainableModel& model, const Tokenizer& tokenizer) {
  Fingerprint fingerprint;
  fingerprint.add(model.config_json().dump());
  fingerprint.add(tokenizer.to_json().dump());
  const Parameters& params = model.parameters();
  fingerprint.add(params.values.data(), params.values.size() * sizeof(float));
  for (size_t slot = 0; slot < params.compact.count(); ++slot) {
    const MatrixView view = params.compact.view(slot);
    const size_t rows = size_t(view.rows), cols = size_t(view.cols);
    if (view.f16_panels) {
      fingerprint.add(view.f16_panels, size_t(half_panels_size(view.rows, view.cols)) * sizeof(uint16_t));
    } else {
      // The bytes row-major, as before they were held in panels, so a checkpoint's base keeps its fingerprint; in
      // blocks of 8 rows, whose sizes are whole words of the hash.
      std::vector<int8_t> block(8 * cols);
      for (size_t first = 0; first < rows; first += 8) {
        const size_t count = std::min<size_t>(8, rows - first);
        params.compact.int8_rows(slot, int(first), int(count), block.data());
        fingerprint.add(block.data(), count * cols);
      }
      fingerprint.add(view.scales, rows * sizeof(float));
    }
  }
  return fingerprint.hex();
}

}  // namespace tinylm
