// Hugging Face checkpoint folders, read as the Hub publishes them (save_pretrained's layout):
//   config.json                   the architecture ("architectures": ["GPT2LMHeadModel"] or ["LlamaForCausalLM"],
//                                 else "model_type") and its shape; fields left out take transformers' defaults
//   model.safetensors             the weights in one file (F32, F16 or BF16), or
//   model.safetensors.index.json  {"weight_map": {tensor name: shard file}} and the shards it names
//   generation_config.json        optional: the token ids and sampling defaults generation starts from
//   tokenizer.json, tokenizer_config.json   the tokenizer's (read by tokenizer/hf_tokenizer)
// The weights map onto tinylm's models by name (io/hf_architectures.hpp): GPT-2 onto GptLM under nanoGPT's names
// (its Conv1D weights, stored (in, out), transposed as they are read), Llama onto LlamaLM (the same names). Every
// tensor is checked against the config before it is used: a tensor the model does not know, a missing one, a shape
// that disagrees with the config, a shard the index names but the folder lacks — each is an Error naming the file
// and the tensor. Every shard's header is checked before the model allocates; then the weights are read tensor by
// tensor, a large one a block of rows at a time, and converted as they are copied in, so peak memory is the model
// plus one block (and, when the file holds a tied head, it and the embedding whole, to compare them).
//
// The files come through HfFiles (hf_files.hpp): a directory for the CLI, bytes in memory for the wasm engine.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/hf_files.hpp"
#include "compact_matrices.hpp"
#include "tinylm/model.hpp"

namespace tinylm {

struct HfCheckpoint {
  std::shared_ptr<const HfFiles> files;
  std::string dir;                   // files->label(): what messages call the folder
  nlohmann::json config;             // config.json
  nlohmann::json generation_config;  // generation_config.json, null when the folder has none
  std::string architecture;          // "GPT2LMHeadModel" | "LlamaForCausalLM"
  std::vector<std::string> shards;   // the safetensors files' names, in load order
  std::map<std::string, std::string> weight_map;  // tensor name → shard file name (empty for a single file)
};

// True when `path` is a directory holding a config.json (a checkpoint folder rather than a tinylm model file).
bool is_hf_checkpoint(const std::string& path);
// Reads and checks the folder's JSON files and finds its weight files; reads no weights.
HfCheckpoint read_hf_checkpoint(const std::string& dir);
HfCheckpoint read_hf_checkpoint(std::shared_ptr<const HfFiles> files);

struct HfLoadOptions {
  // The longest context a loaded model attends over: a Llama's context_size is min(max_position_embeddings, this),
  // a GPT-2's min(n_positions, this) (its position table cut to as many rows). Llama 3's 131072 positions would need
  // a KV cache of gigabytes; the window slides past it (decoder_cache.hpp).
  int max_context = 8192;
  // Float: trainable. F16 or Int8: the 2-D weights held only in that form, for generation and evaluation
  // (compact_matrices.hpp): SmolLM2-360M in 0.7 or 0.36 GB instead of 1.45.
  Residency residency = Residency::Float;
};
// The network the folder describes, its weights loaded.
std::unique_ptr<TrainableModel> load_hf_network(const HfCheckpoint& checkpoint, const HfLoadOptions& options = {});

// The network and its tokenizer (tokenizer.json, with tokenizer_config.json when the folder has one): a Model as a
// tinylm model file holds one, ready to generate, evaluate, fine-tune or save (`tinylm convert`). The tokenizer's
// vocabulary must be the network's.
Model load_hf_model(const std::string& dir, const HfLoadOptions& options = {});
Model load_hf_model(const HfCheckpoint& checkpoint, const HfLoadOptions& options = {});
// A tinylm model file, or a Hugging Face checkpoint folder: what the CLI's --model takes.
Model load_model_or_checkpoint(const std::string& path, Residency residency = Residency::Float);

}  // namespace tinylm
