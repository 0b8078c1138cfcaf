// Sampler: next-token logits (V) → one token id. Applied in this order, as in Hugging Face's generate():
//   repetition penalty (CTRL: a seen token's logit is divided by the penalty if positive, multiplied if negative)
//   → temperature (0 = greedy argmax) → top-k → top-p (nucleus) → draw with the sampler's own seeded RNG.
// The same seed and the same logits give the same tokens on every run.
#pragma once
#include <cstdint>
#include <vector>

#include "tinylm/rng.hpp"

namespace tinylm {

class ThreadPool;

struct SamplingOptions {
  float temperature = 1.0f;         // 0 = greedy
  int top_k = 0;                    // 0 = off
  float top_p = 1.0f;               // 1 = off
  float repetition_penalty = 1.0f;  // 1 = off; > 1 discourages tokens already in the history
  int repetition_window = 0;        // penalise only the last N tokens of the history; 0 = all of it
  uint64_t seed = 0;
  void validate() const;            // Error naming the option and value
};

class Sampler {
 public:
  Sampler(const SamplingOptions& options, int vocab_size);
  // history: tokens so far (prompt + generated), for the repetition penalty.
  int32_t sample(const float* logits, const std::vector<int32_t>& history);
  // The distribution the last token was drawn from (after every filter; zeros outside the kept set).
  const std::vector<float>& last_probabilities() const { return probabilities_; }
  // A pool (null: the calling thread) to sort a large vocabulary's candidates on: the token drawn is the same.
  void set_thread_pool(ThreadPool* pool) { pool_ = pool; }

 private:
  SamplingOptions options_;
  int vocab_size_;
  Rng rng_;
  std::vector<float> scores_;         // (V) adjusted logits
  std::vector<float> probabilities_;  // (V)
  std::vector<int32_t> order_;        // (V) token ids sorted by score, best first (the first top-k of them)
  std::vector<uint64_t> keys_;        // (V) sort keys: score order above token id
  std::vector<uint8_t> seen_;         // (V) token appears in the penalised history
  std::vector<uint64_t> merged_;      // (V) where sorted runs of keys_ are merged, with a pool
  ThreadPool* pool_ = nullptr;
};

}  // namespace tinylm
