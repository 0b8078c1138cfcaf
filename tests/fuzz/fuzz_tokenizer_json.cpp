// Fuzz target: the tokenizer JSON readers (char, word, byte-level BPE) as a model file's __metadata__ carries them.
// Bytes → JSON → tokenizer_from_json; a tokenizer that loads encodes and decodes a text made of the same bytes.
// Invalid input must end in tinylm::Error; anything else is a finding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tinylm/error.hpp"
#include "tinylm/tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* text = reinterpret_cast<const char*>(data);
  const nlohmann::json json = nlohmann::json::parse(text, text + size, nullptr, false);
  if (json.is_discarded()) return 0;
  try {
    const auto tokenizer = tinylm::tokenizer_from_json(json);
    const std::vector<int32_t> ids = tokenizer->encode(std::string_view(text, size < 256 ? size : 256));
    tokenizer->decode(ids);
  } catch (const tinylm::Error&) {
  }
  return 0;
}
