// tinylm generate: stream text from a model file or a Hugging Face checkpoint folder to stdout, optionally blended
// with a second model (--fuse). With --beams K (and --length-penalty) it prints beam search's best continuation
// once the search ends (generate/beam_search.hpp); sampling options do not apply then.
#include <climits>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "args.hpp"
#include "common.hpp"
#include "lora_options.hpp"
#include "generate/beam_search.hpp"
#include "generate/fusion.hpp"
#include "generate/generator.hpp"
#include "io/hf_checkpoint.hpp"
#include "models/gpt.hpp"
#include "models/llama.hpp"
#include "models/recurrent_lm.hpp"
#include "parallel/thread_pool.hpp"
#include "tinylm/error.hpp"
#include "tinylm/model.hpp"

namespace tinylm::cli {

namespace {

// --step-precision float|half|int8: which copy of the weights step() reads (the default depends on the CPU and on
// the file's dtype; see RecurrentLM::StepPrecision, GptLM::StepPrecision and LlamaLM's).
// Pinning it makes output comparable across machines and with the wasm build, which generates from float weights
// (or, for a recurrent int8 file, int8 ones).
void set_step_precision(LanguageModel& network, const std::string& precision) {
  if (precision != "float" && precision != "half" && precision != "int8")
    throw UsageError("--step-precision must be float, half or int8, got '" + precision + "'");
  if (auto* recurrent = dynamic_cast<RecurrentLM*>(&network)) {
    using Precision = RecurrentLM::StepPrecision;
    recurrent->set_step_precision(precision == "float"  ? Precision::Float
                                  : precision == "half" ? Precision::Half
                                                        : Precision::Int8);
    return;
  }
  if (auto* gpt = dynamic_cast<GptLM*>(&network)) {
    using Precision = GptLM::StepPrecision;
    gpt->set_step_precision(precision == "float"  ? Precision::Float
                            : precision == "half" ? Precision::Half
                                                  : Precision::Int8);
    return;
  }
  if (auto* llama = dynamic_cast<LlamaLM*>(&network)) {
    using Precision = LlamaLM::StepPrecision;
    llama->set_step_precision(precision == "float"  ? Precision::Float
                              : precision == "half" ? Precision::Half
                                                    : Precision::Int8);
    return;
  }
  throw UsageError("--step-precision applies to recurrent, gpt and llama models, not " + network.arch());
}

}  // namespace

int generate_command(int argc, char** argv) {
  const Args args(std::vector<std::string>(argv + 2, argv + argc),
                  {"model", "prompt", "max-tokens", "temperature", "top-k", "top-p", "repetition-penalty",
                   "repetition-window", "seed", "stop", "fuse", "fuse-weight", "step-precision", "adapter",
                   "threads", "weights", "beams", "length-penalty"},
                  {"stop-at-eos"});
  if (!args.has("model")) throw UsageError("--model FILE|DIR is required");
  ThreadPool pool(thread_count(args));
  GenerateOptions options;
  options.max_tokens = args.integer_in("max-tokens", 200, 0, INT32_MAX);
  options.sampling.temperature = float(args.number_in("temperature", 1.0, 0, INFINITY));
  options.sampling.top_k = args.integer_in("top-k", 0, 0, INT32_MAX);
  options.sampling.top_p = float(args.number_in("top-p", 1.0, 0, 1));
  options.sampling.repetition_penalty = float(args.number_in("repetition-penalty", 1.0, 0, INFINITY));
  options.sampling.repetition_window = args.integer_in("repetition-window", 0, 0, INT32_MAX);
  options.sampling.seed = static_cast<uint64_t>(args.integer_in("seed", 0, 0, INT32_MAX));
  options.stop = args.all("stop");
  options.stop_at_eos = args.flag("stop-at-eos");
  const float fuse_weight = float(args.number_in("fuse-weight", 0.5, 0, 1));
  Model model = load_model_or_checkpoint(args.text("model", ""), residency_flag(args));
  model.network->set_thread_pool(&pool);
  if (args.has("step-precision")) set_step_precision(*model.network, args.text("step-precision", ""));
  std::unique_ptr<LoraAdapter> adapter;
  if (args.has("adapter")) adapter = attach_adapter(model, args.text("adapter", ""));

  LanguageModel* network = model.network.get();
  Model fused_with;
  std::unique_ptr<FusedModel> fusion;
  if (args.has("fuse")) {
    fused_with = load_model_or_checkpoint(args.text("fuse", ""));
    fused_with.network->set_thread_pool(&pool);
    check(fused_with.tokenizer->to_json() == model.tokenizer->to_json(),
          "--fuse: the two models were trained with different tokenizers; fusion needs the same one");
    fusion = std::make_unique<FusedModel>(*model.network, *fused_with.network, fuse_weight);
    network = fusion.get();
  }

  const std::string prompt = args.text("prompt", "");
  if (args.has("beams") || args.has("length-penalty")) {
    for (const char* sampling : {"temperature", "top-k", "top-p", "repetition-penalty", "repetition-window", "seed"}) {
      if (args.has(sampling))
        throw UsageError(std::string("--") + sampling + " samples; --beams searches deterministically: use one or the other");
    }
    BeamSearchOptions beam_options;
    beam_options.beams = args.integer_in("beams", 4, 1, 64);
    beam_options.length_penalty = float(args.number_in("length-penalty", 1.0, -INFINITY, INFINITY));
    beam_options.max_tokens = options.max_tokens;
    beam_options.stop = options.stop;
    beam_options.stop_at_eos = options.stop_at_eos;
    BeamSearch search(*network, *model.tokenizer, beam_options);
    search.begin(prompt);
    search.prefill(INT32_MAX);
    while (search.advance()) {}
    const std::string& text = search.results().at(0).text;
    std::fwrite(prompt.data(), 1, prompt.size(), stdout);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
    return 0;
  }
  Generator generator(*network, *model.tokenizer, options);
  generator.start(prompt);
  std::fwrite(prompt.data(), 1, prompt.size(), stdout);
  std::string piece;
  bool more = true;
  while (more) {
    more = generator.next(&piece);
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
  }
  std::fputc('\n', stdout);
  return 0;
}

}  // namespace tinylm::cli
