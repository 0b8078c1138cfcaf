// tinylm eval: score a model (a model file or a Hugging Face checkpoint folder) on a text file (default: the
// held-out last 10% of the default corpus) and print one JSON object: {"loss", "perplexity", "accuracy", "tokens"}.
#include <cmath>
#include <iostream>

#include "args.hpp"
#include "common.hpp"
#include "lora_options.hpp"
#include "io/hf_checkpoint.hpp"
#include "parallel/thread_pool.hpp"
#include "tinylm/error.hpp"
#include "tinylm/model.hpp"
#include "train/batcher.hpp"

namespace tinylm::cli {

int eval_command(int argc, char** argv) {
  const Args args(std::vector<std::string>(argv + 2, argv + argc),
                  {"model", "data", "val-fraction", "adapter", "threads", "weights"}, {});
  if (!args.has("model")) throw UsageError("--model FILE|DIR is required");
  ThreadPool pool(thread_count(args));
  Model model = load_model_or_checkpoint(args.text("model", ""), residency_flag(args));
  model.network->set_thread_pool(&pool);
  std::unique_ptr<LoraAdapter> adapter;
  if (args.has("adapter")) adapter = attach_adapter(model, args.text("adapter", ""));
  std::vector<int32_t> tokens;
  if (args.has("data")) {
    tokens = model.tokenizer->encode(read_text_file(args.text("data", "")));
  } else {
    std::vector<int32_t> train;
    split_tokens(model.tokenizer->encode(read_text_file(default_corpus_path())),
                 float(args.number_in("val-fraction", 0.1, 0, 1, true)), &train, &tokens);
  }
  check(tokens.size() >= 2, "the text has ", tokens.size(), " token(s): at least 2 are needed to score one prediction");
  const EvalStats stats = model.network->evaluate(tokens);
  check(std::isfinite(stats.loss), "the loss of '", args.text("model", ""), "' on this text is not finite (",
        stats.loss, "): its weights hold NaN or infinite values, or produce them — HINT: use an earlier checkpoint, "
        "or retrain with a lower learning rate or --clip");
  std::cout << nlohmann::json{{"loss", stats.loss}, {"perplexity", stats.perplexity}, {"accuracy", stats.accuracy},
                              {"tokens", stats.tokens}}.dump()
            << std::endl;
  return 0;
}

}  // namespace tinylm::cli
