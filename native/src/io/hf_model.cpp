// A Hugging Face folder as a Model: the network (hf_checkpoint.cpp) and the tokenizer the folder ships
// (tokenizer/hf_tokenizer.hpp), checked against each other.
#include "io/hf_checkpoint.hpp"
#include "io/safetensors.hpp"
#include "tinylm/error.hpp"
#include "tokenizer/hf_tokenizer.hpp"

namespace tinylm {

namespace {

std::string read_text(const HfFiles& files, const std::string& name) {
  const std::vector<uint8_t> bytes = files.read(name);
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace

Model load_hf_model(const std::string& dir, const HfLoadOptions& options) {
  return load_hf_model(read_hf_checkpoint(dir), options);
}

Model load_hf_model(const HfCheckpoint& checkpoint, const HfLoadOptions& options) {
  const HfFiles& files = *checkpoint.files;
  const std::string& dir = checkpoint.dir;
  check(files.has("tokenizer.json"), "'", dir, "' has no tokenizer.json: tinylm needs the model's tokenizer ",
        "to turn text into token ids");
  Model model;
  model.tokenizer = load_hf_tokenizer(read_text(files, "tokenizer.json"), files.has("tokenizer_config.json")
                                                                             ? read_text(files, "tokenizer_config.json")
                                                                             : std::string());
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
