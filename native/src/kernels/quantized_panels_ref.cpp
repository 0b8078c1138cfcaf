// Scalar reference for sgemm_q8_panels (contract in kernels.hpp), also what a TINYLM_FORCE_SCALAR build runs: one
// int32 sum per output read through q8_panel_index, then the float scaling of the row-major oracle
// (ref::sgemm_q8_nt), so every kernel agrees bit for bit.
#include <cstdint>

#include "kernels/kernels.hpp"

namespace tinylm::ref {

void sgemm_q8_panels(float* C, int ldc, const int16_t* A, const float* a_scales, int lda, const int8_t* panels,
                     const float* b_scales, int M, int N, int K, float beta) {
  for (int m = 0; m < M; ++m) {
    for (int n = 0; n < N; ++n) {
      int32_t sum = 0;
      for (int k = 0; k < K; ++k) sum += int32_t(A[int64_t(m) * lda + k]) * int32_t(panels[q8_panel_index(n, k, K)]);
      const float value = float(sum) * (a_scales[m] * b_scales[n]);
      float& out = C[int64_t(m) * ldc + n];
      out = beta == 0.0f ? value : out + value;
    }
  }
}

}  // namespace tinylm::ref
