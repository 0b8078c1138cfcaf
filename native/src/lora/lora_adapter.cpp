#include "lora/lora_adapter.hpp"

#include <algorithm>
#include <cmath>

#include "memory_limits.hpp"
#include "tinylm/error.hpp"
#include "tinylm/rng.hpp"

namespace tinylm {

constexpr int kMaxLoraRank = 4096;

void LoraConfig::validate() const {
  check(rank >= 1 && rank <= kMaxLoraRank, "LoRA rank must be in [1, ", kMaxLoraRank, "], got ", rank);
  check(std::isfinite(alpha) && alpha > 0, "LoRA alpha must be a positive number, got ", alpha);
  check(dropout >= 0 && dropout < 1, "LoRA dropout must be in [0, 1), got ", dropout);
  check(!targets.empty(), "LoRA needs at least one target module (e.g. q_proj,v_proj or c_attn)");
  for (const std::string& target : targets) check(!target.empty(), "LoRA target module names must not be empty");
}

bool lora_targets_module(const std::vector<std::string>& targets, const std::string& path) {
  for (const std::string& target : targets) {
    if (path == target) return true;
    if (path.size() > target.size() && path.compare(path.size() - target.size(), target.size(), target) == 0 &&
        path[path.size() - target.size() - 1] == '.')
      return true;
  }
  return false;
}

std::vector<int> LoraAdapter::targeted_modules(const LoraConfig& config, const std::vector<LinearModule>& modules) {
  check(!modules.empty(), "this model has no linear layers an adapter can attach to (LoRA covers GPT and Llama)");
  std::vector<int> adapted;
  for (size_t i = 0; i < modules.size(); ++i)
    if (lora_targets_module(config.targets, modules[i].path)) adapted.push_back(int(i));
  if (adapted.empty()) {
    // The names a target can use: the last component of each module path, once each, in model order.
    std::vector<std::string> names;
    for (const LinearModule& module : modules) {
      const std::string name = module.path.substr(module.path.rfind('.') + 1);
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
    std::string listed;
    for (const std::string& name : names) listed += (listed.empty() ? "" : ", ") + name;
    std::string given;
    for (const std::string& target : config.targets) given += (given.empty() ? "" : ",") + target;
    fail("LoRA targets '", given, "' match no linear layer of this model; its linears are ", listed);
  }
  return adapted;
}

LoraAdapter::LoraAdapter(const LoraConfig& config, const std::vector<LinearModule>& modules,
                         const std::vector<int>& adapted)
    : config_(config), term_of_module_(modules.size(), -1) {
  config_.validate();
  const int r = config_.rank;
  for (int module : adapted) {
    check(module >= 0 && size_t(module) < modules.size(), "LoRA module index ", module, " is out of range");
    check(term_of_module_[module] < 0, "LoRA module '", modules[module].path, "' is adapted twice");
    const LinearModule& linear = modules[module];
    const std::string prefix = "base_model.model." + linear.path;
    Term term{module, linear, 0, 0};
    // Both matrices decay under AdamW, as PEFT's trainable parameters do.
    term.a_offset = params_.table.add(prefix + ".lora_A.weight", {r, linear.in}, true);
    term.b_offset = params_.table.add(prefix + ".lora_B.weight", {linear.out, r}, true);
    term_of_module_[module] = int(terms_.size());
    terms_.push_back(term);
  }
  check(!terms_.empty(), "a LoRA adapter needs at least one adapted module");
  params_.allocate();
  caches_.resize(terms_.size());
}

void LoraAdapter::initialize(Rng& rng) {
  for (const Term& term : terms_) {
    // nn.init.kaiming_uniform_(a=√5): bound = √(6 / ((1 + a²)·fan_in)) = 1/√in.
    const float bound = 1.0f / std::sqrt(float(term.linear.in));
    float* A = params_.values.data() + term.a_offset;
    for (int64_t i = 0; i < int64_t(config_.rank) * term.linear.in; ++i) A[i] = bound * (2.0f * rng.uniform() - 1.0f);
    float* B = params_.values.data() + term.b_offset;
    std::fill(B, B + int64_t(term.linear.out) * config_.rank, 0.0f);
  }
}

void LoraAdapter::check_fits(const std::vector<LinearModule>& modules) const {
  check(module_count() == modules.size(), "this LoRA adapter was made for a model with ", module_count(),
        " linear layers; this model has ", modules.size(), ": load it on the model it was trained on");
  for (const Term& term : terms_) {
    const LinearModule& linear = modules[term.module];
    check(linear.path == term.linear.path && linear.in == term.linear.in && linear.out == term.linear.out,
          "this LoRA adapter's '", term.linear.path, "' is (", term.linear.out, " × ", term.linear.in,
          "); the model's linear ", term.module, " is '", linear.path, "' (", linear.out, " × ", linear.in,
          "): load it on the model it was trained on");
  }
}

LoraWeights LoraAdapter::weights(const Term& term) const {
  return {params_.values.data() + term.a_offset, params_.values.data() + term.b_offset, config_.rank, term.linear.in,
          term.linear.out, config_.scale()};
}

uint64_t LoraAdapter::cache_bytes(int64_t N) const {
  uint64_t floats = 0;
  for (const Term& term : terms_) {
    // hidden and its gradient (2r per row); with dropout, the kept-input mask (bytes) and dropped inputs per row.
    floats = saturating_add(floats, saturating_product(N, 2 * config_.rank));
    if (config_.dropout > 0) floats = saturating_add(floats, saturating_product(N, 2 * int64_t(term.linear.in)));
  }
  return saturating_mul(floats, sizeof(float));
}

void LoraAdapter::forward(ThreadPool* pool, int module, float* out, int ldo, const float* in, int N) {
  const int index = size_t(module) < term_of_module_.size() ? term_of_module_[module] : -1;
  if (index < 0) return;  // a linear this adapter leaves alone
  lora_forward(pool, out, ldo, caches_[index], in, weights(terms_[index]), N, config_.dropout, dropout_rng_);
}

void LoraAdapter::backward(ThreadPool* pool, int module, float* din, const float* dout, int ldo, const float* in,
                           int N) {
  const int index = size_t(module) < term_of_module_.size() ? term_of_module_[module] : -1;
  if (index < 0) return;
  const Term& term = terms_[index];
  params_.ensure_grads();  // allocated by the first backward, as a model's are
  const LoraGrads grads{params_.grads.data() + term.a_offset, params_.grads.data() + term.b_offset};
  lora_backward(pool, din, grads, dout, ldo, in, caches_[index], weights(term), N);
}

}  // namespace tinylm
