// LayerNorm layer: nn.LayerNorm over the last dimension of N rows (biased variance, eps 1e-5), with nanoGPT's
// bias=False variant (bias null: weight only). The row statistics are the activation cache backward reads.
// Backward ACCUMULATES into its gradient outputs (+=), as every backward in tinylm does.
#pragma once
#include <cstddef>
#include <vector>

namespace tinylm {

class ThreadPool;

struct LayerNormCache {
  std::vector<float> mean;                // (N)
  std::vector<float> rstd;                // (N) 1/√(var + eps)
  std::vector<float> partials;            // backward scratch: per-chunk sums of dweight and dbias (parallel_kernels.hpp)
  std::vector<float> frozen_weight_grad;  // (C) where a frozen weight's gradient goes, discarded
};

// out (N,C) = LayerNorm(x (N,C)) · weight (C) + bias (C); bias may be null. Fills cache. Rows split over pool.
void layernorm_forward(ThreadPool* pool, float* out, LayerNormCache& cache, const float* x, const float* weight,
                       const float* bias, int N, int C);
// dx (N,C) += …; dweight (C) += …; dbias (C) += … (null when the layer has no bias). Rows split over pool, the
// weight and bias gradients summed per fixed chunk of rows and the chunks added in order. dweight and dbias are both
// null when the layer is frozen (a LoRA fine-tune): only dx is computed.
void layernorm_backward(ThreadPool* pool, float* dx, float* dweight, float* dbias, const float* dout, const float* x,
                        const float* weight, LayerNormCache& cache, int N, int C);

}  // namespace tinylm
