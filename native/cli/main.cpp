// tinylm — train, sample and score language models from the command line.
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <stdexcept>

#include "args.hpp"
#include "common.hpp"
#include "tinylm/error.hpp"

namespace {

const char* kUsage = R"(usage:
  tinylm train    [--arch lstm|gru|rnn|rnn_tanh|rnn_relu|gpt|ngram] [--layers N] [--hidden H] [--embed E]
                  [--heads NH --context T [--no-bias] [--gelu tanh|exact] (gpt; --seq ≤ --context)]
                  [--data FILE] [--tokenizer char|word|bpe] [--vocab N] [--charset ascii+typographic (char)]
                  [--steps N] [--batch B] [--seq T]
                  [--optimizer adam|adamw|rmsprop|sgd] [--lr X] [--momentum X] [--nesterov] [--weight-decay X]
                  [--clip X] [--warmup N] [--cosine] [--dropout X] [--stateful] [--seed S]
                  [--eval-every N] [--eval-batches N] [--patience N] [--val-fraction X] [--time-limit SECONDS]
                  [--order N (ngram)] [--samples N] [--log FILE] [--quiet] [--out FILE] [--threads N]
                  [--checkpoint-every N --checkpoint FILE] [--resume FILE]   (exact resume: the same flags and
                  text continue a checkpointed run bit for bit)
  tinylm generate --model FILE|DIR [--prompt TEXT] [--max-tokens N] [--temperature X] [--top-k K] [--top-p P]
                  [--repetition-penalty X] [--repetition-window N] [--seed S] [--stop TEXT]... [--stop-at-eos]
                  [--fuse FILE --fuse-weight W] [--beams K [--length-penalty X]]
                  [--step-precision float|half|int8] [--weights f32|f16|int8] [--adapter FILE] [--threads N]
  tinylm eval     --model FILE|DIR [--data FILE] [--weights f32|f16|int8] [--adapter FILE] [--threads N]
                  (--weights f16|int8: a GPT's or Llama's matrices held only in that form, a half or a quarter of
                  the memory)
  tinylm quantize --model IN --out OUT --dtype f32|f16|int8 [--data FILE] [--threads N]   (re-save compact;
                  reports the validation loss before and after)
  tinylm convert  DIR --out FILE [--dtype f32|f16|int8]   (a Hugging Face checkpoint folder — GPT-2 or Llama —
                  as one tinylm model file)
  tinylm train    --model FILE|DIR [--data FILE] [--steps N] …   (fine-tune a model file or checkpoint folder
                  with its own tokenizer)
                  [--lora-rank R [--lora-alpha A] [--lora-dropout P] [--lora-targets q_proj,v_proj]]
                  (LoRA: the model stays frozen and --out saves a PEFT-compatible adapter.safetensors)
                  [--dtype f32|f16|int8]   (how --out stores its matrices; an adapter f32 or f16)
  tinylm merge    --model FILE|DIR --adapter FILE --out FILE [--dtype f32|f16|int8]   (fold a LoRA adapter into
                  its base model, saved as one tinylm model file)
DIR is a Hugging Face checkpoint folder as published: config.json, model.safetensors (or shards and
model.safetensors.index.json), tokenizer.json. GPT2LMHeadModel and LlamaForCausalLM (SmolLM2, TinyStories).
Without --data, train, eval and quantize use the default corpus (Moby Dick; eval and quantize score its held-out
last 10%). --threads N (default: $TINYLM_THREADS, else every hardware thread) sets the threads each command
computes with; results are the same, bit for bit, whatever N is.
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace tinylm::cli;
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  try {
    if (!std::strcmp(argv[1], "train")) return train_command(argc, argv);
    if (!std::strcmp(argv[1], "generate")) return generate_command(argc, argv);
    if (!std::strcmp(argv[1], "eval")) return eval_command(argc, argv);
    if (!std::strcmp(argv[1], "quantize")) return quantize_command(argc, argv);
    if (!std::strcmp(argv[1], "convert")) return convert_command(argc, argv);
    if (!std::strcmp(argv[1], "merge")) return merge_command(argc, argv);
    if (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "help")) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    throw UsageError(std::string("unknown command '") + argv[1] + "'");
  } catch (const UsageError& error) {
    std::fprintf(stderr, "tinylm: %s\n%s", error.what(), kUsage);
    return 2;
  } catch (const tinylm::Error& error) {
    std::fprintf(stderr, "tinylm: error: %s\n", error.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "tinylm: error: out of memory (try a smaller model, batch or text)\n");
    return 1;
  } catch (const std::length_error&) {  // a container asked for more than it can address
    std::fprintf(stderr, "tinylm: error: out of memory: a buffer larger than this machine can address was "
                         "requested (try a smaller model, batch or text)\n");
    return 1;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "tinylm: error: %s\n", error.what());
    return 1;
  }
}
