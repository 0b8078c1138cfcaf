// RMSNorm layer (Hugging Face's LlamaRMSNorm) over the last dimension of N rows: out = x/√(mean(x²) + eps) ⊙ weight.
// No mean is subtracted and there is no bias. The row statistic rstd is the activation cache backward reads.
// Backward ACCUMULATES into its gradient outputs (+=), as every backward in tinylm does.
#pragma once
#include <vector>

namespace tinylm {

struct RmsNormCache {
  std::vector<float> rstd;  // (N) 1/√(mean(x²) + eps)
};

// out (N,C) = RMSNorm(x (N,C)) ⊙ weight (C). Fills cache.
void rmsnorm_forward(float* out, RmsNormCache& cache, const float* x, const float* weight, float eps, int N, int C);
// dx (N,C) += …; dweight (C) += …
void rmsnorm_backward(float* dx, float* dweight, const float* dout, const float* x, const float* weight,
                      const RmsNormCache& cache, int N, int C);

}  // namespace tinylm
