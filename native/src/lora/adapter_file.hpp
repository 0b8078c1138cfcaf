// LoRA adapter files: safetensors as PEFT saves them (adapter_model.safetensors), so adapters move between tinylm and
// PyTorch/PEFT both ways.
//   tensors:      base_model.model.<module path>.lora_A.weight (r, in) · ….lora_B.weight (out, r), written as F32
//                 or (half the bytes) F16, rounded to nearest even; F32, F16 and BF16 read
//   __metadata__: "format": "pt" (what PEFT writes) and "adapter_config": adapter_config.json's fields as a JSON string
//                 — peft_type "LORA", task_type "CAUSAL_LM", r, lora_alpha, lora_dropout, target_modules,
//                 base_model_name_or_path, bias "none", fan_in_fan_out (true for GPT-2's Conv1D layers)
// A PEFT folder (adapter_model.safetensors + adapter_config.json) loads too, and so does a file whose metadata lacks
// the config when an adapter_config.json sits beside it.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/safetensors.hpp"
#include "lora/lora_adapter.hpp"

namespace tinylm {

// adapter_config.json's fields for this adapter on a model of architecture `arch` ("gpt" | "llama").
nlohmann::json adapter_config_json(const LoraConfig& config, const std::string& arch);
// The LoraConfig a PEFT adapter_config.json describes; Error for features tinylm does not apply (bias other than
// "none", use_rslora, use_dora, rank_pattern or alpha_pattern entries, another peft_type).
LoraConfig lora_config_from_json(const nlohmann::json& json);

// dtype F32 or F16; F16 refuses (Error naming the tensor) a value it cannot hold (|w| > 65504 or not finite).
std::vector<uint8_t> serialize_adapter(const LoraAdapter& adapter, const std::string& arch, DType dtype = DType::F32);
void save_adapter(const std::string& path, const LoraAdapter& adapter, const std::string& arch,  // atomic
                  DType dtype = DType::F32);

// An adapter for a model with these linear_modules(), from a parsed file and its config (the metadata's, else
// `config_json` when not null). Checks every tensor — a lora_A/lora_B pair per module, known module paths, shapes
// (r, in) and (out, r), no other tensors — before using any, and throws Error naming the problem.
std::unique_ptr<LoraAdapter> load_adapter(const SafetensorsFile& file, const std::vector<LinearModule>& modules,
                                          const nlohmann::json* config_json = nullptr);
// From a path: a .safetensors file, or a PEFT folder holding adapter_model.safetensors and adapter_config.json.
std::unique_ptr<LoraAdapter> load_adapter_file(const std::string& path, const std::vector<LinearModule>& modules);

}  // namespace tinylm
