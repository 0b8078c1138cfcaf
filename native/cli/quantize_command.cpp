// tinylm quantize: re-save a model file with compact weight matrices (f16, or int8 with per-row scales; f32
// undoes either) and report what it cost: one JSON object with the file sizes and the loss on the held-out last
// 10% of the default corpus (or on --data) before and after, so a shipped file's accuracy is measured, not hoped.
// It refuses what it cannot quantize (an n-gram model stores counts, which f16 and int8 would round), never writes
// over its input, and checks that the new bytes load before it writes them.
#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "args.hpp"
#include "common.hpp"
#include "io/safetensors.hpp"
#include "parallel/thread_pool.hpp"
#include "tinylm/error.hpp"
#include "tinylm/model.hpp"
#include "train/batcher.hpp"

namespace tinylm::cli {

namespace {

// The text eval scores: --data as a whole, else the default corpus's held-out tail.
std::vector<int32_t> scoring_tokens(const Args& args, const Tokenizer& tokenizer) {
  if (args.has("data")) return tokenizer.encode(read_text_file(args.text("data", "")));
  std::vector<int32_t> train, validation;
  split_tokens(tokenizer.encode(read_text_file(default_corpus_path())),
               float(args.number_in("val-fraction", 0.1, 0, 1, true)), &train, &validation);
  return validation;
}

// Whether two paths name one file (the same device and inode), so `--out` cannot replace `--model`.
bool same_file(const std::string& a, const std::string& b) {
  struct stat first {}, second {};
  return a == b || (stat(a.c_str(), &first) == 0 && stat(b.c_str(), &second) == 0 && first.st_dev == second.st_dev &&
                    first.st_ino == second.st_ino);
}

}  // namespace

int quantize_command(int argc, char** argv) {
  const Args args(std::vector<std::string>(argv + 2, argv + argc),
                  {"model", "out", "dtype", "data", "val-fraction", "threads"}, {});
  if (!args.has("model") || !args.has("out") || !args.has("dtype"))
    throw UsageError("--model IN, --out OUT and --dtype f32|f16|int8 are required");
  const WeightStorage storage = dtype_flag(args, "");
  const std::string in_path = args.text("model", ""), out_path = args.text("out", "");
  if (same_file(in_path, out_path))
    throw UsageError("--out names the input file '" + in_path + "': write the quantized model to a new file");

  struct stat in_status {};
  check(stat(in_path.c_str(), &in_status) == 0, "cannot read '", in_path, "': ", std::strerror(errno));
  ThreadPool pool(thread_count(args));
  Model model = load_model(in_path);
  model.network->set_thread_pool(&pool);
  check(model.network->arch() != "ngram", "'", in_path, "' is an ngram model: it stores n-gram counts, not weight ",
        "matrices, so there is nothing to quantize (f16 or int8 would round its counts)");
  const std::vector<int32_t> tokens = scoring_tokens(args, *model.tokenizer);
  check(tokens.size() >= 2, "the text has ", tokens.size(), " token(s): at least 2 are needed to score one prediction");
  const EvalStats before = model.network->evaluate(tokens);

  const std::vector<uint8_t> out_bytes = serialize_model(model, storage);
  Model reloaded = load_model_bytes(out_bytes.data(), out_bytes.size());  // scored as a user would load it
  reloaded.network->set_thread_pool(&pool);
  const EvalStats after = reloaded.network->evaluate(tokens);
  check(std::isfinite(after.loss), "the ", args.text("dtype", ""), " model's loss is not finite (", after.loss,
        "): nothing was written");
  write_file_atomic(out_path, out_bytes);

  std::cout << nlohmann::json{{"dtype", args.text("dtype", "")},
                              {"bytes_before", static_cast<uint64_t>(in_status.st_size)},
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
