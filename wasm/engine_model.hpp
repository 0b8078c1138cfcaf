// The Model handle JavaScript holds (Embind class "Model"), declared for every binding file that takes one: its
// members are defined by area — loading, creating, encoding, scoring and stepping in bindings.cpp, Hugging Face
// folders in bindings_hf.cpp, the live views' inspect() in bindings_inspect.cpp — and the Trainer
// (bindings_train.cpp), the Generator (bindings_generate.cpp) and LoRA adapters (bindings_lora.cpp) take it.
// Its value objects (ModelInfo, CreateOptions, EvalResult) are registered with it, in bindings.cpp.
// Shared across translation units, so it lives in tinylm::wasm rather than an anonymous namespace.
#pragma once
#include <emscripten/val.h>

#include <cstdint>
#include <string>
#include <vector>

#include "model_handle.hpp"
#include "tinylm/error.hpp"
#include "tinylm/model.hpp"
#include "tinylm/tokenizer.hpp"

namespace tinylm::wasm {

using emscripten::val;

struct ModelInfo {
  std::string arch;            // "lstm" | "gru" | "rnn_tanh" | "rnn_relu" | "gpt" | "ngram"
  int vocab_size = 0;          // V
  int context_size = 0;        // 0 = unbounded
  double parameter_count = 0;  // 0 for models without a parameter block (n-gram)
  bool trainable = false;      // false also for a GPT or Llama whose matrices are held as F16 or int8
  std::string weights = "f32"; // how its matrices are held: "f32" | "f16" | "int8" (loadAs, loadHf)
  std::string tokenizer_kind;  // "char" | "word" | "bpe"
  std::string config_json;     // the model file's config, as stored
};

struct CreateOptions {
  std::string arch = "lstm";       // "lstm" | "gru" | "rnn_tanh" | "rnn_relu" | "gpt"
  int layers = 2;
  int hidden = 256;                // recurrent: hidden size H
  int embed = 64;                  // recurrent: embedding size E; gpt: model width C
  int heads = 4;                   // gpt: attention heads (C must divide by it)
  int context = 128;               // gpt: positions attended over
  float dropout = 0;
  double seed = 1;
  std::string tokenizer = "char";  // "char" | "word" | "bpe"
  bool lowercase = false;
  int max_vocab = 0;               // char/word: 0 = all seen; bpe: the vocabulary size to learn (0 = 512)
};

// Model.evaluate, Evaluation.stats and Trainer.validate all answer with one.
struct EvalResult {
  double loss = 0, perplexity = 0, accuracy = 0, tokens = 0;
};

// The text's tokens; an Error naming `purpose` ("training", "evaluation", …) for an empty text.
std::vector<int32_t> encode_checked(const Tokenizer& tokenizer, const std::string& text, const char* purpose);

// weights "f32" | "f16" | "int8": how a GPT's or Llama's matrices are held (tinylm::Residency); an Error otherwise.
Residency residency_named(const std::string& weights);

class EngineModel : public ModelHandle {
 public:
  explicit EngineModel(Model model);

  static val load(const val& bytes);
  // weights "f32" | "f16" | "int8": how a GPT's or Llama's matrices are held (tinylm::Residency); f16 and int8
  // generate and evaluate in a half or a quarter of the memory, and refuse training and serialize().
  static val load_as(const val& bytes, const std::string& weights);
  // A Hugging Face checkpoint folder (io/hf_checkpoint.hpp) from the files JS holds (js_files.hpp); `label` names
  // it in messages (a URL or "hf:owner/name"), `max_context` caps a Llama's positions, `weights` as for loadAs
  // (HfLoadOptions). bindings_hf.cpp.
  static val load_hf(const val& files, const std::string& label, int max_context, const std::string& weights);
  // A fresh model of `options` whose tokenizer is fitted on `text`.
  static val create(const CreateOptions& options, const std::string& text);

  // What a chat needs from a Hugging Face checkpoint, or null for a tinylm model file:
  //   { architecture, chatTemplate, bosToken, eosToken, endTokens: string[] }
  // endTokens: the texts of the tokens that end a turn — the tokenizer's eos_token and generation_config.json's
  // eos_token_id (one id or a list), each once.
  val checkpoint_info() const { return checkpoint_; }

  // dtype: "f32" | "f16" | "int8", how the weight matrices are stored.
  val serialize(const std::string& dtype) const;
  val info() const;
  val encode(const std::string& text) const;
  val decode(const val& ids) const;
  val evaluate(const std::string& text);
  // Evaluation in chunks (worker.ts advances it between cancellation checks): an Evaluation handle.
  val start_evaluation(const std::string& text);
  val reset_state();
  // Next-token logits (V) after feeding one more token to the generation state.
  val step_logits(int token);
  // What the docs site's live views draw (bindings_inspect.cpp).
  val inspect(const std::string& text);
  // The weights as held, with config and tokenizer (train/fingerprint.hpp): what a resumed fine-tune must start from.
  val fingerprint();

  // The model's parameter block; an Error for a model without one (n-gram).
  TrainableModel& trainable() {
    auto* trainable = dynamic_cast<TrainableModel*>(model_.network.get());
    check(trainable != nullptr, "a '", model_.network->arch(), "' model has no trainable parameters");
    return *trainable;
  }
  LanguageModel& network() override { return *model_.network; }
  const Tokenizer& tokenizer() const override { return *model_.tokenizer; }

 private:
  Model model_;
  val checkpoint_ = val::null();  // checkpoint_info()
};

}  // namespace tinylm::wasm
