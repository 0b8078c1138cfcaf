// SIMD GELU kernels, both PyTorch variants (contract in kernels.hpp). Element-wise: one vector loop and a
// scalar tail, each formula written once against a lane type T (fbatch for the body, float for the tail).
// xsimd's tanh and erf are the Cephes-style approximations (a few ulp), branch-free on batches.
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

inline xsimd::batch<float> erf_of(const xsimd::batch<float>& v) { return xsimd::erf(v); }
inline float erf_of(float v) { return std::erf(v); }

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
    store(y + i, T(0.5f) * v * (T(1.0f) + erf_of(v * T(kInvSqrt2))));
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
    const T cdf = T(0.5f) * (T(1.0f) + erf_of(v * T(kInvSqrt2)));
    const T pdf = simd::exp(T(-0.5f) * v * v) * T(kInvSqrt2Pi);
    store(dx + i, load_as<T>(dy + i) * (cdf + v * pdf));
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
