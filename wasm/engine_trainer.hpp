// The Trainer handle JavaScript holds (Embind class "Trainer"), declared for the two binding files that make one:
// bindings_train.cpp trains a Model's own weights with it, bindings_lora.cpp a LoRA adapter beside them (its
// LoraTrainer forwards to one). Members are defined, and the class and its value objects registered, in
// bindings_train.cpp. Shared across translation units, so it lives in tinylm::wasm rather than an anonymous namespace.
#pragma once
#include <emscripten/val.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine_model.hpp"
#include "tinylm/model.hpp"
#include "tinylm/tokenizer.hpp"
#include "train/trainer.hpp"

namespace tinylm::wasm {

struct TrainerOptions {
  int steps = 100;
  int batch_size = 16;
  int seq_len = 64;
  float learning_rate = 1e-3f;
  std::string optimizer = "adam";
  float weight_decay = 0;
  float clip = 1.0f;
  int warmup_steps = 0;
  bool cosine = false;
  float validation_split = 0.1f;
  int eval_batches = 8;
  double seed = 1;
};

struct StepResult {
  int step = 0;
  float loss = 0, learning_rate = 0, grad_norm = 0;
  double tokens = 0;
};

class EngineTrainer {
 public:
  static val create(EngineModel& model, const std::string& text, const TrainerOptions& options);

  // Trains `trainable` (the model, or a LoRA adapter beside it: bindings_lora.cpp) on text `tokenizer` encodes.
  EngineTrainer(TrainableModel& trainable, const Tokenizer& tokenizer, const std::string& text,
                const TrainerOptions& options);

  val step();  // a StepResult
  bool has_validation() const { return trainer_->has_validation(); }
  val validate();  // an EvalResult over the validation split
  double train_tokens() const { return double(train_.size()); }
  double validation_tokens() const { return double(validation_.size()); }

  // The run so far as training-checkpoint bytes (train/checkpoint.hpp), `run` kept in its metadata; resume(bytes)
  // continues it, bit for bit, in a trainer created as this one was (and changes nothing when it refuses).
  val checkpoint(const std::string& run) const;
  val resume(const val& bytes);

 private:
  std::vector<int32_t> train_, validation_;  // must outlive trainer_, which keeps references to them
  std::unique_ptr<Trainer> trainer_;
};

}  // namespace tinylm::wasm
