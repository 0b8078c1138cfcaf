// SIMD GELU kernels, both PyTorch variants (contract in kernels.hpp). Element-wise: one vector loop and a
// scalar tail, each formula written once against a lane type T (fbatch for the body, float for the tail).
// xsimd's tanh is the Cephes-style approximation (a few ulp), branch-free on batches. The exact variant's normal
// CDF is computed here instead of through xsimd's erf, whose several ranges each cost a polynomial on every lane.
#include <cmath>

#include "kernels/kernels.hpp"
#include "kernels/simd.hpp"

namespace tinylm {

namespace {

using simd::load_as;
using simd::store;

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kCubic = 0.044715f;
constexpr float kInvSqrt2 = 0.7071067811865476f;
constexpr float kInvSqrt2Pi = 0.3989422804014327f;

inline xsimd::batch<float> where_nonnegative(const xsimd::batch<float>& x, const xsimd::batch<float>& if_true,
                                             const xsimd::batch<float>& if_false) {
  return xsimd::select(x >= xsimd::batch<float>(0.0f), if_true, if_false);
}
inline float where_nonnegative(float x, float if_true, float if_false) { return x >= 0.0f ? if_true : if_false; }
inline xsimd::batch<float> absolute(const xsimd::batch<float>& x) { return xsimd::abs(x); }
inline float absolute(float x) { return std::fabs(x); }

// The normal CDF Φ(x) = ½(1 + erf(x/√2)) and the Gaussian factor e^(−x²/2), which φ(x) is too, from one exp:
// erf(z) = 1 − t·P(t)·e^(−z²) with t = 1/(1 + p·z) for z ≥ 0 (Abramowitz & Stegun 7.1.26, |error| ≤ 1.5e-7, about
// a float ulp at 1), and Φ(−x) = 1 − Φ(x).
template <typename T>
void normal_cdf(const T& x, T& cdf, T& gauss) {
  gauss = simd::exp(T(-0.5f) * x * x);
  const T t = T(1.0f) / (T(1.0f) + T(0.3275911f * kInvSqrt2) * absolute(x));
  const T poly = t * (T(0.254829592f) + t * (T(-0.284496736f) + t * (T(1.421413741f) + t * (T(-1.453152027f) +
                                                                                             t * T(1.061405429f)))));
  const T tail = T(0.5f) * poly * gauss;  // Φ(−|x|)
  cdf = where_nonnegative(x, T(1.0f) - tail, tail);
}

// for_each_lane over an int64 count, in chunks the int-sized helper can index.
template <typename F>
void for_each_lane_64(int64_t n, F&& f) {
  constexpr int64_t chunk = int64_t(1) << 30;
  for (int64_t start = 0; start < n; start += chunk) {
    const int count = int(n - start < chunk ? n - start : chunk);
    simd::for_each_lane(count, [&](int j, auto lane) { f(start + j, lane); });
  }
}

void gelu_tanh_forward_simd(float* y, const float* x, int64_t n) {
  for_each_lane_64(n, [&](int64_t i, auto lane) {
    using T = decltype(lane);
    const T v = load_as<T>(x + i);
    const T t = simd::tanh(T(kSqrt2OverPi) * (v + T(kCubic) * v * v * v));
    store(y + i, T(0.5f) * v * (T(1.0f) + t));
  });
}

void gelu_exact_forward_simd(float* y, const float* x, int64_t n) {
  for_each_lane_64(n, [&](int64_t i, auto lane) {
    using T = decltype(lane);
    const T v = load_as<T>(x + i);
    T cdf, gauss;
    normal_cdf(v, cdf, gauss);
    store(y + i, v * cdf);
  });
}

void gelu_tanh_backward_simd(float* dx, const float* dy, const float* x, int64_t n) {
  for_each_lane_64(n, [&](int64_t i, auto lane) {
    using T = decltype(lane);
    const T v = load_as<T>(x + i);
    const T t = simd::tanh(T(kSqrt2OverPi) * (v + T(kCubic) * v * v * v));
    const T inner_slope = T(kSqrt2OverPi) * (T(1.0f) + T(3.0f * kCubic) * v * v);
    const T derivative = T(0.5f) * (T(1.0f) + t) + T(0.5f) * v * (T(1.0f) - t * t) * inner_slope;
    store(dx + i, load_as<T>(dy + i) * derivative);
  });
}

void gelu_exact_backward_simd(float* dx, const float* dy, const float* x, int64_t n) {
  for_each_lane_64(n, [&](int64_t i, auto lane) {
    using T = decltype(lane);
    const T v = load_as<T>(x + i);
    T cdf, gauss;
    normal_cdf(v, cdf, gauss);
    store(dx + i, load_as<T>(dy + i) * (cdf + v * gauss * T(kInvSqrt2Pi)));
  });
}

}  // namespace

void gelu_tanh_forward(float* y, const float* x, int64_t n) {
  simd::pick(ref::gelu_tanh_forward, gelu_tanh_forward_simd)(y, x, n);
}
void gelu_exact_forward(float* y, const float* x, int64_t n) {
  simd::pick(ref::gelu_exact_forward, gelu_exact_forward_simd)(y, x, n);
}
void gelu_tanh_backward(float* dx, const float* dy, const float* x, int64_t n) {
  simd::pick(ref::gelu_tanh_backward, gelu_tanh_backward_simd)(dx, dy, x, n);
}
void gelu_exact_backward(float* dx, const float* dy, const float* x, int64_t n) {
  simd::pick(ref::gelu_exact_backward, gelu_exact_backward_simd)(dx, dy, x, n);
}

}  // namespace tinylm
