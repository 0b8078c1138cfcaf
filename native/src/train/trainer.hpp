// Trainer: one optimizer step per call, so the CLI, the wasm bindings and the worker each own their loop and can
// report progress or stop between steps (STYLE rule 5).
//   step():      batch → forward → backward → clip → schedule → update. A non-finite loss or gradient throws
//                Error before the update. An update can itself blow the weights up (finite gradient, too large a
//                step) so that the NEXT forward is not finite: the trainer keeps the weights from before the last
//                update and, when a loss turns non-finite, restores them — the parameters then hold the last
//                weights whose loss was finite, never ones that produce NaN logits.
//   memory:      the constructor refuses (LimitError, OutOfMemory) a run whose training_step_bytes exceed
//                options.memory_cap, before any buffer is sized from the batch.
//   validate():  mean loss / perplexity / accuracy over a fixed set of random windows of the held-out tokens
//                (the same windows every call, zero initial state), without disturbing a carried training state.
//   early stopping: after `patience` validations without improvement, should_stop() turns true.
#pragma once
#include <cstdint>
#include <vector>

#include "memory_limits.hpp"
#include "tinylm/model.hpp"
#include "tinylm/rng.hpp"
#include "train/batcher.hpp"
#include "train/optimizer.hpp"

namespace tinylm {

struct TrainOptions {
  int steps = 1000;
  int batch = 32;               // B
  int seq = 64;                 // T
  OptimizerOptions optimizer;
  float clip = 0.0f;            // max global gradient norm; 0 = off
  int warmup_steps = 0;
  bool cosine = false;          // cosine decay to min_lr_ratio·lr at `steps`
  float min_lr_ratio = 0.1f;
  int eval_batches = 50;        // validation windows of (batch, seq)
  int patience = 0;             // validations without improvement before stopping; 0 = never stop early
  bool stateful = false;        // sequential windows with carried state (recurrent models)
  uint64_t seed = 1;
  uint64_t memory_cap = tinylm::memory_cap();  // bytes a run may hold (the wasm heap cap; natively physical memory)
};

// Bytes a run of `model` with these options holds: parameters, gradients, optimizer moments, the trainer's copy of
// the last good weights, the batch, and forward_bytes(B, T); saturating 64-bit arithmetic (memory_limits.hpp).
uint64_t training_step_bytes(const TrainableModel& model, const TrainOptions& options);

struct StepReport {
  int step = 0;            // steps completed, this one included
  float loss = 0;          // mean training loss of this step's batch
  float learning_rate = 0;
  float grad_norm = 0;     // before clipping
  int64_t tokens = 0;      // B·T
};

class Trainer {
 public:
  // Keeps references to model and token vectors: they must outlive the trainer.
  Trainer(TrainableModel& model, const std::vector<int32_t>& train_tokens,
          const std::vector<int32_t>& validation_tokens, const TrainOptions& options);

  StepReport step();
  bool has_validation() const { return has_validation_; }
  EvalStats validate();  // Error if !has_validation()
  // Records a validation result for early stopping; returns true if it is the best so far.
  bool record_validation(double loss);
  bool should_stop() const;
  int steps_done() const { return steps_done_; }
  double best_validation_loss() const { return best_validation_loss_; }
  const TrainOptions& options() const { return options_; }
  TrainableModel& model() { return model_; }

  // Everything the next step() depends on besides the model's parameters and the token streams: the optimizer's
  // moments and count, the step, early stopping's record, the RNG (batches, dropout), the data cursor and a
  // recurrent model's carried state. train/checkpoint.hpp saves it with the parameters; restore() continues a run
  // bit for bit.
  struct Progress {
    std::vector<float> first_moment, second_moment, carried_state;
    int64_t optimizer_steps = 0, batcher_cursor = 0;
    int steps_done = 0, validations_since_best = 0;
    double best_validation_loss = 1e300;
    uint32_t rng_state[4] = {0, 0, 0, 0};
  };
  Progress progress() const;
  void restore(const Progress& progress);

 private:
  TrainableModel& model_;
  const std::vector<int32_t>& validation_tokens_;
  TrainOptions options_;
  Batcher batcher_;
  Optimizer optimizer_;
  LrSchedule schedule_;
  Rng rng_;
  bool has_validation_ = false;
  int steps_done_ = 0;
  double best_validation_loss_ = 1e300;
  int validations_since_best_ = 0;
  std::vector<int32_t> inputs_, targets_;              // (B,T)
  std::vector<float> before_last_update_;              // (P) the weights the last update started from
};

}  // namespace tinylm
