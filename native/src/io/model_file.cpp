// Model files: a safetensors container whose __metadata__ carries
//   "format": "tinylm", "format_version": "1", "config": <model config JSON>, "tokenizer": <tokenizer JSON>
// and whose tensors are the network's, named and laid out as PyTorch stores them. Loading checks the container,
// then the metadata, then the config, then every tensor against the config, before the model is used.
//
// Weight storage (WeightStorage; shipped models use the compact forms). Every tensor may be F32 or F16. A 2-D
// tensor `name` (rows, cols) may instead be I8, quantised per row, with a companion F32 tensor `name.scale`
// (rows): weight[r][c] = name.scale[r] · name[r][c], name[r][c] ∈ [−127, 127]. Example:
//   "head.weight": I8 (84, 256)   "head.weight.scale": F32 (84)   "head.bias": F32 (84)
// An I8 tensor without its scale, a scale of the wrong shape or dtype, or a scale without its I8 tensor is an
// error naming the tensor. Biases and norms (1-D) stay F32. Loading converts everything to float; a recurrent
// model loaded from int8 also generates from int8 weights (RecurrentLM::StepPrecision::Int8).
#include <memory>

#include "io/json_text.hpp"
#include "io/safetensors.hpp"
#include "memory_limits.hpp"
#include "models/model_common.hpp"
#include "models/gpt.hpp"
#include "models/llama.hpp"
#include "models/ngram.hpp"
#include "models/recurrent_lm.hpp"
#include "tinylm/error.hpp"
#include "tinylm/model.hpp"

namespace tinylm {

namespace {

constexpr const char* kFormat = "tinylm";
constexpr const char* kFormatVersion = "1";

const std::string& metadata_field(const SafetensorsFile& file, const std::string& key) {
  auto it = file.metadata.find(key);
  check(it != file.metadata.end(), "not a tinylm model file: __metadata__ has no '", key,
        "' entry (a plain PyTorch safetensors file? convert it with tools/convert_pytorch.py)");
  return it->second;
}

nlohmann::json metadata_json(const SafetensorsFile& file, const std::string& key) {
  const std::string& text = metadata_field(file, key);
  // The (first, last) form shares one parser instantiation with the safetensors header's (smaller .wasm).
  nlohmann::json json = parse_json(text, nullptr, false);
  check(!json.is_discarded(), "model file: __metadata__ '", key, "' is not valid JSON");
  return json;
}

std::unique_ptr<LanguageModel> network_from_file(const nlohmann::json& config, const SafetensorsFile& file,
                                                 Residency residency) {
  check(config.is_object() && config.contains("arch") && config["arch"].is_string(),
        "model file: config has no 'arch' string");
  const std::string arch = config["arch"].get<std::string>();
  if (arch == "ngram") return NgramModel::from_file(config, file);
  if (arch == "gpt") return GptLM::from_file(config, file, residency);
  if (arch == "llama") return LlamaLM::from_file(config, file, residency);
  CellKind cell;
  if (parse_cell_kind(arch, &cell)) return RecurrentLM::from_file(config, file);
  fail("model file: unknown arch '", arch, "' (this build knows lstm, gru, rnn_tanh, rnn_relu, gpt, llama, ngram)");
}

Model model_from_file(const SafetensorsFile& file, Residency residency) {
  const std::string& format = metadata_field(file, "format");
  check(format == kFormat, "not a tinylm model file: format is '", format, "', expected '", kFormat, "'");
  const std::string& version = metadata_field(file, "format_version");
  check(version == kFormatVersion, "model file format version ", version, " is not supported by this build (",
        "it reads version ", kFormatVersion, "); upgrade tinylm");
  Model model;
  model.tokenizer = tokenizer_from_json(metadata_json(file, "tokenizer"));
  model.network = network_from_file(metadata_json(file, "config"), file, residency);
  check(model.tokenizer->vocab_size() == model.network->vocab_size(), "model file: the tokenizer has ",
        model.tokenizer->vocab_size(), " tokens but the config says vocab_size ", model.network->vocab_size());
  return model;
}

}  // namespace

Model load_model_bytes(const uint8_t* bytes, size_t size, Residency residency) {
  return model_from_file(parse_safetensors(bytes, size), residency);
}

Model load_model(const std::string& path, Residency residency) {
  try {
    return model_from_file(read_safetensors_file(path), residency);  // header first: see read_safetensors_file
  } catch (const LimitError& error) {  // keeps its kind and figures for the caller
    throw LimitError(error.kind, error.bytes_needed, error.cap, "cannot load '" + path + "': " + error.what());
  } catch (const Error& error) {
    throw Error("cannot load '" + path + "': " + error.what());
  }
}

std::vector<uint8_t> serialize_model(const Model& model, WeightStorage storage) {
  check(model.tokenizer && model.network, "serialize_model: the model is incomplete");
  const std::map<std::string, std::string> metadata = {
      {"format", kFormat},
      {"format_version", kFormatVersion},
      {"config", model.network->config_json().dump()},
      {"tokenizer", model.tokenizer->to_json().dump()},
  };
  const StoredTensors stored = tensors_for_storage(model.network->tensors_to_save(), storage);
  return serialize_safetensors(stored.tensors, metadata);
}

void save_model(const Model& model, const std::string& path, WeightStorage storage) {
  write_file_atomic(path, serialize_model(model, storage));
}

}  // namespace tinylm
