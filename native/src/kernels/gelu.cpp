// SIMD GELU kernels, both PyTorch variants (contract in kernels.hpp). Element-wise: one vector loop and a
// scalar tail, each formula written once against a lane type T (fbatch for the body, float for the tail).
// xsimd's tanh is the Cephes-style approximation (a few ulp), branch-free on batches. The exact variant's normal
// CDF is computed here without erf or exp (near_cdf, far_cdf): xsimd's erf costs a polynomial per range plus an
// exp on every lane past its first range.
#include <cmath>

#include "kernels/kernels.hpp"
#include "kernels/simd.hpp"

namespace tinylm {

namespace {

using simd::load_as;
using simd::store;

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kCubic = 0.044715f;
constexpr float kInvSqrt2Pi = 0.3989422804014327f;

// ---- the exact GELU's Φ and slope ------------------------------------------------------------------------
// Φ(x), the standard normal CDF, and GELU's slope Φ(x) + x·φ(x), in two pieces fitted by tools/fit_normal_cdf.py:
//   |x| ≤ 1:        Φ(x) = ½ + x·S(x²) and the slope ½ + x·G(x²), S and G of degrees 4 and 5;
//   1 < |x| < 5.5:  the tail Φ(−|x|) = P(s)/Q(s) with s = |x| − 1, of degrees 6 and 6, and Φ(x) is the tail or
//                   1 − tail by the sign of x; the slope adds x·φ(x) through an exp. Beyond 5.5 the tail is 0
//                   (Φ(−5.5) = 1.9e-8).
// Taking the tail directly rather than as ½ − (something near ½) keeps the error absolute and small: checked over
// every float, within 6.4e-8 of Φ with FMA and 8.1e-8 without (so erf(x/√2) = 2Φ(x) − 1 within 1.3e-7 and
// 1.6e-7), where ½(1 + xsimd::erf(x/√2)) is within 9.2e-8; the slope within 1.4e-7 and 1.7e-7, as it was. One odd
// rational x·P(x²)/Q(x²) for all x is a third cheaper, but its value sits near ½ for most x and float rounding
// puts it ~2e-7 off.

template <typename T>
[[gnu::always_inline]] inline T near_cdf(const T& x) {
  const T s = simd::horner(x * x, 0.398942262f, -0.0664895847f, 0.00996719673f, -0.00116935384f, 9.42353072e-05f);
  return simd::multiply_add(x, s, T(0.5f));
}

template <typename T>
[[gnu::always_inline]] inline T near_slope(const T& x) {
  const T g = simd::horner(x * x, 0.797884583f, -0.26596123f, 0.0598380454f, -0.0094846813f, 0.00112731033f,
                           -8.8530971e-05f);
  return simd::multiply_add(x, g, T(0.5f));
}

template <typename T>
[[gnu::always_inline]] inline T far_cdf(const T& x) {
  const T magnitude = xsimd::abs(x);
  const T s = magnitude - T(1.0f);
  const T fitted_tail = simd::horner(s, 83.2940903f, -115.976051f, 68.1441574f, -21.6088085f, 3.8965764f,
                                     -0.378456086f, 0.0154508445f) /
                        simd::horner(s, 525.000549f, 69.7009048f, 135.496475f, 17.1004238f, 14.6917152f,
                                     1.26709676f, 1.0f);
  const T tail = simd::select(magnitude < T(5.5f), fitted_tail, T(0.0f));
  return simd::select(x < T(0.0f), tail, T(1.0f) - tail);
}

// near() on the lanes with |x| ≤ 1 (and NaN), far() on the others, each a lane-wise formula in x. far() runs only
// when some lane needs it: most activations of a freshly initialised model are that small, and xsimd's erf had
// the same shortcut. Lanes outside a piece may compute garbage, even NaN for huge |x|; the select drops it.
// Inlining is forced: g++ 12 kept far_cdf out of line, spilling x to the stack on every iteration of the loop.
template <typename T, typename Near, typename Far>
[[gnu::always_inline]] inline T by_magnitude(const T& x, Near&& near, Far&& far) {
  const T near_value = near();
  const auto beyond = xsimd::abs(x) > T(1.0f);
  return simd::any(beyond) ? simd::select(beyond, far(), near_value) : near_value;
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
    store(y + i, v * by_magnitude(v, [&] { return near_cdf(v); }, [&] { return far_cdf(v); }));
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
    const T slope = by_magnitude(v, [&] { return near_slope(v); }, [&] {
      return far_cdf(v) + v * simd::exp(T(-0.5f) * v * v) * T(kInvSqrt2Pi);
    });
    store(dx + i, load_as<T>(dy + i) * slope);
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
