// Scalar reference for the LayerNorm kernels (contract in kernels.hpp), written straight from nn.LayerNorm's
// definition with row statistics accumulated in double. Also what the public names run in a
// TINYLM_FORCE_SCALAR build.
#include <cmath>

#include "kernels/kernels.hpp"

namespace tinylm::ref {

namespace {
constexpr double kLayerNormEps = 1e-5;  // nn.LayerNorm's default, which nanoGPT keeps
}  // namespace

void layernorm_rows_forward(float* out, float* mean, float* rstd, const float* x, const float* weight,
                            const float* bias, int N, int C) {
  for (int n = 0; n < N; ++n) {
    const float* row = x + int64_t(n) * C;
    double sum = 0;
    for (int c = 0; c < C; ++c) sum += row[c];
    const double row_mean = sum / C;
    double squares = 0;
    for (int c = 0; c < C; ++c) squares += (row[c] - row_mean) * (row[c] - row_mean);
    const double row_rstd = 1.0 / std::sqrt(squares / C + kLayerNormEps);
    float* out_row = out + int64_t(n) * C;
    for (int c = 0; c < C; ++c) {
      const double normalized = (row[c] - row_mean) * row_rstd;
      out_row[c] = float(normalized * weight[c] + (bias ? bias[c] : 0.0f));
    }
    mean[n] = float(row_mean);
    rstd[n] = float(row_rstd);
  }
}

void layernorm_rows_backward(float* dx, float* dweight, float* dbias, const float* dout, const float* x,
                             const float* weight, const float* mean, const float* rstd, int N, int C) {
  for (int n = 0; n < N; ++n) {
    const float* row = x + int64_t(n) * C;
    const float* grad = dout + int64_t(n) * C;
    double grad_mean = 0, grad_xhat_mean = 0;  // mean(g), mean(g⊙x̂) with g = dout⊙weight
    for (int c = 0; c < C; ++c) {
      const double xhat = (double(row[c]) - mean[n]) * rstd[n];
      grad_mean += double(grad[c]) * weight[c];
      grad_xhat_mean += double(grad[c]) * weight[c] * xhat;
    }
    grad_mean /= C;
    grad_xhat_mean /= C;
    float* dx_row = dx + int64_t(n) * C;
    for (int c = 0; c < C; ++c) {
      const double xhat = (double(row[c]) - mean[n]) * rstd[n];
      const double g = double(grad[c]) * weight[c];
      dx_row[c] += float(rstd[n] * (g - grad_mean - xhat * grad_xhat_mean));
      dweight[c] += float(grad[c] * xhat);
      if (dbias) dbias[c] += grad[c];
    }
  }
}

}  // namespace tinylm::ref
