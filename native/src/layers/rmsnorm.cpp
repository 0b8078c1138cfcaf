#include "layers/rmsnorm.hpp"

#include <cstddef>

#include "kernels/llama_kernels.hpp"

namespace tinylm {

void rmsnorm_forward(float* out, RmsNormCache& cache, const float* x, const float* weight, float eps, int N, int C) {
  if (cache.rstd.size() < size_t(N)) cache.rstd.resize(N);  // grow-only: steady-state steps allocate nothing
  rmsnorm_rows_forward(out, cache.rstd.data(), x, weight, eps, N, C);
}

void rmsnorm_backward(float* dx, float* dweight, const float* dout, const float* x, const float* weight,
                      const RmsNormCache& cache, int N, int C) {
  rmsnorm_rows_backward(dx, dweight, dout, x, weight, cache.rstd.data(), N, C);
}

}  // namespace tinylm
