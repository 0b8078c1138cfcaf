// tinylm convert DIR --out FILE [--dtype f32|f16|int8]: a Hugging Face checkpoint folder (GPT-2 or Llama: config.json,
// model.safetensors or shards, tokenizer.json) re-saved as one tinylm model file — the network, its tokenizer and
// its config in a single safetensors file that every tinylm build (the wasm one included) loads. Weight matrices are
// stored as --dtype says (f32, the default, keeps the values as loaded; f16 and int8 as `quantize` stores them).
// Prints one JSON object: {"arch", "parameters", "dtype", "bytes", "out"}.
#include <iostream>

#include "args.hpp"
#include "common.hpp"
#include "io/hf_checkpoint.hpp"
#include "io/safetensors.hpp"
#include "tinylm/error.hpp"
#include "tinylm/model.hpp"

namespace tinylm::cli {

int convert_command(int argc, char** argv) {
  if (argc < 3 || std::string(argv[2]).rfind("--", 0) == 0)
    throw UsageError("convert needs the checkpoint folder first: tinylm convert DIR --out FILE");
  const std::string dir = argv[2];
  const Args args(std::vector<std::string>(argv + 3, argv + argc), {"out", "dtype"}, {});
  if (!args.has("out")) throw UsageError("--out FILE is required");
  const std::string dtype = args.text("dtype", "f32");
  const WeightStorage storage = dtype_flag(args, "f32");
  check(is_hf_checkpoint(dir), "'", dir, "' is not a Hugging Face checkpoint folder (a directory with config.json)");

  Model model = load_hf_model(dir);
  const std::vector<uint8_t> bytes = serialize_model(model, storage);
  const std::string out = args.text("out", "");
  write_file_atomic(out, bytes);
  auto& network = dynamic_cast<TrainableModel&>(*model.network);  // both architectures are trainable
  std::cout << nlohmann::json{{"arch", network.arch()},
                              {"parameters", network.parameters().values.size()},
                              {"dtype", dtype},
                              {"bytes", bytes.size()},
                              {"out", out}}
                   .dump()
            << std::endl;
  return 0;
}

}  // namespace tinylm::cli
