// LoraAdapter: a LoRA term (lora_linear.hpp) beside each linear of a model that the caller's targets name, as one
// LinearAdapter (layers/linear_adapter.hpp) the model calls from its forward, backward and step().
//
// Targets follow PEFT's target_modules: a module is adapted when its path equals a target or ends with "." + target
// ("q_proj" adapts every layer's self_attn.q_proj; "c_proj" both GPT-2 c_projs). Its trainable tensors form one
// parameter block (tensor.hpp) named as PEFT saves them:
//   base_model.model.<module path>.lora_A.weight (r, in) · base_model.model.<module path>.lora_B.weight (out, r)
// in the model's module order, so the trainer, the optimizer and the adapter file walk it like any model's.
#pragma once
#include <string>
#include <vector>

#include "layers/linear_adapter.hpp"
#include "lora/lora_linear.hpp"
#include "tensor.hpp"
#include "tinylm/model.hpp"

namespace tinylm {

class Rng;

struct LoraConfig {
  int rank = 8;                      // r
  float alpha = 8;                   // scale = alpha / r
  float dropout = 0;                 // on each adapted linear's input, training only
  std::vector<std::string> targets;  // PEFT target_modules, e.g. {"q_proj", "v_proj"}
  std::string base_model;            // what the adapter was trained on (PEFT's base_model_name_or_path), informative

  float scale() const { return alpha / float(rank); }
  void validate() const;  // Error naming the field: 1 ≤ rank ≤ 4096, alpha finite and > 0, dropout in [0, 1)
};

// Whether PEFT's target_modules matching adapts the module at `path`.
bool lora_targets_module(const std::vector<std::string>& targets, const std::string& path);

class LoraAdapter : public LinearAdapter {
 public:
  // An adapter for a model with these linear_modules(): one term for each module index in `adapted` (ascending).
  // Parameters zeroed: call initialize() or load values. Error if a module cannot take rank r (r > min(in, out) is
  // allowed, as in PEFT, but the index must exist).
  LoraAdapter(const LoraConfig& config, const std::vector<LinearModule>& modules, const std::vector<int>& adapted);
  // The modules config.targets names; Error (listing the model's module names) when they name none.
  static std::vector<int> targeted_modules(const LoraConfig& config, const std::vector<LinearModule>& modules);

  // PEFT's initialisation: A Kaiming-uniform (a = √5, so U(−1/√in, 1/√in)), B zero — the adapted model starts out
  // equal to the base.
  void initialize(Rng& rng);

  const LoraConfig& config() const { return config_; }
  Parameters& parameters() { return params_; }
  const Parameters& parameters() const { return params_; }
  // Training: the next forwards draw their dropout from rng; null (the default, generation, evaluation) draws none.
  void set_dropout_rng(Rng* rng) { dropout_rng_ = rng; }

  struct Term {
    int module;           // index into the model's linear_modules()
    LinearModule linear;  // its path and sizes
    size_t a_offset, b_offset;  // lora_A and lora_B in the parameter block
  };
  const std::vector<Term>& terms() const { return terms_; }
  LoraWeights weights(const Term& term) const;
  size_t module_count() const { return term_of_module_.size(); }  // the model's linears, adapted or not
  // Error unless the adapter was made for a model with exactly these linear_modules() (paths and sizes).
  void check_fits(const std::vector<LinearModule>& modules) const;

  // Bytes the caches hold for N rows (saturating, memory_limits.hpp).
  uint64_t cache_bytes(int64_t N) const;

  // LinearAdapter
  void forward(ThreadPool* pool, int module, float* out, int ldo, const float* in, int N) override;
  void backward(ThreadPool* pool, int module, float* din, const float* dout, int ldo, const float* in,
                int N) override;

 private:
  LoraConfig config_;
  Parameters params_;
  std::vector<Term> terms_;
  std::vector<LoraCache> caches_;      // (terms)
  std::vector<int> term_of_module_;    // (model's linears) index into terms_, or −1
  Rng* dropout_rng_ = nullptr;
};

}  // namespace tinylm
