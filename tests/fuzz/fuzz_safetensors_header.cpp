// Fuzz target: the safetensors container alone — the header parser (length, JSON, dtypes, shapes, offsets, tiling,
// metadata) and then every tensor read back as the loaders read them. Invalid input must end in tinylm::Error.
#include <cstddef>
#include <cstdint>

#include "io/safetensors.hpp"
#include "tinylm/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const tinylm::SafetensorsFile file = tinylm::parse_safetensors(data, size);
    for (const tinylm::SafetensorsEntry& entry : file.tensors) {
      if (entry.dtype == tinylm::DType::I8) file.read_i8(entry);
      else file.read_f32(entry);
    }
  } catch (const tinylm::Error&) {
  }
  return 0;
}
