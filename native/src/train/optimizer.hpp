// Optimizers over a flat parameter block, with PyTorch's update rules so runs compare one to one:
//   SGD (momentum, Nesterov), RMSprop, Adam, AdamW. Moments are flat blocks with the parameters' layout.
// weight_decay: SGD/RMSprop/Adam add it as L2 to the gradient of every tensor (PyTorch semantics); AdamW decays
// decoupled, and only tensors the model marks `decay` (matrices, not biases or norms), as nanoGPT configures it.
// Updates, clipping and zeroing are element-wise over the flat blocks, split over a pool (null: serial) in ranges
// whose results do not depend on its size; the clipping norm sums fixed chunks in order.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tensor.hpp"

namespace tinylm {

class ThreadPool;

enum class OptimizerKind { Sgd, Rmsprop, Adam, AdamW };
bool parse_optimizer_kind(const std::string& name, OptimizerKind* kind);  // "sgd" "rmsprop" "adam" "adamw"
const char* optimizer_kind_name(OptimizerKind kind);

struct OptimizerOptions {
  OptimizerKind kind = OptimizerKind::Adam;
  float learning_rate = 2e-3f;
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;  // Adam, AdamW
  float rms_alpha = 0.99f;                            // RMSprop smoothing
  float momentum = 0.0f;                              // SGD
  bool nesterov = false;                              // SGD
  float weight_decay = 0.0f;
};

class Optimizer {
 public:
  Optimizer(const OptimizerOptions& options, const ParameterTable& table);
  // One update of params.values from params.grads at the given learning rate (the schedule's value).
  void step(ThreadPool* pool, Parameters& params, float learning_rate);
  int64_t steps_taken() const { return steps_; }
  // The moments (empty when the optimizer keeps none) and step count, for checkpoints; restore() checks the sizes.
  const std::vector<float>& first_moment() const { return first_moment_; }
  const std::vector<float>& second_moment() const { return second_moment_; }
  void restore(const std::vector<float>& first, const std::vector<float>& second, int64_t steps);
  const OptimizerOptions& options() const { return options_; }

 private:
  OptimizerOptions options_;
  std::vector<uint8_t> decay_mask_;  // (P) 1 where decoupled weight decay applies
  std::vector<float> first_moment_;  // (P) Adam m, SGD momentum buffer
  std::vector<float> second_moment_; // (P) Adam v, RMSprop square average
  int64_t steps_ = 0;
};

// Scales grads so their global L2 norm is at most max_norm (PyTorch clip_grad_norm_); returns the norm before.
float clip_grad_norm(ThreadPool* pool, std::vector<float>& grads, float max_norm);
// grads = 0 (Parameters::zero_grad, split over the pool).
void zero_grads(ThreadPool* pool, std::vector<float>& grads);

// Learning rate at a step: constant, or linear warmup then cosine decay to min_ratio·base at total_steps.
struct LrSchedule {
  float base = 2e-3f;
  int warmup_steps = 0;
  bool cosine = false;
  int total_steps = 0;
  float min_ratio = 0.1f;
  float at(int step) const;  // step counts from 0
};

}  // namespace tinylm
