// Scalar reference for the GELU kernels (contract in kernels.hpp): PyTorch's two formulas, element by element,
// in double. Also what the public names run in a TINYLM_FORCE_SCALAR build.
#include <cmath>

#include "kernels/kernels.hpp"

namespace tinylm::ref {

namespace {
const double kSqrt2OverPi = std::sqrt(2.0 / M_PI);
constexpr double kCubic = 0.044715;
const double kInvSqrt2 = 1.0 / std::sqrt(2.0);
const double kInvSqrt2Pi = 1.0 / std::sqrt(2.0 * M_PI);
}  // namespace

void gelu_tanh_forward(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double v = x[i];
    y[i] = float(0.5 * v * (1.0 + std::tanh(kSqrt2OverPi * (v + kCubic * v * v * v))));
  }
}

void gelu_exact_forward(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double v = x[i];
    y[i] = float(0.5 * v * (1.0 + std::erf(v * kInvSqrt2)));
  }
}

void gelu_tanh_backward(float* dx, const float* dy, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double v = x[i];
    const double t = std::tanh(kSqrt2OverPi * (v + kCubic * v * v * v));
    const double derivative = 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * kSqrt2OverPi * (1.0 + 3.0 * kCubic * v * v);
    dx[i] = float(dy[i] * derivative);
  }
}

void gelu_exact_backward(float* dx, const float* dy, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double v = x[i];
    const double derivative = 0.5 * (1.0 + std::erf(v * kInvSqrt2)) + v * std::exp(-0.5 * v * v) * kInvSqrt2Pi;
    dx[i] = float(dy[i] * derivative);
  }
}

}  // namespace tinylm::ref
