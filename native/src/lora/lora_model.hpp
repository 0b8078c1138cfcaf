// LoraModel: a base model fine-tuned through a LoRA adapter, as one TrainableModel the Trainer drives like any other.
// Its parameters() are the adapter's (lora_A, lora_B); the base is frozen — no gradients, no optimizer moments,
// its weights untouched in whatever form it holds them — and only input gradients flow through it to the adapter.
// forward/backward/step run the base with the adapter attached; saving writes the adapter (adapter_file.hpp).
#pragma once
#include "lora/lora_adapter.hpp"
#include "tinylm/model.hpp"

namespace tinylm {

class LoraModel : public TrainableModel {
 public:
  // Attaches `adapter` to `base` and freezes it; both must outlive this object. The destructor detaches the adapter
  // and leaves the base frozen (thaw it with set_frozen(false) to train it whole again).
  LoraModel(TrainableModel& base, LoraAdapter& adapter);
  ~LoraModel() override;
  LoraModel(const LoraModel&) = delete;
  LoraModel& operator=(const LoraModel&) = delete;

  TrainableModel& base() { return base_; }
  // The base computes with the pool too; the constructor takes the base's.
  void set_thread_pool(ThreadPool* pool) override {
    pool_ = pool;
    base_.set_thread_pool(pool);
  }
  LoraAdapter& adapter() { return adapter_; }

  // LanguageModel: the base's, with the adapter's terms.
  std::string arch() const override { return base_.arch(); }
  int vocab_size() const override { return base_.vocab_size(); }
  int context_size() const override { return base_.context_size(); }
  // The base's config with the adapter's under "lora" (so a training checkpoint tells LoRA runs apart).
  nlohmann::json config_json() const override;
  void reset_state() override { base_.reset_state(); }
  const float* step(int32_t token) override { return base_.step(token); }
  const float* prefill(const int32_t* tokens, int n) override { return base_.prefill(tokens, n); }
  EvalStats evaluate(const std::vector<int32_t>& tokens) override { return base_.evaluate(tokens); }
  std::unique_ptr<Evaluation> start_evaluation(std::vector<int32_t> tokens) override {
    return base_.start_evaluation(std::move(tokens));
  }
  std::vector<TensorToWrite> tensors_to_save() const override;  // the adapter's tensors, PEFT names

  // TrainableModel: the adapter's parameters; dropout (the adapter's and the base's) draws from rng when training.
  Parameters& parameters() override { return adapter_.parameters(); }
  float forward(const int32_t* inputs, const int32_t* targets, int B, int T, bool training, Rng* rng) override;
  void backward() override { base_.backward(); }
  uint64_t forward_bytes(int B, int T) const override;
  void reset_train_state() override { base_.reset_train_state(); }
  const float* logits() const override { return base_.logits(); }

 private:
  TrainableModel& base_;
  LoraAdapter& adapter_;
};

// W += sign · scale · B·A for every adapted linear of `model` (sign +1 merges, −1 unmerges), on the model's float
// weights, then reset_state() so generation reads the new weights. Unmerging restores the weights up to float
// rounding (as PEFT's unmerge does), not bit for bit.
void merge_lora(TrainableModel& model, const LoraAdapter& adapter, float sign = 1.0f);

}  // namespace tinylm
