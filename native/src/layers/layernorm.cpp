#include "layers/layernorm.hpp"

#include <cstddef>

#include "parallel/parallel_kernels.hpp"

namespace tinylm {

void layernorm_forward(ThreadPool* pool, float* out, LayerNormCache& cache, const float* x, const float* weight,
                       const float* bias, int N, int C) {
  if (cache.mean.size() < size_t(N)) {  // grow-only: steady-state steps allocate nothing
    cache.mean.resize(N);
    cache.rstd.resize(N);
  }
  layernorm_rows_forward(pool, out, cache.mean.data(), cache.rstd.data(), x, weight, bias, N, C);
}

void layernorm_backward(ThreadPool* pool, float* dx, float* dweight, float* dbias, const float* dout, const float* x,
                        const float* weight, LayerNormCache& cache, int N, int C) {
  if (!dweight) {  // frozen: the kernel always accumulates a weight gradient, so it lands in a discarded sink
    cache.frozen_weight_grad.assign(C, 0.0f);
    dweight = cache.frozen_weight_grad.data();
  }
  layernorm_rows_backward(pool, dx, dweight, dbias, dout, x, weight, cache.mean.data(), cache.rstd.data(), N, C,
                          cache.partials);
}

}  // namespace tinylm
