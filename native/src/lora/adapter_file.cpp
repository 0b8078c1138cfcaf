#include "lora/adapter_file.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

#include "io/json_text.hpp"
#include "models/model_common.hpp"
#include "tinylm/error.hpp"

namespace tinylm {

namespace {

constexpr const char* kPrefix = "base_model.model.";

bool is_directory(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

bool is_file(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

nlohmann::json read_json_file(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  try {
    return parse_json(bytes.data(), bytes.size());
  } catch (const nlohmann::json::exception& error) {
    fail("'", path, "' is not valid JSON: ", error.what());
  }
}

// "base_model.model.<path>.lora_A.weight" → path and which matrix; false for any other name.
bool parse_lora_name(const std::string& name, std::string* path, char* matrix) {
  const std::string prefix = kPrefix;
  for (const char* suffix : {".lora_A.weight", ".lora_B.weight"}) {
    const std::string tail = suffix;
    if (name.size() > prefix.size() + tail.size() && name.compare(0, prefix.size(), prefix) == 0 &&
        name.compare(name.size() - tail.size(), tail.size(), tail) == 0) {
      *path = name.substr(prefix.size(), name.size() - prefix.size() - tail.size());
      *matrix = tail[6];  // 'A' or 'B'
      return true;
    }
  }
  return false;
}

}  // namespace

nlohmann::json adapter_config_json(const LoraConfig& config, const std::string& arch) {
  return {{"peft_type", "LORA"},
          {"task_type", "CAUSAL_LM"},
          {"r", config.rank},
          {"lora_alpha", config.alpha},
          {"lora_dropout", config.dropout},
          {"target_modules", config.targets},
          {"base_model_name_or_path", config.base_model},
          {"bias", "none"},
          {"fan_in_fan_out", arch == "gpt"},  // GPT-2's attention and MLP layers are Conv1D, stored (in, out)
          {"inference_mode", true}};
}

LoraConfig lora_config_from_json(const nlohmann::json& json) {
  check(json.is_object(), "adapter config must be a JSON object");
  if (json.contains("peft_type") && !json["peft_type"].is_null()) {
    const std::string type = json_string_field(json, "peft_type");
    check(type == "LORA", "adapter config: peft_type '", type, "' is not LORA; tinylm loads LoRA adapters only");
  }
  LoraConfig config;
  config.rank = json_int_field(json, "r");
  config.alpha = json.contains("lora_alpha") ? json_float_field(json, "lora_alpha") : 8.0f;  // PEFT's default
  config.dropout = json.contains("lora_dropout") ? json_float_field(json, "lora_dropout") : 0.0f;
  const nlohmann::json& targets = json.contains("target_modules") ? json["target_modules"] : nlohmann::json();
  if (targets.is_array()) {
    for (const nlohmann::json& target : targets) {
      check(target.is_string(), "adapter config: target_modules must be a list of names");
      config.targets.push_back(target.get<std::string>());
    }
  } else if (targets.is_string()) {
    config.targets.push_back(targets.get<std::string>());  // a regular expression in PEFT; kept as written
  }
  std::sort(config.targets.begin(), config.targets.end());
  if (json.contains("base_model_name_or_path") && json["base_model_name_or_path"].is_string())
    config.base_model = json["base_model_name_or_path"].get<std::string>();
  auto refuse_if = [&](const char* field, bool present, const char* what) {
    check(!present, "adapter config: ", field, " (", what, ") is not supported by tinylm");
  };
  refuse_if("bias", json.contains("bias") && json["bias"].is_string() && json["bias"] != "none", "trained biases");
  refuse_if("use_rslora", json.value("use_rslora", false), "rank-stabilised scaling");
  refuse_if("use_dora", json.value("use_dora", false), "DoRA");
  for (const char* field : {"rank_pattern", "alpha_pattern"})
    refuse_if(field, json.contains(field) && json[field].is_object() && !json[field].empty(), "per-module ranks");
  if (config.targets.empty()) config.targets.push_back("*");  // filled in by load_adapter from the tensors
  return config;
}

std::vector<uint8_t> serialize_adapter(const LoraAdapter& adapter, const std::string& arch, DType dtype) {
  check(dtype == DType::F32 || dtype == DType::F16, "an adapter is written as F32 or F16, not ", dtype_name(dtype));
  std::vector<TensorToWrite> tensors = parameters_to_write(adapter.parameters());
  for (TensorToWrite& tensor : tensors) {
    tensor.dtype = dtype;
    if (dtype != DType::F16) continue;
    const float* end = tensor.values + shape_numel(tensor.shape);
    const float* bad = std::find_if(tensor.values, end, [](float w) { return !(std::fabs(w) <= 65504.0f); });
    check(bad == end, "adapter tensor '", tensor.name, "' holds ", *bad, ", which F16 cannot hold: export it as F32");
  }
  return serialize_safetensors(tensors,
                               {{"format", "pt"}, {"adapter_config", adapter_config_json(adapter.config(), arch).dump()}});
}

void save_adapter(const std::string& path, const LoraAdapter& adapter, const std::string& arch, DType dtype) {
  write_file_atomic(path, serialize_adapter(adapter, arch, dtype));
}

std::unique_ptr<LoraAdapter> load_adapter(const SafetensorsFile& file, const std::vector<LinearModule>& modules,
                                          const nlohmann::json* config_json) {
  nlohmann::json parsed;
  if (file.metadata.count("adapter_config")) {
    try {
      parsed = parse_json(file.metadata.at("adapter_config"));
    } catch (const nlohmann::json::exception& error) {
      fail("adapter file: metadata 'adapter_config' is not valid JSON: ", error.what());
    }
    config_json = &parsed;
  }
  check(config_json != nullptr, "adapter file has no 'adapter_config' in its metadata: put PEFT's adapter_config.json "
                                "beside it (or load the PEFT folder)");
  LoraConfig config = lora_config_from_json(*config_json);
  const int r = config.rank;
  check(r >= 1, "adapter config: r must be positive, got ", r);

  // Every tensor names a lora_A or lora_B of one of the model's linears, with that linear's shape.
  std::vector<int> has_a(modules.size(), 0), has_b(modules.size(), 0);
  for (const SafetensorsEntry& entry : file.tensors) {
    std::string path;
    char matrix = 0;
    check(parse_lora_name(entry.name, &path, &matrix), "adapter file has tensor '", entry.name,
          "', which is not a LoRA matrix (expected ", kPrefix, "<module>.lora_A.weight or .lora_B.weight)");
    const auto found = std::find_if(modules.begin(), modules.end(),
                                    [&](const LinearModule& module) { return module.path == path; });
    check(found != modules.end(), "adapter file adapts '", path, "', which this model does not have (its linears are "
          "named like '", modules.empty() ? std::string("-") : modules.front().path, "'): was it trained on another "
          "architecture?");
    const int index = int(found - modules.begin());
    const Shape expected = matrix == 'A' ? Shape{r, found->in} : Shape{found->out, r};
    check(entry.dtype == DType::F32 || entry.dtype == DType::F16 || entry.dtype == DType::BF16, "adapter tensor '",
          entry.name, "' is ", dtype_name(entry.dtype), "; LoRA matrices are read from F32, F16 or BF16");
    check(entry.shape == expected, "adapter tensor '", entry.name, "' has shape ", shape_string(entry.shape),
          ", expected ", shape_string(expected), " (r = ", r, ", the model's ", found->out, " × ", found->in, ")");
    (matrix == 'A' ? has_a : has_b)[index] = 1;
  }
  std::vector<int> adapted;
  for (size_t i = 0; i < modules.size(); ++i) {
    check(has_a[i] == has_b[i], "adapter file has ", has_a[i] ? "lora_A" : "lora_B", " for '", modules[i].path,
          "' but not its ", has_a[i] ? "lora_B" : "lora_A");
    if (has_a[i]) adapted.push_back(int(i));
  }
  check(!adapted.empty(), "adapter file holds no LoRA matrices");
  if (config.targets == std::vector<std::string>{"*"}) {
    config.targets.clear();
    for (int index : adapted) {
      const std::string name = modules[index].path.substr(modules[index].path.rfind('.') + 1);
      if (std::find(config.targets.begin(), config.targets.end(), name) == config.targets.end())
        config.targets.push_back(name);
    }
  }

  auto adapter = std::make_unique<LoraAdapter>(config, modules, adapted);
  Parameters& params = adapter->parameters();
  for (const TensorSpec& spec : params.table.tensors()) {
    const std::vector<float> values = file.read_f32(*file.find(spec.name));
    for (float value : values)
      check(std::isfinite(value), "adapter tensor '", spec.name, "' holds a non-finite value");
    std::copy(values.begin(), values.end(), params.values.begin() + spec.offset);
  }
  return adapter;
}

std::unique_ptr<LoraAdapter> load_adapter_file(const std::string& path, const std::vector<LinearModule>& modules) {
  try {
    std::string tensors_path = path, folder;
    if (is_directory(path)) {
      folder = path;
      tensors_path = path + "/adapter_model.safetensors";
      check(is_file(tensors_path), "the folder has no adapter_model.safetensors");
    } else {
      const size_t slash = path.rfind('/');
      folder = slash == std::string::npos ? "." : path.substr(0, slash);
    }
    const SafetensorsFile file = read_safetensors_file(tensors_path);
    nlohmann::json sidecar;
    const std::string config_path = folder + "/adapter_config.json";
    if (!file.metadata.count("adapter_config") && is_file(config_path)) sidecar = read_json_file(config_path);
    return load_adapter(file, modules, sidecar.is_null() ? nullptr : &sidecar);
  } catch (const Error& error) {
    fail("cannot load adapter '", path, "': ", error.what());
  }
}

}  // namespace tinylm
