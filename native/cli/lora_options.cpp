#include "lora_options.hpp"

#include <cmath>
#include <climits>

#include "lora/adapter_file.hpp"
#include "tinylm/error.hpp"

namespace tinylm::cli {

LoraConfig lora_config_from_args(const Args& args, const std::string& arch) {
  for (const char* flag : kLoraFlags)
    if (args.has(flag) && !args.has("lora-rank"))
      throw UsageError(std::string("--") + flag + " needs --lora-rank R (LoRA fine-tuning)");
  LoraConfig config;
  config.rank = args.integer_in("lora-rank", 8, 1, 4096);
  config.alpha = float(args.number_in("lora-alpha", config.rank, 0, INFINITY));
  if (!(config.alpha > 0)) throw UsageError("--lora-alpha must be greater than 0, got " + args.text("lora-alpha", ""));
  config.dropout = float(args.number_in("lora-dropout", 0, 0, 1, true));
  const std::string targets = args.text("lora-targets", arch == "gpt" ? "c_attn" : "q_proj,v_proj");
  size_t start = 0;
  while (start <= targets.size()) {
    const size_t comma = std::min(targets.find(',', start), targets.size());
    const std::string name = targets.substr(start, comma - start);
    if (name.empty())
      throw UsageError("--lora-targets must be comma-separated module names (e.g. q_proj,v_proj), got '" + targets +
                       "'");
    config.targets.push_back(name);
    start = comma + 1;
  }
  return config;
}

std::unique_ptr<LoraAdapter> attach_adapter(Model& model, const std::string& path) {
  auto* network = dynamic_cast<TrainableModel*>(model.network.get());
  check(network != nullptr && !network->linear_modules().empty(), "--adapter: a '", model.network->arch(),
        "' model takes no LoRA adapters (GPT and Llama models do)");
  std::unique_ptr<LoraAdapter> adapter = load_adapter_file(path, network->linear_modules());
  network->set_linear_adapter(adapter.get());
  return adapter;
}

}  // namespace tinylm::cli
