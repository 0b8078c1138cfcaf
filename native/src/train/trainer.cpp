#include "train/trainer.hpp"

#include <algorithm>
#include <cmath>

#include "parallel/parallel_kernels.hpp"
#include "tensor.hpp"
#include "tinylm/error.hpp"

namespace tinylm {

namespace {
// Callers initialise the weights from Rng(seed) (tinylm train, the bindings). Drawing the windows from that same
// stream made every batch's start positions a function of particular initial weights (u32 k set both weight k
// and a window start); a stream of its own keeps data order and initialisation independent, as in PyTorch.
constexpr uint64_t kBatchStream = 0xBA7C4E5ull;
// The model, once its run is known to fit options.memory_cap: checked in the member initialisers, before the
// optimizer allocates its moments and the batcher its windows.
TrainableModel& fitting_in_memory(TrainableModel& model, const TrainOptions& options) {
  check_memory(training_step_bytes(model, options), options.memory_cap, LimitKind::OutOfMemory,
               "training with batch " + std::to_string(options.batch) + " × seqLen " + std::to_string(options.seq),
               "use a smaller batch or sequence length, or a smaller model");
  return model;
}

}  // namespace

uint64_t training_step_bytes(const TrainableModel& model, const TrainOptions& options) {
  const uint64_t P = const_cast<TrainableModel&>(model).parameters().table.size();
  const bool two_moments = options.optimizer.kind != OptimizerKind::Sgd;
  // Per parameter: value, gradient, last good value, one or two moments (4 bytes each), the decay mask (1 byte).
  const uint64_t per_parameter = 4 * (3 + (two_moments ? 2 : 1)) + 1;
  const uint64_t batch = saturating_product(2, options.batch, options.seq, sizeof(int32_t));  // inputs, targets
  return saturating_add(saturating_add(saturating_mul(P, per_parameter), batch),
                        model.forward_bytes(options.batch, options.seq));
}

Trainer::Trainer(TrainableModel& model, const std::vector<int32_t>& train_tokens,
                 const std::vector<int32_t>& validation_tokens, const TrainOptions& options)
    : model_(fitting_in_memory(model, options)),
      validation_tokens_(validation_tokens),
      options_(options),
      batcher_(train_tokens, options.batch, options.seq, options.stateful),
      optimizer_(options.optimizer, model.parameters().table),
      rng_(options.seed ^ kBatchStream) {
  check(options.steps >= 0, "steps must be non-negative, got ", options.steps);
  check(options.clip >= 0, "clip must be non-negative, got ", options.clip);
  const int context = model.context_size();  // 0: unbounded (recurrent)
  check(context == 0 || options.seq <= context, "seqLen ", options.seq, " is longer than the model's context of ",
        context, " tokens: use seqLen ≤ ", context);
  schedule_.base = options.optimizer.learning_rate;
  schedule_.warmup_steps = options.warmup_steps;
  schedule_.cosine = options.cosine;
  schedule_.total_steps = options.steps;
  schedule_.min_ratio = options.min_lr_ratio;
  has_validation_ = int64_t(validation_tokens.size()) > options.seq && options.eval_batches > 0;
  inputs_.resize(int64_t(options.batch) * options.seq);
  targets_.resize(inputs_.size());
  model_.reset_train_state();
}

StepReport Trainer::step() {
  Parameters& params = model_.parameters();
  const bool wrapped = batcher_.next(inputs_.data(), targets_.data(), rng_);
  // Random windows are independent: each starts from a zero state. Sequential lanes carry it until they wrap.
  if (!options_.stateful || wrapped) model_.reset_train_state();

  ThreadPool* pool = model_.thread_pool();
  zero_grads(pool, params.grads);
  const float loss = model_.forward(inputs_.data(), targets_.data(), options_.batch, options_.seq, true, &rng_);
  if (!std::isfinite(loss)) {
    // The weights the last update produced give a non-finite loss: back to the ones it started from, whose loss
    // (that step's) was finite.
    const bool restored = !before_last_update_.empty();
    if (restored) params.values = before_last_update_;
    fail("training loss became ", loss, " at step ", steps_done_ + 1, "; the parameters are ",
         restored ? "restored to those before step " + std::to_string(steps_done_) + "'s update, the last whose loss was finite"
                  : std::string("unchanged (the initial ones)"),
         ". Lower the learning rate or set --clip");
  }
  model_.backward();
  const float grad_norm = clip_grad_norm(pool, params.grads, options_.clip);
  check(std::isfinite(grad_norm), "gradient norm became ", grad_norm, " at step ", steps_done_ + 1,
        "; the parameters keep their values from before this step. Lower the learning rate or set --clip");
  const float learning_rate = schedule_.at(steps_done_);
  // The copy split over the pool: serial, it was the longest stretch of a recurrent step outside a parallel
  // region (3.6 MB for C1). Same size every step: no allocation after the first.
  before_last_update_.resize(params.values.size());
  const float* values = params.values.data();
  float* saved = before_last_update_.data();
  parallel_elementwise(pool, int64_t(params.values.size()), [&](int64_t begin, int64_t end) {
    std::copy(values + begin, values + end, saved + begin);
  });
  optimizer_.step(pool, params, learning_rate);
  ++steps_done_;

  StepReport report;
  report.step = steps_done_;
  report.loss = loss;
  report.learning_rate = learning_rate;
  report.grad_norm = grad_norm;
  report.tokens = int64_t(options_.batch) * options_.seq;
  return report;
}

EvalStats Trainer::validate() {
  check(has_validation_, "no validation split: the held-out text needs more than ", options_.seq, " tokens");
  const std::vector<float> saved_state = model_.carried_state();
  Batcher windows(validation_tokens_, options_.batch, options_.seq, false);
  Rng window_rng(options_.seed ^ 0x5EEDull);  // the same windows at every validation
  std::vector<int32_t> inputs(inputs_.size()), targets(targets_.size());
  const int V = model_.vocab_size();
  double loss_sum = 0;
  int64_t correct = 0, counted = 0;
  for (int window = 0; window < options_.eval_batches; ++window) {
    windows.next(inputs.data(), targets.data(), window_rng);
    model_.reset_train_state();
    loss_sum += model_.forward(inputs.data(), targets.data(), options_.batch, options_.seq, false, nullptr);
    const float* logits = model_.logits();
    for (size_t row = 0; row < targets.size(); ++row) {
      const float* row_logits = logits + row * V;
      correct += std::max_element(row_logits, row_logits + V) - row_logits == targets[row];
    }
    counted += int64_t(targets.size());
  }
  model_.restore_carried_state(saved_state);
  EvalStats stats;
  stats.loss = loss_sum / options_.eval_batches;
  stats.perplexity = std::exp(stats.loss);
  stats.accuracy = double(correct) / double(counted);
  stats.tokens = counted;
  return stats;
}

Trainer::Progress Trainer::progress() const {
  Progress progress;
  progress.first_moment = optimizer_.first_moment();
  progress.second_moment = optimizer_.second_moment();
  progress.carried_state = model_.carried_state();
  progress.optimizer_steps = optimizer_.steps_taken();
  progress.batcher_cursor = batcher_.cursor();
  progress.steps_done = steps_done_;
  progress.validations_since_best = validations_since_best_;
  progress.best_validation_loss = best_validation_loss_;
  rng_.get_state(progress.rng_state);
  return progress;
}

void Trainer::restore(const Progress& progress) {
  check(progress.steps_done >= 0 && progress.validations_since_best >= 0, "training progress has negative counts");
  optimizer_.restore(progress.first_moment, progress.second_moment, progress.optimizer_steps);
  batcher_.set_cursor(progress.batcher_cursor);
  model_.restore_carried_state(progress.carried_state);
  steps_done_ = progress.steps_done;
  validations_since_best_ = progress.validations_since_best;
  best_validation_loss_ = progress.best_validation_loss;
  rng_.set_state(progress.rng_state);
  before_last_update_.clear();  // the weights the restored step started from are not kept
}

bool Trainer::record_validation(double loss) {
  if (loss < best_validation_loss_) {
    best_validation_loss_ = loss;
    validations_since_best_ = 0;
    return true;
  }
  ++validations_since_best_;
  return false;
}

bool Trainer::should_stop() const {
  return steps_done_ >= options_.steps || (options_.patience > 0 && validations_since_best_ >= options_.patience);
}

}  // namespace tinylm
