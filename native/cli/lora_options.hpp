// LoRA on the command line: train's --lora-rank/--lora-alpha/--lora-dropout/--lora-targets, and the --adapter FILE
// that generate, eval and merge load onto their model.
#pragma once
#include <memory>
#include <string>

#include "args.hpp"
#include "lora/lora_adapter.hpp"
#include "tinylm/model.hpp"

namespace tinylm::cli {

// The flags train takes for LoRA (all but --lora-rank need it).
inline const char* const kLoraFlags[] = {"lora-rank", "lora-alpha", "lora-dropout", "lora-targets"};

// The adapter --lora-* describes for a model of architecture `arch`, range-checked (UsageError naming the flag):
//   --lora-rank R      1 … 4096
//   --lora-alpha A     > 0; default R (scale 1)
//   --lora-dropout P   [0, 1); default 0
//   --lora-targets L   comma-separated module names; default PEFT's for the architecture: c_attn (gpt),
//                      q_proj,v_proj (llama)
LoraConfig lora_config_from_args(const Args& args, const std::string& arch);

// Loads the adapter at `path` (a file or a PEFT folder) for model.network and attaches it: the returned adapter must
// outlive every use of the network.
std::unique_ptr<LoraAdapter> attach_adapter(Model& model, const std::string& path);

}  // namespace tinylm::cli
