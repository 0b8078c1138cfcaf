#include "layers/linear.hpp"

#include <algorithm>
#include <cstring>

#include "parallel/parallel_kernels.hpp"

namespace tinylm {

void embedding_forward(ThreadPool* pool, float* out, const int32_t* ids, const float* table, int N, int C) {
  parallel_rows(pool, N, C, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n)
      std::memcpy(out + n * C, table + int64_t(ids[n]) * C, sizeof(float) * C);
  });
}

void embedding_backward(ThreadPool* pool, float* dtable, const float* dout, const int32_t* ids, int N, int C) {
  if (!dtable) return;
  scatter_rows_accumulate(pool, dtable, dout, ids, N, C);
}

void linear_forward(ThreadPool* pool, float* out, const float* in, const float* weight, const float* bias, int N,
                    int I, int O) {
  if (bias) sgemm_nt_bias(pool, out, O, in, I, weight, I, bias, N, O, I);
  else sgemm_nt(pool, out, O, in, I, weight, I, N, O, I, 0.0f);
}

void bias_backward(ThreadPool* pool, float* dbias, const float* dout, int N, int O) {
  column_sums_accumulate(pool, dbias, dout, N, O);
}

void linear_backward(ThreadPool* pool, float* din, float* dweight, float* dbias, const float* dout, const float* in,
                     const float* weight, int N, int I, int O, float din_beta) {
  if (dweight) sgemm_tn(pool, dweight, I, dout, O, in, I, O, I, N, 1.0f);
  if (dbias) bias_backward(pool, dbias, dout, N, O);
  if (din) sgemm_nn(pool, din, I, dout, O, weight, I, N, I, O, din_beta);
}

}  // namespace tinylm
