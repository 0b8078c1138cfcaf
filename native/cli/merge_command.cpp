// tinylm merge --model FILE|DIR --adapter FILE --out FILE [--dtype f32|f16|int8]: folds a LoRA adapter into its base
// model (W += alpha/r · B·A on every adapted linear) and saves the result as one tinylm model file, which then
// generates without the adapter's extra work. Prints one JSON object: {"arch", "adapted", "dtype", "bytes", "out"}.
#include <iostream>

#include "args.hpp"
#include "common.hpp"
#include "io/hf_checkpoint.hpp"
#include "io/safetensors.hpp"
#include "lora/adapter_file.hpp"
#include "lora/lora_model.hpp"
#include "tinylm/error.hpp"
#include "tinylm/model.hpp"

namespace tinylm::cli {

int merge_command(int argc, char** argv) {
  const Args args(std::vector<std::string>(argv + 2, argv + argc), {"model", "adapter", "out", "dtype"}, {});
  for (const char* flag : {"model", "adapter", "out"})
    if (!args.has(flag)) throw UsageError(std::string("--") + flag + " is required");
  const std::string dtype = args.text("dtype", "f32");
  const WeightStorage storage = dtype_flag(args, "f32");

  Model model = load_model_or_checkpoint(args.text("model", ""));
  auto* network = dynamic_cast<TrainableModel*>(model.network.get());
  check(network != nullptr && !network->linear_modules().empty(), "merge: a '", model.network->arch(),
        "' model takes no LoRA adapters (GPT and Llama models do)");
  const std::unique_ptr<LoraAdapter> adapter = load_adapter_file(args.text("adapter", ""), network->linear_modules());
  merge_lora(*network, *adapter);
  const std::vector<uint8_t> bytes = serialize_model(model, storage);
  const std::string out = args.text("out", "");
  write_file_atomic(out, bytes);
  std::cout << nlohmann::json{{"arch", network->arch()},
                              {"adapted", adapter->terms().size()},
                              {"dtype", dtype},
                              {"bytes", bytes.size()},
                              {"out", out}}
                   .dump()
            << std::endl;
  return 0;
}

}  // namespace tinylm::cli
