// The kernels that dominate a training step or a large model's generated token, split over a pool: the same
// names and arguments as kernels.hpp with the pool first (null = serial). Each result is the same, bit for bit,
// whatever the pool's size:
//  * products split C (M,N) into blocks of rows or of columns; every element's K-sum runs in one thread through
//    the serial kernel, whose arithmetic for an element does not depend on the block it is computed in;
//  * matrix-vector products split their output rows, and only above a size where waking threads pays (small
//    models generate on the caller alone);
//  * row-wise kernels split rows; element-wise passes split at multiples of kElementGrain floats, a multiple of
//    every SIMD width, so each element falls in the vector body or the scalar tail as in one serial call;
//  * sums over rows (LayerNorm's weight and bias gradients, the squared norm) keep one partial per fixed chunk
//    and add the partials in chunk order.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/kernels.hpp"
#include "parallel/parallel_for.hpp"

namespace tinylm {

// ---- matrix products (contracts in kernels.hpp) ------------------------------------------------------------
void sgemm_nn(ThreadPool* pool, float* C, int ldc, const float* A, int lda, const float* B, int ldb, int M, int N,
              int K, float beta);
void sgemm_nt(ThreadPool* pool, float* C, int ldc, const float* A, int lda, const float* B, int ldb, int M, int N,
              int K, float beta);
void sgemm_tn(ThreadPool* pool, float* C, int ldc, const float* A, int lda, const float* B, int ldb, int M, int N,
              int K, float beta);
void sgemm_nt_bias(ThreadPool* pool, float* C, int ldc, const float* A, int lda, const float* B, int ldb,
                   const float* bias, int M, int N, int K);
void sgemv(ThreadPool* pool, float* y, const float* A, int lda, const float* x, int M, int K, float beta, int N = 1);
void sgemv_f16(ThreadPool* pool, float* y, const uint16_t* panels, const float* x, int M, int K, float beta,
               int N = 1);
void sgemv_q8(ThreadPool* pool, float* y, const int8_t* A, const float* scales, int lda, const float* x, int M, int K,
              float beta);

// PackedMatrix::pack_nt / pack_nn (kernels.hpp) with the panels split over the pool: a recurrent layer repacks its
// weights every training step, 1 MB or more, which one thread copies while the other waits.
void pack_nt(ThreadPool* pool, PackedMatrix& packed, const float* B, int ldb, int N, int K);
void pack_nn(ThreadPool* pool, PackedMatrix& packed, const float* B, int ldb, int K, int N);

// ---- rows ------------------------------------------------------------------------------------------------------
void layernorm_rows_forward(ThreadPool* pool, float* out, float* mean, float* rstd, const float* x,
                            const float* weight, const float* bias, int N, int C);
// partials: scratch that grows to layernorm_partials_size(N, C) floats (the per-chunk sums of dweight and dbias).
void layernorm_rows_backward(ThreadPool* pool, float* dx, float* dweight, float* dbias, const float* dout,
                             const float* x, const float* weight, const float* mean, const float* rstd, int N, int C,
                             std::vector<float>& partials);
// The loss sum is added in row order, in double, as the serial kernel adds it.
double softmax_xent_forward(ThreadPool* pool, float* probs, float* losses, const float* logits,
                            const int32_t* targets, int N, int V);
void softmax_xent_backward(ThreadPool* pool, float* dlogits, const float* probs, const int32_t* targets, float dloss,
                           int N, int V);
// dsum (C) += column sums of rows (N,C) (a bias gradient): rows split in chunks that depend on N and C alone, each
// summed in row order, the chunks' sums added in order.
void column_sums_accumulate(ThreadPool* pool, float* dsum, const float* rows, int N, int C);
// dtable (V,C) += rows (N,C) scattered by ids (an embedding gradient): columns split, each row added in order.
void scatter_rows_accumulate(ThreadPool* pool, float* dtable, const float* rows, const int32_t* ids, int N, int C);

// ---- element-wise ----------------------------------------------------------------------------------------------
inline constexpr int64_t kElementGrain = 16384;  // floats per chunk: 64 KB, tens of µs of the slowest pass
// fn(begin, end) over [0, n) in chunks of kElementGrain.
template <typename Fn>
void parallel_elementwise(ThreadPool* pool, int64_t n, Fn&& fn) {
  parallel_for(pool, n, kElementGrain, fn);
}
// fn(begin, end) over N rows of `width` floats, about kElementGrain floats per chunk (at least one row).
template <typename Fn>
void parallel_rows(ThreadPool* pool, int64_t N, int64_t width, Fn&& fn) {
  parallel_for(pool, N, std::max<int64_t>(1, kElementGrain / std::max<int64_t>(width, 1)), fn);
}
// fn(begin, end) over the C columns of a pass down N rows (sums over rows, each column's in row order): blocks of
// a multiple of 64 columns (every SIMD width divides it), about kElementGrain floats of work each.
template <typename Fn>
void parallel_columns(ThreadPool* pool, int64_t N, int64_t C, Fn&& fn) {
  const int64_t blocks = std::max<int64_t>(1, kElementGrain / std::max<int64_t>(N, 1) / 64 + 1);
  parallel_for(pool, C, blocks * 64, fn);
}
void axpy(ThreadPool* pool, float* y, float alpha, const float* x, int64_t n);
// buffer = `size` zeros, the fill split over the pool: a layer's zeroed gradient (megabytes in training) cleared on
// one thread would leave the others idle, long enough to fall asleep.
void assign_zeros(ThreadPool* pool, std::vector<float>& buffer, int64_t size);
// Σ x² in double: per-chunk partials (at most 64 chunks, of a size that depends on n alone) added in order.
double sum_squares(ThreadPool* pool, const float* x, int64_t n);

}  // namespace tinylm
