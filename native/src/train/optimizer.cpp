#include "train/optimizer.hpp"

#include <algorithm>
#include <cmath>

#include "parallel/parallel_kernels.hpp"
#include "tinylm/error.hpp"

namespace tinylm {

bool parse_optimizer_kind(const std::string& name, OptimizerKind* kind) {
  for (OptimizerKind candidate : {OptimizerKind::Sgd, OptimizerKind::Rmsprop, OptimizerKind::Adam, OptimizerKind::AdamW}) {
    if (name == optimizer_kind_name(candidate)) {
      *kind = candidate;
      return true;
    }
  }
  return false;
}

const char* optimizer_kind_name(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::Sgd: return "sgd";
    case OptimizerKind::Rmsprop: return "rmsprop";
    case OptimizerKind::Adam: return "adam";
    case OptimizerKind::AdamW: return "adamw";
  }
  return "?";
}

Optimizer::Optimizer(const OptimizerOptions& options, const ParameterTable& table) : options_(options) {
  check(options.learning_rate >= 0 && std::isfinite(options.learning_rate), "optimizer: learning rate must be ",
        "a finite non-negative number, got ", options.learning_rate);
  check(options.weight_decay >= 0, "optimizer: weight decay must be non-negative, got ", options.weight_decay);
  check(options.momentum >= 0 && options.momentum < 1, "optimizer: momentum must be in [0, 1), got ", options.momentum);
  check(!options.nesterov || options.momentum > 0, "optimizer: Nesterov needs a momentum > 0");
  decay_mask_.assign(table.size(), 0);
  for (const TensorSpec& spec : table.tensors()) {
    if (spec.decay) std::fill_n(decay_mask_.begin() + spec.offset, shape_numel(spec.shape), uint8_t(1));
  }
  first_moment_.assign(table.size(), 0.0f);
  if (options.kind == OptimizerKind::Adam || options.kind == OptimizerKind::AdamW ||
      options.kind == OptimizerKind::Rmsprop) {
    second_moment_.assign(table.size(), 0.0f);
  }
}

void Optimizer::restore(const std::vector<float>& first, const std::vector<float>& second, int64_t steps) {
  check(first.size() == first_moment_.size() && second.size() == second_moment_.size(), "optimizer state holds ",
        first.size(), " + ", second.size(), " moments; this ", optimizer_kind_name(options_.kind), " optimizer keeps ",
        first_moment_.size(), " + ", second_moment_.size());
  check(steps >= 0, "optimizer step count must be non-negative, got ", steps);
  first_moment_ = first;
  second_moment_ = second;
  steps_ = steps;
}

namespace {

// The update rules over elements [begin, end), scalars passed by value so the compiler knows no store to the arrays
// changes them (and vectorises the loops).
void sgd_update(int64_t begin, int64_t end, float* values, const float* grads, float* m, float learning_rate,
                float decay, float momentum, bool nesterov, bool first_step) {
  for (int64_t i = begin; i < end; ++i) {
    float g = grads[i] + decay * values[i];
    if (momentum > 0) {
      m[i] = first_step ? g : momentum * m[i] + g;  // PyTorch seeds the buffer with the first gradient
      g = nesterov ? g + momentum * m[i] : m[i];
    }
    values[i] -= learning_rate * g;
  }
}

void rmsprop_update(int64_t begin, int64_t end, float* values, const float* grads, float* v, float learning_rate,
                    float decay, float alpha, float eps) {
  for (int64_t i = begin; i < end; ++i) {
    const float g = grads[i] + decay * values[i];
    v[i] = alpha * v[i] + (1 - alpha) * g * g;
    values[i] -= learning_rate * g / (std::sqrt(v[i]) + eps);
  }
}

// Branch-free so the loop vectorises: AdamW scales masked values by `keep`, Adam adds `l2`·value to g. The mask
// enters as arithmetic (a select on the byte kept GCC from vectorising): 1 − mask·(1 − keep) is exactly keep or 1,
// as 1 − keep is exact for keep in [0.5, 1].
void adam_update(int64_t begin, int64_t end, float* values, const float* grads, float* m, float* v,
                 const uint8_t* decays, float step_size, float inverse_bias2_sqrt, float shrink, float l2, float beta1,
                 float beta2, float eps) {
  for (int64_t i = begin; i < end; ++i) {
    const float g = grads[i] + l2 * values[i];
    values[i] *= 1.0f - float(decays[i]) * shrink;
    m[i] = beta1 * m[i] + (1 - beta1) * g;
    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
    values[i] -= step_size * m[i] / (std::sqrt(v[i]) * inverse_bias2_sqrt + eps);
  }
}

}  // namespace

void Optimizer::step(ThreadPool* pool, Parameters& params, float learning_rate) {
  check(params.values.size() == first_moment_.size(), "optimizer: parameter block has ", params.values.size(),
        " floats, the optimizer was built for ", first_moment_.size());
  ++steps_;
  const OptimizerOptions& o = options_;
  float* values = params.values.data();
  const float* grads = params.grads.data();
  float* m = first_moment_.data();
  float* v = second_moment_.data();
  const int64_t count = int64_t(params.values.size());
  const float decay = o.weight_decay;

  switch (o.kind) {
    case OptimizerKind::Sgd:
      parallel_elementwise(pool, count, [&](int64_t begin, int64_t end) {
        sgd_update(begin, end, values, grads, m, learning_rate, decay, o.momentum, o.nesterov, steps_ == 1);
      });
      break;
    case OptimizerKind::Rmsprop:
      parallel_elementwise(pool, count, [&](int64_t begin, int64_t end) {
        rmsprop_update(begin, end, values, grads, v, learning_rate, decay, o.rms_alpha, o.eps);
      });
      break;
    case OptimizerKind::Adam:
    case OptimizerKind::AdamW: {
      const bool decoupled = o.kind == OptimizerKind::AdamW;
      const float bias1 = 1 - std::pow(o.beta1, float(steps_));
      const float bias2_sqrt = std::sqrt(1 - std::pow(o.beta2, float(steps_)));
      const float step_size = learning_rate / bias1;
      const float inverse_bias2_sqrt = 1.0f / bias2_sqrt;
      const float keep = decoupled ? 1 - learning_rate * decay : 1.0f;
      const float shrink = 1.0f - keep;
      const float l2 = decoupled ? 0.0f : decay;
      parallel_elementwise(pool, count, [&](int64_t begin, int64_t end) {
        adam_update(begin, end, values, grads, m, v, decay_mask_.data(), step_size, inverse_bias2_sqrt, shrink, l2,
                    o.beta1, o.beta2, o.eps);
      });
      break;
    }
  }
}

float clip_grad_norm(ThreadPool* pool, std::vector<float>& grads, float max_norm) {
  const float norm = static_cast<float>(std::sqrt(sum_squares(pool, grads.data(), int64_t(grads.size()))));
  const float scale = max_norm / (norm + 1e-6f);
  if (max_norm > 0 && scale < 1.0f) {
    float* values = grads.data();
    parallel_elementwise(pool, int64_t(grads.size()), [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) values[i] *= scale;
    });
  }
  return norm;
}

void zero_grads(ThreadPool* pool, std::vector<float>& grads) {
  float* values = grads.data();
  parallel_elementwise(pool, int64_t(grads.size()), [&](int64_t begin, int64_t end) {
    std::fill(values + begin, values + end, 0.0f);
  });
}

float LrSchedule::at(int step) const {
  if (warmup_steps > 0 && step < warmup_steps) return base * float(step + 1) / float(warmup_steps);
  if (!cosine || total_steps <= warmup_steps) return base;
  const float progress = std::min(1.0f, float(step - warmup_steps) / float(total_steps - warmup_steps));
  const float min_lr = base * min_ratio;
  return min_lr + 0.5f * (base - min_lr) * (1.0f + std::cos(3.14159265358979f * progress));
}

}  // namespace tinylm
