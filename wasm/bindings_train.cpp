// Training at the Embind seam (the seam's contract is bindings.cpp's): a Trainer over a Model's own weights, one
// optimizer step per call so the worker can stop between them; a ParameterSnapshot of the weights, so a cancelled
// or failed fine-tune can put them back; and the facts a resumed fine-tune is checked against (a checkpoint's run,
// a text's fingerprint). The Trainer class is declared in engine_trainer.hpp: LoRA's trainer (bindings_lora.cpp)
// drives one too.
//
// Exposed (JS names): ParameterSnapshot.take(model) · snapshot.restoreInto(model) · snapshot.size() ·
//   Trainer.create(model, text, options) · trainer.step() · trainer.validate() · trainer.hasValidation() ·
//   trainer.trainTokens() · trainer.validationTokens() · trainer.checkpoint(run) · trainer.resume(bytes) ·
//   checkpointRun(bytes) · textFingerprint(text)
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "engine_model.hpp"
#include "engine_trainer.hpp"
#include "seam.hpp"
#include "tinylm/error.hpp"
#include "train/batcher.hpp"
#include "train/checkpoint.hpp"
#include "train/fingerprint.hpp"
#include "train/trainer.hpp"

namespace tinylm::wasm {
namespace {

// The parameter values at one moment, so a cancelled or failed fine-tune can put the weights back.
class ParameterSnapshot {
 public:
  static val take(EngineModel& model) {
    return guarded([&] { return new ParameterSnapshot(model.trainable().parameters().values); });
  }
  val restore_into(EngineModel& model) const {
    return guarded([&] {
      std::vector<float>& values = model.trainable().parameters().values;
      check(values.size() == values_.size(), "the snapshot holds ", values_.size(), " parameters but the model has ",
            values.size());
      std::copy(values_.begin(), values_.end(), values.begin());
      model.network().reset_state();
    });
  }
  double size() const { return double(values_.size()); }

 private:
  explicit ParameterSnapshot(std::vector<float> values) : values_(std::move(values)) {}
  std::vector<float> values_;  // (P)
};

// The "tinylm_run" metadata of training-checkpoint bytes ("" without one); an Error for bytes that are not one.
val checkpoint_run_of(const val& bytes) {
  return guarded([&] {
    const std::vector<uint8_t> data = copy_from_js<uint8_t>(bytes);
    return checkpoint_run(data.data(), data.size());
  });
}

std::string text_fingerprint(const std::string& text) { return bytes_fingerprint(text.data(), text.size()); }

}  // namespace

// ---- Trainer -----------------------------------------------------------------------------------------------------

val EngineTrainer::create(EngineModel& model, const std::string& text, const TrainerOptions& options) {
  return guarded([&] { return new EngineTrainer(model.trainable(), model.tokenizer(), text, options); });
}

EngineTrainer::EngineTrainer(TrainableModel& trainable, const Tokenizer& tokenizer, const std::string& text,
                             const TrainerOptions& options) {
  const std::vector<int32_t> tokens = encode_checked(tokenizer, text, "training");
  split_tokens(tokens, options.validation_split, &train_, &validation_);
  check(options.batch_size > 0 && options.seq_len > 0, "batchSize and seqLen must be positive, got batchSize ",
        options.batch_size, ", seqLen ", options.seq_len);
  check(int64_t(train_.size()) >= int64_t(options.seq_len) + 1, "the training text has ", train_.size(),
        " tokens after the validation split but one batch window of seqLen ", options.seq_len, " needs ",
        options.seq_len + 1, ": give more text or lower seqLen");
  TrainOptions train_options;
  train_options.steps = options.steps;
  train_options.batch = options.batch_size;
  train_options.seq = options.seq_len;
  check(parse_optimizer_kind(options.optimizer, &train_options.optimizer.kind),
        "optimizer must be adam, adamw, rmsprop or sgd, got '", options.optimizer, "'");
  check(options.learning_rate > 0, "learningRate must be positive, got ", options.learning_rate);
  train_options.optimizer.learning_rate = options.learning_rate;
  train_options.optimizer.weight_decay = options.weight_decay;
  train_options.clip = options.clip;
  train_options.warmup_steps = options.warmup_steps;
  train_options.cosine = options.cosine;
  train_options.eval_batches = options.eval_batches;
  train_options.seed = static_cast<uint64_t>(options.seed);
  trainer_ = std::make_unique<Trainer>(trainable, train_, validation_, train_options);
}

val EngineTrainer::step() {
  return guarded([&] {
    const StepReport report = trainer_->step();
    return StepResult{report.step, report.loss, report.learning_rate, report.grad_norm, double(report.tokens)};
  });
}

val EngineTrainer::validate() {
  return guarded([&] {
    const EvalStats stats = trainer_->validate();
    return EvalResult{stats.loss, stats.perplexity, stats.accuracy, double(stats.tokens)};
  });
}

val EngineTrainer::checkpoint(const std::string& run) const {
  return guarded([&] {
    const std::vector<uint8_t> bytes = serialize_checkpoint(*trainer_, run);
    return copy_to_js(bytes.data(), bytes.size());
  });
}

val EngineTrainer::resume(const val& bytes) {
  return guarded([&] {
    const std::vector<uint8_t> data = copy_from_js<uint8_t>(bytes);
    restore_checkpoint(*trainer_, data.data(), data.size());
  });
}

}  // namespace tinylm::wasm

EMSCRIPTEN_BINDINGS(tinylm_train) {
  using namespace emscripten;
  using namespace tinylm::wasm;

  value_object<TrainerOptions>("TrainerOptions")
      .field("steps", &TrainerOptions::steps)
      .field("batchSize", &TrainerOptions::batch_size)
      .field("seqLen", &TrainerOptions::seq_len)
      .field("learningRate", &TrainerOptions::learning_rate)
      .field("optimizer", &TrainerOptions::optimizer)
      .field("weightDecay", &TrainerOptions::weight_decay)
      .field("clip", &TrainerOptions::clip)
      .field("warmupSteps", &TrainerOptions::warmup_steps)
      .field("cosine", &TrainerOptions::cosine)
      .field("validationSplit", &TrainerOptions::validation_split)
      .field("evalBatches", &TrainerOptions::eval_batches)
      .field("seed", &TrainerOptions::seed);
  value_object<StepResult>("StepResult")
      .field("step", &StepResult::step)
      .field("loss", &StepResult::loss)
      .field("learningRate", &StepResult::learning_rate)
      .field("gradNorm", &StepResult::grad_norm)
      .field("tokens", &StepResult::tokens);
  class_<ParameterSnapshot>("ParameterSnapshot")
      .class_function("take", &ParameterSnapshot::take)
      .function("restoreInto", &ParameterSnapshot::restore_into)
      .function("size", &ParameterSnapshot::size);
  class_<EngineTrainer>("Trainer")
      .class_function("create", &EngineTrainer::create)
      .function("step", &EngineTrainer::step)
      .function("validate", &EngineTrainer::validate)
      .function("hasValidation", &EngineTrainer::has_validation)
      .function("trainTokens", &EngineTrainer::train_tokens)
      .function("validationTokens", &EngineTrainer::validation_tokens)
      .function("checkpoint", &EngineTrainer::checkpoint)
      .function("resume", &EngineTrainer::resume);
  function("checkpointRun", &checkpoint_run_of);
  function("textFingerprint", &text_fingerprint);
}
