// Scalar references for the int8 kernels (contracts in kernels.hpp), also what a TINYLM_FORCE_SCALAR build runs:
// sgemv_q8 takes one dot product per row, accumulated in double, then scaled; quantize_rows_int8 and
// quantize_rows_int16 one element at a time, by the same formula.
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

namespace {
// One row's scale and values, each value stored by put(k, value) as an integer in [−127, 127].
template <typename Put>
bool quantize_row(float* scale_out, const float* row, int K, Put&& put) {
  float max_abs = 0.0f;
  for (int k = 0; k < K; ++k) {
    if (!std::isfinite(row[k])) return false;
    max_abs = std::fmax(max_abs, std::fabs(row[k]));
  }
  const float scale = max_abs / 127.0f;
  *scale_out = scale;
  const float inverse = scale > 0.0f ? 1.0f / scale : 0.0f;
  for (int k = 0; k < K; ++k) put(k, std::fmax(-127.0f, std::fmin(127.0f, std::nearbyint(row[k] * inverse))));
  return true;
}
}  // namespace

bool quantize_rows_int8(int8_t* Q, float* scales, const float* W, int M, int K) {
  for (int i = 0; i < M; ++i) {
    int8_t* out = Q + (long)i * K;
    if (!quantize_row(scales + i, W + (long)i * K, K, [&](int k, float q) { out[k] = static_cast<int8_t>(q); }))
      return false;
  }
  return true;
}

bool quantize_rows_int16(int16_t* Q, int ldq, float* scales, const float* X, int M, int K) {
  for (int i = 0; i < M; ++i) {
    int16_t* out = Q + (long)i * ldq;
    if (!quantize_row(scales + i, X + (long)i * K, K, [&](int k, float q) { out[k] = static_cast<int16_t>(q); }))
      return false;
    for (int k = K; k < ldq; ++k) out[k] = 0;
  }
  return true;
}

}  // namespace tinylm::ref
