// SIMD matrix-vector kernels: sgemv and sgemv_f16 (contract in kernels.hpp; references in gemm_ref.cpp).
// Batch-1 generation reads each weight once per token, so these are bound by memory traffic, not FMAs: no
// packing; R rows of A share each load of x, one vector accumulator per row, reduced once at the end.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "half.hpp"
#include "kernels/kernels.hpp"
#include "kernels/simd.hpp"

namespace tinylm {

namespace {

using simd::fbatch;
using simd::fwidth;
using simd::load;
using simd::unroll;
using index_t = std::ptrdiff_t;

// C tile (R, CC) = beta·C + A rows (R, K) · B rowsᵀ (CC, K); A and B contiguous along K.
template <int R, int CC>
void dot_tile(float* C, int ldc, const float* A, int lda, const float* B, int ldb, int K, float beta) {
  fbatch acc[R * CC];
  unroll<R * CC>([&](auto t) { acc[t] = fbatch(0.0f); });
  int k = 0;
  for (; k + fwidth <= K; k += fwidth) {
    fbatch a[R];
    unroll<R>([&](auto r) { a[r] = load(A + index_t(r) * lda + k); });
    unroll<CC>([&](auto c) {
      const fbatch b = load(B + index_t(c) * ldb + k);
      unroll<R>([&](auto r) { acc[r * CC + c] = xsimd::fma(a[r], b, acc[r * CC + c]); });
    });
  }
  float sums[R * CC];  // (R, CC)
  unroll<R * CC>([&](auto t) { sums[t] = simd::reduce_add(acc[t]); });
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < CC; ++c) {
      float sum = sums[r * CC + c];
      for (int kk = k; kk < K; ++kk) sum += A[index_t(r) * lda + kk] * B[index_t(c) * ldb + kk];
      float& out = C[index_t(r) * ldc + c];
      out = beta == 0.0f ? sum : beta * out + sum;
    }
  }
}

// y (M) = beta·y + A (M,K) · x (K), A in half precision: R rows share each load of x; the tail of K is scalar.
template <int R>
void half_rows(float* y, const uint16_t* A, int lda, const float* x, int K, float beta) {
  fbatch acc[R];
  unroll<R>([&](auto r) { acc[r] = fbatch(0.0f); });
  int k = 0;
  for (; k + fwidth <= K; k += fwidth) {
    const fbatch xk = load(x + k);
    unroll<R>([&](auto r) { acc[r] = xsimd::fma(simd::load_half(A + index_t(r) * lda + k), xk, acc[r]); });
  }
  for (int r = 0; r < R; ++r) {
    float sum = simd::reduce_add(acc[r]);
    for (int kk = k; kk < K; ++kk) sum += half_to_float(A[index_t(r) * lda + kk]) * x[kk];
    y[r] = beta == 0.0f ? sum : beta * y[r] + sum;
  }
}

void sgemv_f16_simd(float* y, const uint16_t* A, int lda, const float* x, int M, int K, float beta) {
  constexpr int rows = 4;
  int i = 0;
  for (; i + rows <= M; i += rows) half_rows<rows>(y + i, A + index_t(i) * lda, lda, x, K, beta);
  for (; i < M; ++i) half_rows<1>(y + i, A + index_t(i) * lda, lda, x, K, beta);
}

// y (M) = beta·y + A (M,K) · x (K): eight rows share each load of x.
void sgemv_simd(float* y, const float* A, int lda, const float* x, int M, int K, float beta) {
  constexpr int rows = 8;
  int i = 0;
  for (; i + rows <= M; i += rows) dot_tile<rows, 1>(y + i, 1, A + index_t(i) * lda, lda, x, 0, K, beta);
  for (; i < M; ++i) dot_tile<1, 1>(y + i, 1, A + index_t(i) * lda, lda, x, 0, K, beta);
}

}  // namespace

void sgemv(float* y, const float* A, int lda, const float* x, int M, int K, float beta) {
  simd::pick(ref::sgemv, sgemv_simd)(y, A, lda, x, M, K, beta);
}

void sgemv_f16(float* y, const uint16_t* A, int lda, const float* x, int M, int K, float beta) {
  simd::pick(ref::sgemv_f16, sgemv_f16_simd)(y, A, lda, x, M, K, beta);
}

bool half_weights_are_fast() { return simd::hardware_half && !simd::force_scalar; }

bool convert_to_half(uint16_t* out, const float* in, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (!(std::abs(in[i]) <= 65504.0f)) return false;  // also rejects NaN
    out[i] = float_to_half(in[i]);
  }
  return true;
}

}  // namespace tinylm
