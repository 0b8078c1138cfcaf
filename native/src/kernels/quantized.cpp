// Int8 weights for batch-1 generation: per-row symmetric quantisation (to int8 bytes for weights, to int16 for the
// activations of the int8 × int8 products: quantized_panels.cpp) and the SIMD int8 × float matrix-vector product
// (contracts in kernels.hpp) that recurrent models step with.
//
// Generation reads every weight once per token, so it runs at memory speed; int8 rows are a quarter of float's
// bytes. sgemv_q8 widens fwidth bytes to floats in registers (simd::load_int8), multiplies by x in float, and
// applies the row's scale once to the finished dot product — exact int8·float products, float accumulation,
// so it differs from float weights only by the quantisation itself.
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/kernels.hpp"
#include "kernels/simd.hpp"

namespace tinylm {

namespace {

using simd::fbatch;
using simd::fwidth;
using index_t = std::ptrdiff_t;

// y (R) = beta·y + scales ⊙ (A (R,K) · x): R rows share each load of x; the tail of K is scalar.
template <int R>
void int8_rows(float* y, const int8_t* A, const float* scales, int lda, const float* x, int K, float beta) {
  fbatch acc[R];
  simd::unroll<R>([&](auto r) { acc[r] = fbatch(0.0f); });
  int k = 0;
  for (; k + fwidth <= K; k += fwidth) {
    const fbatch xk = simd::load(x + k);
    simd::unroll<R>([&](auto r) {
      const auto* row = reinterpret_cast<const signed char*>(A + index_t(r) * lda + k);
      acc[r] = simd::multiply_add(simd::load_int8(row), xk, acc[r]);
    });
  }
  for (int r = 0; r < R; ++r) {
    float sum = simd::reduce_add(acc[r]);
    for (int kk = k; kk < K; ++kk) sum += float(A[index_t(r) * lda + kk]) * x[kk];
    sum *= scales[r];
    y[r] = beta == 0.0f ? sum : beta * y[r] + sum;
  }
}

void sgemv_q8_simd(float* y, const int8_t* A, const float* scales, int lda, const float* x, int M, int K,
                   float beta) {
  constexpr int rows = 8;  // measured on AVX-512 over C1's 883 k weights: 8 rows 33 µs, 4 rows 37 µs, 2 rows 40 µs
  int i = 0;
  for (; i + rows <= M; i += rows) int8_rows<rows>(y + i, A + index_t(i) * lda, scales + i, lda, x, K, beta);
  for (; i < M; ++i) int8_rows<1>(y + i, A + index_t(i) * lda, scales + i, lda, x, K, beta);
}

}  // namespace

void sgemv_q8(float* y, const int8_t* A, const float* scales, int lda, const float* x, int M, int K, float beta) {
  simd::pick(ref::sgemv_q8, sgemv_q8_simd)(y, A, scales, lda, x, M, K, beta);
}

namespace {

// One row's scale: the max |w| and finiteness in one pass, then max / 127 — the reference's operations, so the same
// scale. False for a row with a value that is not finite.
bool row_scale(float* scale, const float* row, int K) {
  fbatch max_abs(0.0f);
  auto finite = xsimd::batch_bool<float>(true);
  int k = 0;
  for (; k + fwidth <= K; k += fwidth) {
    const fbatch magnitude = xsimd::abs(simd::load(row + k));
    finite = finite && (magnitude <= fbatch(FLT_MAX));  // false for ±inf and NaN
    max_abs = xsimd::max(max_abs, magnitude);
  }
  if (!xsimd::all(finite)) return false;
  float max_value = simd::reduce_max(max_abs);
  for (; k < K; ++k) {
    if (!std::isfinite(row[k])) return false;
    max_value = std::fmax(max_value, std::fabs(row[k]));
  }
  *scale = max_value / 127.0f;
  return true;
}

// round(w · inverse) clamped to ±127, element by element as the reference rounds it.
inline simd::ibatch quantized_lanes(const float* row, float inverse) {
  const fbatch rounded = xsimd::nearbyint(simd::load(row) * fbatch(inverse));
  return simd::whole_floats_to_int(xsimd::min(xsimd::max(rounded, fbatch(-127.0f)), fbatch(127.0f)));
}
inline float quantized_value(float w, float inverse) {
  return std::fmax(-127.0f, std::fmin(127.0f, std::nearbyint(w * inverse)));
}
inline float inverse_of(float scale) { return scale > 0.0f ? 1.0f / scale : 0.0f; }

bool quantize_rows_int8_simd(int8_t* Q, float* scales, const float* W, int M, int K) {
  for (int i = 0; i < M; ++i) {
    const float* row = W + index_t(i) * K;
    int8_t* q = Q + index_t(i) * K;
    if (!row_scale(scales + i, row, K)) return false;
    const float inverse = inverse_of(scales[i]);
    alignas(64) int32_t lanes[fwidth];
    int k = 0;
    for (; k + fwidth <= K; k += fwidth) {
      quantized_lanes(row + k, inverse).store_aligned(lanes);
      for (int lane = 0; lane < fwidth; ++lane) q[k + lane] = static_cast<int8_t>(lanes[lane]);
    }
    for (; k < K; ++k) q[k] = static_cast<int8_t>(quantized_value(row[k], inverse));
  }
  return true;
}

bool quantize_rows_int16_simd(int16_t* Q, int ldq, float* scales, const float* X, int M, int K) {
  for (int i = 0; i < M; ++i) {
    const float* row = X + index_t(i) * K;
    int16_t* q = Q + index_t(i) * ldq;
    if (!row_scale(scales + i, row, K)) return false;
    const float inverse = inverse_of(scales[i]);
    int k = 0;
    for (; k + fwidth <= K; k += fwidth) simd::store_int16(q + k, quantized_lanes(row + k, inverse));
    for (; k < K; ++k) q[k] = static_cast<int16_t>(quantized_value(row[k], inverse));
    for (; k < ldq; ++k) q[k] = 0;
  }
  return true;
}

}  // namespace

// Loading an int8 model and every generation's reset_state() re-quantise all of a recurrent model's matrices, so
// this runs on the path to the first token: the reference's libm fmin/fmax per element took most of a load.
bool quantize_rows_int8(int8_t* Q, float* scales, const float* W, int M, int K) {
  return simd::pick(ref::quantize_rows_int8, quantize_rows_int8_simd)(Q, scales, W, M, K);
}

// Every int8 product of a step or a prompt's batch quantises its input rows first (compact_matrices.cpp).
bool quantize_rows_int16(int16_t* Q, int ldq, float* scales, const float* X, int M, int K) {
  return simd::pick(ref::quantize_rows_int16, quantize_rows_int16_simd)(Q, ldq, scales, X, M, K);
}

}  // namespace tinylm
