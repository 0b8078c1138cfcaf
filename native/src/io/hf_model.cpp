// A Hugging Face folder as a Model: the network (hf_checkpoint.cpp) and the tokenizer the folder ships
// (tokenizer/hf_tokenizer.hpp), checked against each other.
#include <sys/stat.h>

#include "io/hf_checkpoint.hpp"
#include "io/safetensors.hpp"
#include "tinylm/error.hpp"
#include "tokenizer/hf_tokenizer.hpp"

namespace tinylm {

namespace {

bool is_file(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

std::string read_text(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace

Model load_hf_model(const std::string& dir, const HfLoadOptions& options) {
  const HfCheckpoint checkpoint = read_hf_checkpoint(dir);
  const std::string base = dir.empty() || dir.back() == '/' ? dir : dir + "/";
  check(is_file(base + "tokenizer.json"), "'", dir, "' has no tokenizer.json: tinylm needs the model's tokenizer ",
        "to turn text into token ids");
  const std::string config_path = base + "tokenizer_config.json";
  Model model;
  model.tokenizer = load_hf_tokenizer(read_text(base + "tokenizer.json"),
                                      is_file(config_path) ? read_text(config_path) : std::string());
  model.network = load_hf_network(checkpoint, options);
  check(model.tokenizer->vocab_size() == model.network->vocab_size(), "'", dir, "': tokenizer.json has ",
        model.tokenizer->vocab_size(), " tokens but config.json's vocab_size is ", model.network->vocab_size(),
        " — tinylm needs them equal (a vocabulary padded past the tokenizer is not supported)");
  return model;
}

Model load_model_or_checkpoint(const std::string& path, Residency residency) {
  HfLoadOptions options;
  options.residency = residency;
  if (is_hf_checkpoint(path)) return load_hf_model(path, options);
  return load_model(path, residency);
}

}  // namespace tinylm
