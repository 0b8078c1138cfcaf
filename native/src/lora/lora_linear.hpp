// One LoRA term beside a frozen linear layer (Hu et al., "LoRA", 2021), in PEFT's convention: for the linear's input
// x (N,I) and output (N,O),
//   out += scale · (dropout(x) · Aᵀ) · Bᵀ,   A = lora_A.weight (r, I), B = lora_B.weight (O, r), scale = alpha / r.
// Only A and B train; the linear's weight W (O, I) is never read here, so it stays in whatever form the model keeps
// it. lora_forward / lora_backward are a forward/backward pair (STYLE rule 3); backward ACCUMULATES (+=).
#pragma once
#include <cstdint>
#include <vector>

namespace tinylm {

class Rng;
class ThreadPool;

struct LoraWeights {
  const float* A;  // (r, I)
  const float* B;  // (O, r)
  int rank, in, out;
  float scale;     // alpha / r
};

struct LoraGrads {
  float* A;  // (r, I)
  float* B;  // (O, r)
};

// Activations kept for backward, plus scratch; buffers only grow.
struct LoraCache {
  std::vector<float> hidden;   // (N, r) scale · dropout(x)·Aᵀ: what B multiplies
  std::vector<uint8_t> keep;   // (N, I) 1 where dropout kept the input (used when keep_scale > 0)
  float keep_scale = 0;        // 1/(1−p) when the last forward dropped inputs, 0 when it did not
  std::vector<float> dropped;  // (N, I) scratch: dropout(x), then d dropout(x)
  std::vector<float> dhidden;  // (N, r) backward scratch
};

// out (N, O) with row stride ldo += the term. Dropout with probability `dropout` when rng is not null (training),
// drawing one number per input element, row-major (on the calling thread); none otherwise. The products split over
// pool (null: serial) with the same results at every pool size. Fills cache.
void lora_forward(ThreadPool* pool, float* out, int ldo, LoraCache& cache, const float* in, const LoraWeights& weights,
                  int N, float dropout, Rng* rng);
// From dout (N, O) with row stride ldo: grads.A += …, grads.B += …, din (N, I) += … (din may be null). `in` is the
// same input the forward saw.
void lora_backward(ThreadPool* pool, float* din, const LoraGrads& grads, const float* dout, int ldo, const float* in,
                   LoraCache& cache, const LoraWeights& weights, int N);

}  // namespace tinylm
