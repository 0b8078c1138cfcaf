// What the kernel tests share: float epsilon, sentinel guards after output buffers, random vectors, and the
// sizes that cross every tile boundary of this build's register width (STYLE rules 9 and 10).
#pragma once
#include <doctest/doctest.h>

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

#include "kernels/simd.hpp"

namespace tinylm::testing {

constexpr float eps = FLT_EPSILON;
constexpr float sentinel = -12345.678f;
constexpr int guard = 19;  // sentinel floats after every output buffer
inline const int width = tinylm::simd::fwidth;

inline std::vector<float> random_vector(std::size_t n, std::mt19937& rng, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

inline float max_abs(const float* v, std::size_t n) {
  float m = 0.0f;
  for (std::size_t i = 0; i < n; ++i) m = std::fmax(m, std::fabs(v[i]));
  return m;
}
inline float max_abs(const std::vector<float>& v) { return max_abs(v.data(), v.size()); }

// Sizes that cross every tile boundary of this build's register width: 1 … 3·width + 1.
inline std::vector<int> tile_sizes() {
  std::vector<int> sizes;
  for (int n = 1; n <= 3 * width + 1; ++n) sizes.push_back(n);
  return sizes;
}

// Appends `guard` sentinels; check_guard verifies they survived.
inline std::vector<float> with_guard(std::vector<float> v) {
  v.insert(v.end(), guard, sentinel);
  return v;
}
inline void check_guard(const std::vector<float>& v, std::size_t n, const char* what) {
  for (int g = 0; g < guard; ++g) CHECK_MESSAGE(v[n + g] == sentinel, what, " overwrote the sentinel at ", n + g);
}

}  // namespace tinylm::testing
