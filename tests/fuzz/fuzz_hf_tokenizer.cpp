// Fuzz target: a Hugging Face tokenizer.json, optionally with its tokenizer_config.json, as a checkpoint folder
// downloaded by a web app carries them. Input: tokenizer.json's bytes, then optionally "\0\0" and the config's.
// A tokenizer that loads encodes a text made of the input's first bytes (with and without special tokens), decodes
// the ids (with and without them) and streams each id's bytes. Invalid input must end in tinylm::Error; anything
// else (a crash, a sanitizer report, an exception of another type) is a finding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tinylm/error.hpp"
#include "tokenizer/hf_tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find(std::string_view("\0\0", 2));
  const std::string tokenizer_json(input.substr(0, split));
  const std::string config_json(split == std::string_view::npos ? std::string_view() : input.substr(split + 2));
  try {
    const auto tokenizer = tinylm::load_hf_tokenizer(tokenizer_json, config_json);
    const std::string_view text = input.substr(0, 200);
    for (bool special : {true, false}) {
      const std::vector<int32_t> ids = tokenizer->encode(text, special);
      tokenizer->decode(ids, special);
      for (int32_t id : ids) tokenizer->token_bytes(id);
    }
    tokenizer->token_id(tokenizer->eos_token());
    tokenizer->to_json();
  } catch (const tinylm::Error&) {
  }
  return 0;
}
