// The architectures a Hugging Face folder may hold (io/hf_checkpoint.hpp), each a config mapping and a tensor-name
// mapping onto one of tinylm's models:
//   GPT2LMHeadModel (and GPT2Model) → GptLM. Names with or without the "transformer." prefix (the published
//     openai-community/gpt2 file has none; save_pretrained writes it); Conv1D weights c_attn, c_proj, c_fc are
//     stored (in, out) and transposed to Linear's (out, in); the causal-mask buffers h.N.attn.bias and
//     h.N.attn.masked_bias are ignored; the head is tied (an lm_head.weight in the file must equal wte). The model
//     attends over min(n_positions, HfLoadOptions::max_context) positions and keeps that many rows of wpe: the
//     sliding window restarts positions at 0, so later rows are never read, and the KV cache is sized to match
//     (GPT-2-small's 1024 positions: 151 MB of cache, 38 MB at 256).
//   LlamaForCausalLM → LlamaLM under the same names; rotary_emb.inv_freq buffers (older files) are ignored; a tied
//     head's lm_head.weight, when a file has one, must equal the embedding.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "io/hf_checkpoint.hpp"
#include "tinylm/model.hpp"

namespace tinylm {

// Where one tensor of a file goes.
struct HfTensorPlace {
  enum class Kind {
    Parameter,  // into the model's parameter `name`
    Ignored,    // a buffer the model does not need (causal masks, rotary frequencies)
    TiedHead,   // lm_head.weight of a tied model: must equal the parameter `name` (the embedding)
  };
  Kind kind;
  std::string name;
  bool transpose = false;  // stored (in, out), as GPT-2's Conv1D: the parameter is its transpose
  // > 0: the file's tensor has this many rows and the parameter keeps its first shape[0] (GPT-2's position table
  // cut to the context the model attends over).
  int64_t stored_rows = 0;
};

struct HfArchitecture {
  std::unique_ptr<TrainableModel> model;  // built from config.json: its parameter table, nothing allocated yet
  std::function<void()> allocate;         // allocates the model's weights (zero) and buffers
  // The place of a file's tensor, or nullopt when the architecture has no such tensor.
  std::function<std::optional<HfTensorPlace>(const std::string& name)> place;
};

HfArchitecture gpt2_architecture(const nlohmann::json& config, const HfLoadOptions& options);
HfArchitecture llama_architecture(const nlohmann::json& config, const HfLoadOptions& options);

// config.json fields that transformers leaves out when they equal the class's default: the value, or `fallback`.
// Error names the field when it is present with the wrong type.
int hf_int(const nlohmann::json& config, const char* field, int fallback);
float hf_float(const nlohmann::json& config, const char* field, float fallback);
bool hf_bool(const nlohmann::json& config, const char* field, bool fallback);
std::string hf_string(const nlohmann::json& config, const char* field, const std::string& fallback);

}  // namespace tinylm
