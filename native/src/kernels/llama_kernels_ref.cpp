// Scalar references for the Llama kernels (contract in llama_kernels.hpp), written straight from the definitions
// with sums and products in double. Also what the public names run in a TINYLM_FORCE_SCALAR build.
#include <cmath>

#include "kernels/llama_kernels.hpp"

namespace tinylm::ref {

void rmsnorm_rows_forward(float* out, float* rstd, const float* x, const float* weight, float eps, int N, int C) {
  for (int n = 0; n < N; ++n) {
    const float* row = x + int64_t(n) * C;
    double squares = 0;
    for (int c = 0; c < C; ++c) squares += double(row[c]) * row[c];
    const double row_rstd = 1.0 / std::sqrt(squares / C + eps);
    for (int c = 0; c < C; ++c) out[int64_t(n) * C + c] = float(row[c] * row_rstd * weight[c]);
    rstd[n] = float(row_rstd);
  }
}

void rmsnorm_rows_backward(float* dx, float* dweight, const float* dout, const float* x, const float* weight,
                           const float* rstd, int N, int C) {
  for (int n = 0; n < N; ++n) {
    const float* row = x + int64_t(n) * C;
    const float* grad = dout + int64_t(n) * C;
    const double row_rstd = rstd[n];
    double grad_xhat = 0;  // Σ g⊙x̂
    for (int c = 0; c < C; ++c) grad_xhat += double(grad[c]) * weight[c] * row[c] * row_rstd;
    const double grad_xhat_mean = grad_xhat / C;
    for (int c = 0; c < C; ++c) {
      const double xhat = row[c] * row_rstd;
      const double g = double(grad[c]) * weight[c];
      dx[int64_t(n) * C + c] = float(dx[int64_t(n) * C + c] + row_rstd * (g - xhat * grad_xhat_mean));
      dweight[c] = float(dweight[c] + double(grad[c]) * xhat);
    }
  }
}

void rotary_forward(float* x, const float* cos, const float* sin, int heads, int D) {
  const int half = D / 2;
  for (int h = 0; h < heads; ++h) {
    float* head = x + int64_t(h) * D;
    for (int i = 0; i < half; ++i) {
      const double first = head[i], second = head[i + half];
      head[i] = float(first * cos[i] - second * sin[i]);
      head[i + half] = float(second * cos[i] + first * sin[i]);
    }
  }
}

void rotary_backward(float* dx, const float* cos, const float* sin, int heads, int D) {
  const int half = D / 2;
  for (int h = 0; h < heads; ++h) {
    float* head = dx + int64_t(h) * D;
    for (int i = 0; i < half; ++i) {
      const double first = head[i], second = head[i + half];
      head[i] = float(first * cos[i] + second * sin[i]);
      head[i + half] = float(second * cos[i] - first * sin[i]);
    }
  }
}

void swiglu_forward(float* out, const float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double g = gate[i], sigmoid = 1.0 / (1.0 + std::exp(-g));
    out[i] = float(g * sigmoid * up[i]);
  }
}

void swiglu_backward(float* dgate, float* dup, const float* dout, const float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double g = gate[i], sigmoid = 1.0 / (1.0 + std::exp(-g));
    dgate[i] = float(double(dout[i]) * up[i] * sigmoid * (1.0 + g * (1.0 - sigmoid)));
    dup[i] = float(double(dout[i]) * g * sigmoid);
  }
}

}  // namespace tinylm::ref
