// Llama kernel tests: RMSNorm, the rotary rotation and SwiGLU, each SIMD implementation against its scalar
// reference (llama_kernels.hpp lists the pairs) at every tile boundary of this build's register width (sizes
// 1 … 3·width + 1), with sentinels after every output that must survive. Tolerances come from float rounding: an
// n-term sum is within n·max|term|·eps of the exact value, element-wise transcendental results within a few ulps.
#include <cfloat>
#include <cmath>
#include <random>
#include <vector>

#include <doctest/doctest.h>

#include "kernels/llama_kernels.hpp"
#include "kernel_test_support.hpp"

using namespace tinylm::testing;

TEST_CASE("llama kernels: rmsnorm forward and backward match the reference") {
  std::mt19937 rng(61);
  const int N = 3;
  for (int C : tile_sizes()) {
    CAPTURE(C);
    for (float eps_norm : {1e-5f, 1e-6f}) {
      auto x = random_vector(std::size_t(N) * C, rng, -2.0f, 2.0f);
      const auto weight = random_vector(C, rng, 0.5f, 1.5f);
      auto out = with_guard(std::vector<float>(std::size_t(N) * C, NAN)), out_ref = out;
      auto rstd = with_guard(std::vector<float>(N, NAN)), rstd_ref = rstd;
      tinylm::rmsnorm_rows_forward(out.data(), rstd.data(), x.data(), weight.data(), eps_norm, N, C);
      tinylm::ref::rmsnorm_rows_forward(out_ref.data(), rstd_ref.data(), x.data(), weight.data(), eps_norm, N, C);
      const float max_rstd = max_abs(rstd_ref.data(), N), x_scale = max_abs(x);
      // A C-term sum of squares is off by C·eps relatively; rstd by half that, out by that plus two products.
      for (int n = 0; n < N; ++n) CHECK(std::fabs(rstd[n] - rstd_ref[n]) <= (C + 4) * eps * rstd_ref[n]);
      const float out_tolerance = 2.0f * (C + 4) * eps * x_scale * max_rstd * max_abs(weight);
      for (int i = 0; i < N * C; ++i) CHECK(std::fabs(out[i] - out_ref[i]) <= out_tolerance);
      check_guard(out, std::size_t(N) * C, "rmsnorm_rows_forward out");
      check_guard(rstd, N, "rmsnorm_rows_forward rstd");

      // Backward from the reference statistic, accumulating onto random gradients.
      const auto dout = random_vector(std::size_t(N) * C, rng);
      auto dx = with_guard(random_vector(std::size_t(N) * C, rng)), dx_ref = dx;
      auto dweight = with_guard(random_vector(C, rng)), dweight_ref = dweight;
      tinylm::rmsnorm_rows_backward(dx.data(), dweight.data(), dout.data(), x.data(), weight.data(), rstd_ref.data(),
                                    N, C);
      tinylm::ref::rmsnorm_rows_backward(dx_ref.data(), dweight_ref.data(), dout.data(), x.data(), weight.data(),
                                         rstd_ref.data(), N, C);
      const float xhat_scale = x_scale * max_rstd, grad_scale = max_abs(dout) * max_abs(weight);
      const float dx_tolerance = 4.0f * (C + 4) * eps * max_rstd * grad_scale * (1.0f + xhat_scale) *
                                     (1.0f + xhat_scale) + 2.0f * eps * max_abs(dx_ref);
      for (int i = 0; i < N * C; ++i) CHECK(std::fabs(dx[i] - dx_ref[i]) <= dx_tolerance);
      for (int c = 0; c < C; ++c)
        CHECK(std::fabs(dweight[c] - dweight_ref[c]) <= 2.0f * (N + 2) * eps * (max_abs(dout) * xhat_scale + 1.0f));
      check_guard(dx, std::size_t(N) * C, "rmsnorm_rows_backward dx");
      check_guard(dweight, C, "rmsnorm_rows_backward dweight");
    }
  }
}

TEST_CASE("llama kernels: rotary forward and backward match the reference, and backward undoes forward") {
  std::mt19937 rng(67);
  for (int half : tile_sizes()) {
    const int D = 2 * half;
    for (int heads : {1, 3}) {
      CAPTURE(D);
      CAPTURE(heads);
      // A unit-circle table at random angles, as RotaryTable holds.
      std::vector<float> cos(half), sin(half);
      for (int i = 0; i < half; ++i) {
        const float angle = std::uniform_real_distribution<float>(-40.0f, 40.0f)(rng);
        cos[i] = std::cos(angle);
        sin[i] = std::sin(angle);
      }
      const std::size_t n = std::size_t(heads) * D;
      const auto x = random_vector(n, rng, -3.0f, 3.0f);
      auto rotated = with_guard(x), rotated_ref = rotated;
      tinylm::rotary_forward(rotated.data(), cos.data(), sin.data(), heads, D);
      tinylm::ref::rotary_forward(rotated_ref.data(), cos.data(), sin.data(), heads, D);
      // Two products and a sum per element.
      const float tolerance = 4.0f * eps * 2.0f * max_abs(x);
      for (std::size_t i = 0; i < n; ++i) CHECK(std::fabs(rotated[i] - rotated_ref[i]) <= tolerance);
      check_guard(rotated, n, "rotary_forward");
      // A rotation keeps each pair's length.
      for (int h = 0; h < heads; ++h) {
        for (int i = 0; i < half; ++i) {
          const std::size_t a = std::size_t(h) * D + i, b = a + half;
          const double before = double(x[a]) * x[a] + double(x[b]) * x[b];
          const double after = double(rotated[a]) * rotated[a] + double(rotated[b]) * rotated[b];
          CHECK(std::fabs(after - before) <= 16 * eps * (before + 1e-6));
        }
      }
      auto back = with_guard(std::vector<float>(rotated.begin(), rotated.begin() + n));
      auto back_ref = with_guard(std::vector<float>(rotated_ref.begin(), rotated_ref.begin() + n));
      tinylm::rotary_backward(back.data(), cos.data(), sin.data(), heads, D);
      tinylm::ref::rotary_backward(back_ref.data(), cos.data(), sin.data(), heads, D);
      for (std::size_t i = 0; i < n; ++i) {
        CHECK(std::fabs(back[i] - back_ref[i]) <= 2.0f * tolerance);
        CHECK(std::fabs(back[i] - x[i]) <= 2.0f * tolerance);  // the transpose of a rotation is its inverse
      }
      check_guard(back, n, "rotary_backward");
    }
  }
}

TEST_CASE("llama kernels: swiglu forward and backward match the reference") {
  std::mt19937 rng(71);
  auto sizes = tile_sizes();
  sizes.insert(sizes.begin(), 0);
  sizes.push_back(1001);
  constexpr float ulps = 16.0f;  // xsimd's exp within a few ulps, composed with a handful of products
  for (int n : sizes) {
    CAPTURE(n);
    const auto gate = random_vector(std::size_t(n), rng, -12.0f, 12.0f), up = random_vector(std::size_t(n), rng);
    auto out = with_guard(std::vector<float>(n, NAN));
    std::vector<float> out_ref(n);
    tinylm::swiglu_forward(out.data(), gate.data(), up.data(), n);
    tinylm::ref::swiglu_forward(out_ref.data(), gate.data(), up.data(), n);
    for (int i = 0; i < n; ++i)
      CHECK_MESSAGE(std::fabs(out[i] - out_ref[i]) <= ulps * eps * (std::fabs(out_ref[i]) + FLT_MIN), "g=", gate[i]);
    check_guard(out, n, "swiglu_forward");
    auto in_place = gate;  // out may alias gate
    tinylm::swiglu_forward(in_place.data(), in_place.data(), up.data(), n);
    for (int i = 0; i < n; ++i) CHECK(in_place[i] == out[i]);

    const auto dout = random_vector(std::size_t(n), rng);
    auto dgate = with_guard(std::vector<float>(n, NAN)), dup = dgate;
    std::vector<float> dgate_ref(n), dup_ref(n);
    tinylm::swiglu_backward(dgate.data(), dup.data(), dout.data(), gate.data(), up.data(), n);
    tinylm::ref::swiglu_backward(dgate_ref.data(), dup_ref.data(), dout.data(), gate.data(), up.data(), n);
    for (int i = 0; i < n; ++i) {
      // silu'(g) = σ(1 + g(1 − σ)) is a sum of terms up to |g|·σ(1−σ): bound by those terms, not the result.
      const float slope_terms = 1.0f + std::fabs(gate[i]);
      CHECK_MESSAGE(std::fabs(dgate[i] - dgate_ref[i]) <= ulps * eps * std::fabs(dout[i] * up[i]) * slope_terms,
                    "g=", gate[i]);
      CHECK_MESSAGE(std::fabs(dup[i] - dup_ref[i]) <= ulps * eps * (std::fabs(dup_ref[i]) + FLT_MIN), "g=", gate[i]);
    }
    check_guard(dgate, n, "swiglu_backward dgate");
    check_guard(dup, n, "swiglu_backward dup");
  }
}
