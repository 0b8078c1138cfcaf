// Scalar reference for the int8 matrix-vector kernel (contract in kernels.hpp): one dot product per row,
// accumulated in double, then scaled. Also what sgemv_q8 runs in a TINYLM_FORCE_SCALAR build.
#include "kernels/kernels.hpp"

namespace tinylm::ref {

void sgemv_q8(float* y, const int8_t* A, const float* scales, int lda, const float* x, int M, int K, float beta) {
  for (int i = 0; i < M; ++i) {
    double sum = 0.0;
    for (int k = 0; k < K; ++k) sum += double(A[(long)i * lda + k]) * double(x[k]);
    sum *= double(scales[i]);
    y[i] = beta == 0.0f ? float(sum) : float(double(beta) * y[i] + sum);
  }
}

}  // namespace tinylm::ref
