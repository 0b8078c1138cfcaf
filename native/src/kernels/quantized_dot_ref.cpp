// The int8 product over row-major operands (kernels.hpp: ref::sgemm_q8_nt), the oracle test_quantized_panels checks
// the packed kernel against: one int32 sum per output, then the float scaling every int8 product applies, so they
// agree bit for bit. No model calls it; their weights are packed in panels (sgemm_q8_panels).
#include <cstdint>

#include "kernels/kernels.hpp"

namespace tinylm::ref {

void sgemm_q8_nt(float* C, int ldc, const int8_t* A, const float* a_scales, int lda, const int8_t* B,
                 const float* b_scales, int ldb, int M, int N, int K, float beta) {
  for (int m = 0; m < M; ++m) {
    for (int n = 0; n < N; ++n) {
      int32_t sum = 0;
      for (int k = 0; k < K; ++k) sum += int32_t(A[(long)m * lda + k]) * int32_t(B[(long)n * ldb + k]);
      const float value = float(sum) * (a_scales[m] * b_scales[n]);
      float& out = C[(long)m * ldc + n];
      out = beta == 0.0f ? value : out + value;
    }
  }
}

}  // namespace tinylm::ref
