// Scalar references for the int8 kernels (contracts in kernels.hpp), also what a TINYLM_FORCE_SCALAR build runs:
// sgemv_q8 takes one dot product per row, accumulated in double, then scaled; quantize_rows_int8 one element at
// a time.
#include <cmath>

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

bool quantize_rows_int8(int8_t* Q, float* scales, const float* W, int M, int K) {
  for (int i = 0; i < M; ++i) {
    const float* row = W + (long)i * K;
    float max_abs = 0.0f;
    for (int k = 0; k < K; ++k) {
      if (!std::isfinite(row[k])) return false;
      max_abs = std::fmax(max_abs, std::fabs(row[k]));
    }
    const float scale = max_abs / 127.0f;
    scales[i] = scale;
    const float inverse = scale > 0.0f ? 1.0f / scale : 0.0f;
    for (int k = 0; k < K; ++k) {
      const float q = std::nearbyint(row[k] * inverse);
      Q[(long)i * K + k] = static_cast<int8_t>(std::fmax(-127.0f, std::fmin(127.0f, q)));
    }
  }
  return true;
}

}  // namespace tinylm::ref
