#include "layers/linear.hpp"

#include <algorithm>
#include <cstring>

#include "kernels/kernels.hpp"

namespace tinylm {

void embedding_forward(float* out, const int32_t* ids, const float* table, int N, int C) {
  for (int n = 0; n < N; ++n) std::memcpy(out + int64_t(n) * C, table + int64_t(ids[n]) * C, sizeof(float) * C);
}

void embedding_backward(float* dtable, const float* dout, const int32_t* ids, int N, int C) {
  if (!dtable) return;
  for (int n = 0; n < N; ++n) axpy(dtable + int64_t(ids[n]) * C, 1.0f, dout + int64_t(n) * C, C);
}

void linear_forward(float* out, const float* in, const float* weight, const float* bias, int N, int I, int O) {
  if (bias) sgemm_nt_bias(out, O, in, I, weight, I, bias, N, O, I);
  else sgemm_nt(out, O, in, I, weight, I, N, O, I, 0.0f);
}

void bias_backward(float* dbias, const float* dout, int N, int O) {
  for (int n = 0; n < N; ++n) axpy(dbias, 1.0f, dout + int64_t(n) * O, O);
}

void linear_backward(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                     const float* weight, int N, int I, int O, float din_beta) {
  if (dweight) sgemm_tn(dweight, I, dout, O, in, I, O, I, N, 1.0f);
  if (dbias) bias_backward(dbias, dout, N, O);
  if (din) sgemm_nn(din, I, dout, O, weight, I, N, I, O, din_beta);
}

}  // namespace tinylm
