// Hugging Face checkpoint folders (hf_checkpoint.hpp): the folder's files, the shard index, and copying every
// tensor into the model the architecture builds (hf_architectures.hpp), checked against its parameter table.
#include "io/hf_checkpoint.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "io/hf_architectures.hpp"
#include "io/json_text.hpp"
#include "io/safetensors.hpp"
#include "models/model_common.hpp"
#include "tensor.hpp"
#include "tinylm/error.hpp"

namespace tinylm {

namespace {

constexpr const char* kConfigFile = "config.json";
constexpr const char* kSingleFile = "model.safetensors";
constexpr const char* kIndexFile = "model.safetensors.index.json";
constexpr const char* kGenerationFile = "generation_config.json";

nlohmann::json read_json(const HfFiles& files, const std::string& name) {
  const std::string path = files.path(name);
  const std::vector<uint8_t> bytes = files.read(name);
  nlohmann::json json = parse_json(bytes.data(), bytes.size(), nullptr, false);
  check(!json.is_discarded(), "'", path, "' is not valid JSON");
  check(json.is_object(), "'", path, "' must hold a JSON object, got ", json.type_name());
  return json;
}

std::string architecture_of(const nlohmann::json& config) {
  std::string name;
  if (config.contains("architectures") && config["architectures"].is_array() && !config["architectures"].empty() &&
      config["architectures"][0].is_string()) {
    name = config["architectures"][0].get<std::string>();
  } else if (config.contains("model_type") && config["model_type"].is_string()) {
    const std::string type = config["model_type"].get<std::string>();
    name = type == "gpt2" ? "GPT2LMHeadModel" : type == "llama" ? "LlamaForCausalLM" : "model_type '" + type + "'";
  }
  if (name == "GPT2Model") name = "GPT2LMHeadModel";  // the same weights: GPT-2's head is the tied embedding
  check(name == "GPT2LMHeadModel" || name == "LlamaForCausalLM", "config.json: architecture ",
        name.empty() ? std::string("(none: no 'architectures' or 'model_type')") : "'" + name + "'",
        " is not supported — tinylm reads GPT2LMHeadModel and LlamaForCausalLM (SmolLM/SmolLM2, TinyLlama, the ",
        "TinyStories Llamas, Llama 2 and 3)");
  return name;
}

// The index's weight_map, checked: every value a plain file name in the folder.
std::map<std::string, std::string> read_weight_map(const HfFiles& files) {
  const std::string index_path = files.path(kIndexFile);
  const nlohmann::json index = read_json(files, kIndexFile);
  check(index.contains("weight_map") && index["weight_map"].is_object(), "'", index_path,
        "' has no \"weight_map\" object");
  std::map<std::string, std::string> weight_map;
  for (const auto& [tensor, shard] : index["weight_map"].items()) {
    check(shard.is_string(), "'", index_path, "': the shard of tensor '", tensor, "' must be a file name, got ",
          shard.dump());
    const std::string file = shard.get<std::string>();
    check(!file.empty() && file.find('/') == std::string::npos && file.find('\\') == std::string::npos &&
              file != "." && file != "..",
          "'", index_path, "': shard '", file, "' of tensor '", tensor, "' must be a file name inside the folder");
    weight_map[tensor] = file;
  }
  check(!weight_map.empty(), "'", index_path, "': the weight_map is empty");
  std::set<std::string> shard_files;
  for (const auto& entry : weight_map) shard_files.insert(entry.second);
  for (const std::string& file : shard_files) {
    check(files.has(file), "'", index_path, "' names shard '", file, "', which is not in '", files.label(),
          "' (an incomplete download?)");
  }
  return weight_map;
}

// A tensor stored as it is laid out, without a whole copy of it beside the model: a float parameter read straight
// into the parameter block; a compact one a block of rows at a time, each row quantised or rounded on its own
// (CompactMatrices::set_rows), so the result is the same bits as storing the whole tensor at once. The wasm heap
// keeps whatever size a load grew it to: a whole tensor's bytes and floats beside the model were 309 MB for
// GPT-2's F32 embedding (50257 × 768).
// A transposed tensor (GPT-2's Conv1D weights, stored (in, out) = (cols, rows) of the parameter's (rows, cols)) goes
// the same way: a block of the parameter's rows is a band of the stored columns, read in one strided read and
// transposed into the block, so no whole copy of it (9 MB of floats for GPT-2's c_fc, and its transpose) either.
// Reading errors name the file themselves; `path` names it for a value the compact form cannot hold.
void store_in_place(HfWeightReader& reader, const SafetensorsEntry& entry, Parameters& params, const TensorSpec& spec,
                    bool transposed, const std::string& path) {
  const uint64_t count = uint64_t(shape_numel(spec.shape));
  if (!spec.compact && !transposed) {
    reader.read_f32(entry, 0, count, params.values.data() + spec.offset);
    return;
  }
  constexpr uint64_t kBlockFloats = 1 << 18;  // 1 MB of floats
  const int64_t rows = spec.shape[0], cols = spec.shape[1];
  const int64_t block_rows = std::max<int64_t>(1, int64_t(kBlockFloats) / std::max<int64_t>(1, cols));
  std::vector<float> block(spec.compact ? size_t(std::min(rows, block_rows) * cols) : 0);
  std::vector<float> band(transposed ? size_t(std::min(rows, block_rows) * cols) : 0);  // (cols, n) stored
  for (int64_t first = 0; first < rows; first += block_rows) {
    const int64_t n = std::min(block_rows, rows - first);
    // The block's rows: in the compact form's staging block, or straight in the parameter block.
    float* out = spec.compact ? block.data() : params.values.data() + spec.offset + first * cols;
    if (!transposed) {
      reader.read_f32(entry, uint64_t(first * cols), uint64_t(n * cols), out);
    } else {
      reader.read_f32_columns(entry, uint64_t(first), uint64_t(n), band.data());
      for (int64_t c = 0; c < cols; ++c)
        for (int64_t r = 0; r < n; ++r) out[r * cols + c] = band[size_t(c * n + r)];
    }
    if (!spec.compact) continue;
    check(params.compact.set_rows(spec.offset, int(spec.first_row + first), int(n), block.data()), "'", path,
          "': tensor '", spec.name, "' has a value that ", compact_kind_name(params.compact.kind()), " cannot hold (",
          params.compact.kind() == CompactKind::F16 ? "beyond ±65504 or not finite" : "not finite",
          "): load the model with float weights");
  }
}

}  // namespace

bool is_hf_checkpoint(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode) && directory_files(path)->has(kConfigFile);
}

HfCheckpoint read_hf_checkpoint(const std::string& dir) {
  return read_hf_checkpoint(directory_files(dir));
}

HfCheckpoint read_hf_checkpoint(std::shared_ptr<const HfFiles> files) {
  HfCheckpoint checkpoint;
  checkpoint.files = files;
  checkpoint.dir = files->label();
  const std::string& dir = checkpoint.dir;
  check(files->has(kConfigFile), "'", dir, "' is not a Hugging Face checkpoint folder: it has no ", kConfigFile);
  checkpoint.config = read_json(*files, kConfigFile);
  checkpoint.architecture = architecture_of(checkpoint.config);
  if (files->has(kGenerationFile)) checkpoint.generation_config = read_json(*files, kGenerationFile);
  if (files->has(kSingleFile)) {
    checkpoint.shards.push_back(kSingleFile);
  } else if (files->has(kIndexFile)) {
    checkpoint.weight_map = read_weight_map(*files);
    std::set<std::string> shard_files;
    for (const auto& entry : checkpoint.weight_map) shard_files.insert(entry.second);
    checkpoint.shards.assign(shard_files.begin(), shard_files.end());
  } else {
    fail("'", dir, "' has neither ", kSingleFile, " nor ", kIndexFile,
         " — tinylm reads safetensors weights only (a pytorch_model.bin converts with save_pretrained's ",
         "safe_serialization)");
  }
  return checkpoint;
}

std::unique_ptr<TrainableModel> load_hf_network(const HfCheckpoint& checkpoint, const HfLoadOptions& options) {
  HfArchitecture architecture = checkpoint.architecture == "GPT2LMHeadModel"
                                    ? gpt2_architecture(checkpoint.config, options)
                                    : llama_architecture(checkpoint.config, options);
  Parameters& params = architecture.model->parameters();
  // Pass 1, headers only: every shard's tensors checked against the index, the architecture's names, the config's
  // shapes and the float dtypes before the model allocates (a config declaring a huge model with a small file is
  // refused without allocating for it).
  std::vector<std::unique_ptr<HfWeightReader>> readers;
  std::vector<std::string> shard_paths;  // what messages call each reader's file
  std::set<std::string> loaded, seen, tied_embeddings;
  for (const std::string& shard_name : checkpoint.shards) {
    const std::string shard = checkpoint.files->path(shard_name);
    readers.push_back(checkpoint.files->open_weights(shard_name));
    shard_paths.push_back(shard);
    for (const SafetensorsEntry& entry : readers.back()->header().tensors) {
      check(seen.insert(entry.name).second, "tensor '", entry.name, "' appears in more than one shard (again in '",
            shard, "')");
      if (!checkpoint.weight_map.empty()) {
        auto listed = checkpoint.weight_map.find(entry.name);
        const bool unlisted = listed == checkpoint.weight_map.end();
        check(!unlisted && listed->second == shard_name, "'", shard, "' holds tensor '", entry.name,
              "', which the index ", unlisted ? std::string("does not list") : "places in '" + listed->second + "'");
      }
      const std::optional<HfTensorPlace> place = architecture.place(entry.name);
      check(place.has_value(), "'", shard, "' has tensor '", entry.name, "' that this ", checkpoint.architecture,
            " config has no place for (a config.json from another model, or a variant tinylm does not implement?)");
      if (place->kind == HfTensorPlace::Kind::Ignored) continue;
      const TensorSpec& spec = params.table.find(place->name);
      Shape expected = place->transpose ? Shape(spec.shape.rbegin(), spec.shape.rend()) : spec.shape;
      if (place->stored_rows > 0) expected[0] = place->stored_rows;
      check(entry.shape == expected, "tensor '", entry.name, "' in '", shard, "' has shape ",
            shape_string(entry.shape), " but config.json implies ", shape_string(expected));
      check(entry.dtype == DType::F32 || entry.dtype == DType::F16 || entry.dtype == DType::BF16, "tensor '",
            entry.name, "' in '", shard, "' is ", dtype_name(entry.dtype),
            ": Hugging Face weights are read as F32, F16 or BF16 (a quantised checkpoint needs converting first)");
      if (place->kind == HfTensorPlace::Kind::Parameter) loaded.insert(spec.name);
      if (place->kind == HfTensorPlace::Kind::TiedHead) tied_embeddings.insert(spec.name);
    }
  }
  for (const auto& [name, weights] : checkpoint.weight_map)
    check(seen.count(name), "the index lists tensor '", name, "' in '", weights, "', which does not hold it");
  for (const TensorSpec& spec : params.table.tensors())
    check(loaded.count(spec.name), "'", checkpoint.dir, "' has no tensor for '", spec.name, "' (expected shape ",
          shape_string(spec.shape), ")");

  // Pass 2: tensor by tensor into place (converted to the model's compact form if it holds one), so peak memory is
  // the model plus a block of rows (when the file has a tied head, both it and the embedding whole).
  architecture.allocate();
  std::map<std::string, std::vector<float>> heads, embeddings;  // a tied head and its embedding, compared at the end
  for (size_t shard = 0; shard < readers.size(); ++shard) {
    const std::unique_ptr<HfWeightReader>& reader = readers[shard];
    for (const SafetensorsEntry& entry : reader->header().tensors) {
      const HfTensorPlace place = *architecture.place(entry.name);
      if (place.kind == HfTensorPlace::Kind::Ignored) continue;
      if (place.kind == HfTensorPlace::Kind::TiedHead) {
        heads[entry.name] = reader->read_f32(entry);
        continue;
      }
      const TensorSpec& spec = params.table.find(place.name);
      if (place.stored_rows > 0 || !tied_embeddings.count(spec.name)) {  // wpe: its first rows
        store_in_place(*reader, entry, params, spec, place.transpose, shard_paths[shard]);
        continue;
      }
      // An embedding a tied head is compared with: read whole.
      std::vector<float> values = reader->read_f32(entry);
      try {
        store_parameter(params, spec, values.data());
      } catch (const Error& error) {
        throw Error("'" + shard_paths[shard] + "': " + error.what());
      }
      embeddings[spec.name] = std::move(values);
    }
  }
  for (const auto& [name, head] : heads) {
    const std::string embedding = architecture.place(name)->name;
    check(head == embeddings[embedding], "tensor '", name, "' differs from '", embedding,
          "', yet config.json ties the LM head to the embedding (tie_word_embeddings): the file contradicts its "
          "config");
  }
  architecture.model->reset_state();  // generation starts from the loaded weights
  return std::move(architecture.model);
}

}  // namespace tinylm
