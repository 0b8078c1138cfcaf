// Scalar references for the matrix kernels: the textbook triple loop, one dot product per output, accumulated
// in double so tests can compare the SIMD kernels against something more accurate than themselves.
// Also what every public name runs in a TINYLM_FORCE_SCALAR build.
#include "half.hpp"
#include "kernels/kernels.hpp"

namespace tinylm::ref {

namespace {
// C (M,N) = beta*C + op(A)·op(B) with op(A)[i][k] = A[i*a_row + k*a_col] and op(B)[k][j] = B[k*b_row + j*b_col].
void gemm_strided(float* C, int ldc, const float* A, int a_row, int a_col, const float* B, int b_row, int b_col,
                  int M, int N, int K, float beta) {
  for (int i = 0; i < M; ++i) {
    for (int j = 0; j < N; ++j) {
      double sum = 0.0;
      for (int k = 0; k < K; ++k)
        sum += double(A[(long)i * a_row + (long)k * a_col]) * double(B[(long)k * b_row + (long)j * b_col]);
      float& c = C[(long)i * ldc + j];
      c = beta == 0.0f ? float(sum) : float(double(beta) * c + sum);  // beta 0 must not read garbage C
    }
  }
}
}  // namespace

void sgemm_nn(float* C, int ldc, const float* A, int lda, const float* B, int ldb, int M, int N, int K, float beta) {
  gemm_strided(C, ldc, A, lda, 1, B, ldb, 1, M, N, K, beta);
}
void sgemm_nt(float* C, int ldc, const float* A, int lda, const float* B, int ldb, int M, int N, int K, float beta) {
  gemm_strided(C, ldc, A, lda, 1, B, 1, ldb, M, N, K, beta);
}
void sgemm_tn(float* C, int ldc, const float* A, int lda, const float* B, int ldb, int M, int N, int K, float beta) {
  gemm_strided(C, ldc, A, 1, lda, B, ldb, 1, M, N, K, beta);
}

void sgemm_nt_bias(float* C, int ldc, const float* A, int lda, const float* B, int ldb, const float* bias, int M, int N,
                   int K) {
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) C[(long)i * ldc + j] = bias[j];
  sgemm_nt(C, ldc, A, lda, B, ldb, M, N, K, 1.0f);
}

void sgemv(float* y, const float* A, int lda, const float* x, int M, int K, float beta, int N, int ldy) {
  if (ldy == 0) ldy = M;
  for (int v = 0; v < N; ++v) {
    for (int i = 0; i < M; ++i) {
      double sum = 0.0;
      for (int k = 0; k < K; ++k) sum += double(A[(long)i * lda + k]) * double(x[(long)v * K + k]);
      float& out = y[(long)v * ldy + i];
      out = beta == 0.0f ? float(sum) : float(double(beta) * out + sum);
    }
  }
}

void sgemv_f16(float* y, const uint16_t* panels, const float* x, int M, int K, float beta, int N, int ldy) {
  if (ldy == 0) ldy = M;
  const int P = half_panel_rows();
  for (int v = 0; v < N; ++v) {
    for (int i = 0; i < M; ++i) {
      const uint16_t* group = panels + (long)(i / P) * P * K;  // row i is lane i % P of its group
      double sum = 0.0;
      for (int k = 0; k < K; ++k) sum += double(half_to_float(group[(long)k * P + i % P])) * double(x[(long)v * K + k]);
      float& out = y[(long)v * ldy + i];
      out = beta == 0.0f ? float(sum) : float(double(beta) * out + sum);
    }
  }
}

}  // namespace tinylm::ref
