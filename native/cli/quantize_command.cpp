// tinylm quantize: re-save a model file with compact weight matrices (f16, or int8 with per-row scales; f32
// undoes either) and report what it cost: one JSON object with the file sizes and the loss on the held-out last
// 10% of the default corpus (or on --data) before and after, so a shipped file's accuracy is measured, not hoped.
#include <cstdio>
#include <iostream>

#include "args.hpp"
#include "common.hpp"
#include "io/safetensors.hpp"
#include "tinylm/error.hpp"
#include "tinylm/model.hpp"
#include "train/batcher.hpp"

namespace tinylm::cli {

namespace {

WeightStorage parse_weight_storage(const std::string& dtype) {
  if (dtype == "f32") return WeightStorage::F32;
  if (dtype == "f16") return WeightStorage::F16;
  if (dtype == "int8") return WeightStorage::Int8;
  throw UsageError("--dtype must be f32, f16 or int8, got '" + dtype + "'");
}

// The text eval scores: --data as a whole, else the default corpus's held-out tail.
std::vector<int32_t> scoring_tokens(const Args& args, const Tokenizer& tokenizer) {
  if (args.has("data")) return tokenizer.encode(read_text_file(args.text("data", "")));
  std::vector<int32_t> train, validation;
  split_tokens(tokenizer.encode(read_text_file(default_corpus_path())), float(args.number("val-fraction", 0.1)),
               &train, &validation);
  return validation;
}

}  // namespace

int quantize_command(int argc, char** argv) {
  const Args args(std::vector<std::string>(argv + 2, argv + argc), {"model", "out", "dtype", "data", "val-fraction"},
                  {});
  if (!args.has("model") || !args.has("out") || !args.has("dtype"))
    throw UsageError("--model IN, --out OUT and --dtype f32|f16|int8 are required");
  const WeightStorage storage = parse_weight_storage(args.text("dtype", ""));
  const std::string in_path = args.text("model", ""), out_path = args.text("out", "");

  const std::vector<uint8_t> in_bytes = read_file_bytes(in_path);
  Model model = load_model(in_path);
  const std::vector<int32_t> tokens = scoring_tokens(args, *model.tokenizer);
  check(tokens.size() >= 2, "the text has ", tokens.size(), " token(s): at least 2 are needed to score one prediction");
  const EvalStats before = model.network->evaluate(tokens);

  const std::vector<uint8_t> out_bytes = serialize_model(model, storage);
  write_file_atomic(out_path, out_bytes);
  Model reloaded = load_model(out_path);  // scored as a user would load it
  const EvalStats after = reloaded.network->evaluate(tokens);

  std::cout << nlohmann::json{{"dtype", args.text("dtype", "")},
                              {"bytes_before", in_bytes.size()},
                              {"bytes_after", out_bytes.size()},
                              {"loss_before", before.loss},
                              {"loss_after", after.loss},
                              {"relative_loss_change", (after.loss - before.loss) / before.loss},
                              {"tokens", after.tokens}}
                   .dump()
            << std::endl;
  return 0;
}

}  // namespace tinylm::cli
