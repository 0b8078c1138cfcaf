// tinylm_hf_tokenizer_runner COMMAND TOKENIZER_JSON CONFIG_JSON INPUT OUTPUT — the C++ half of the Node comparison
// tests (tests/hf_tokenizer/test_*.mjs). CONFIG_JSON may be "-" (no tokenizer_config.json). All numbers are
// little-endian u32 / i32.
//   encode    INPUT: texts, each [u32 byte length][bytes]          OUTPUT: per text [u32 count][i32 ids]
//             (text in the first form: post-processor tokens included)
//   encode-no-special   the same without the post-processor's tokens
//   decode    INPUT: sequences, each [u32 count][i32 ids]          OUTPUT: per sequence [u32 n][decode(ids)], then
//             per id [u32 n][token_bytes(id)]
//   classify  INPUT: [u32 code points]                             OUTPUT: [u8 class] (hf_unicode.hpp's CharClass)
//             (TOKENIZER_JSON and CONFIG_JSON are ignored)
//   info      OUTPUT: JSON {vocab_size, bos_id, eos_id, unk_id, bos_token, eos_token, chat_template,
//             unicode_version}
// Errors go to stderr with exit status 1.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tinylm/error.hpp"
#include "tokenizer/hf_tokenizer.hpp"
#include "tokenizer/hf_unicode.hpp"

using namespace tinylm;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  check(file.good(), "cannot read ", path);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

struct Reader {
  const std::string& data;
  size_t offset = 0;
  bool done() const { return offset >= data.size(); }
  uint32_t u32() {
    check(offset + 4 <= data.size(), "input ends inside a number");
    uint32_t value = 0;
    for (int byte = 0; byte < 4; ++byte) value |= static_cast<uint32_t>(static_cast<uint8_t>(data[offset++])) << (8 * byte);
    return value;
  }
  std::string bytes(uint32_t length) {
    check(offset + length <= data.size(), "input ends inside a text");
    std::string out = data.substr(offset, length);
    offset += length;
    return out;
  }
};

void put_u32(std::string& out, uint32_t value) {
  for (int byte = 0; byte < 4; ++byte) out += static_cast<char>((value >> (8 * byte)) & 0xFF);
}

void put_text(std::string& out, const std::string& text) {
  put_u32(out, static_cast<uint32_t>(text.size()));
  out += text;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    check(argc == 6, "usage: tinylm_hf_tokenizer_runner encode|encode-no-special|decode|classify|info TOKENIZER_JSON "
          "CONFIG_JSON|- INPUT OUTPUT");
    const std::string command = argv[1];
    const std::string input = command == "info" ? std::string() : read_file(argv[4]);
    Reader reader{input};
    std::string output;
    if (command == "classify") {
      while (!reader.done()) output += static_cast<char>(hf::char_class(reader.u32()));
    } else {
      const std::string config = std::string(argv[3]) == "-" ? std::string() : read_file(argv[3]);
      const auto tokenizer = load_hf_tokenizer(read_file(argv[2]), config);
      if (command == "encode" || command == "encode-no-special") {
        while (!reader.done()) {
          const std::vector<int32_t> ids = tokenizer->encode(reader.bytes(reader.u32()), command == "encode");
          put_u32(output, static_cast<uint32_t>(ids.size()));
          for (int32_t id : ids) put_u32(output, static_cast<uint32_t>(id));
        }
      } else if (command == "decode") {
        while (!reader.done()) {
          std::vector<int32_t> ids(reader.u32());
          for (int32_t& id : ids) id = static_cast<int32_t>(reader.u32());
          put_text(output, tokenizer->decode(ids));
          for (int32_t id : ids) put_text(output, tokenizer->token_bytes(id));
        }
      } else if (command == "info") {
        output = nlohmann::json{{"vocab_size", tokenizer->vocab_size()},
                                {"bos_id", tokenizer->bos_id()},
                                {"eos_id", tokenizer->eos_id()},
                                {"unk_id", tokenizer->unk_id()},
                                {"bos_token", tokenizer->bos_token()},
                                {"eos_token", tokenizer->eos_token()},
                                {"chat_template", tokenizer->chat_template()},
                                {"unicode_version", hf::unicode_version()}}
                     .dump();
      } else {
        fail("unknown command '", command, "'");
      }
    }
    std::ofstream file(argv[5], std::ios::binary);
    file.write(output.data(), static_cast<std::streamsize>(output.size()));
    check(file.good(), "cannot write ", argv[5]);
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "tinylm_hf_tokenizer_runner: %s\n", error.what());
    return 1;
  }
}
