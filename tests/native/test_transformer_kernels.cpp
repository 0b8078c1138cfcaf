// Transformer kernel tests: LayerNorm, GELU (both variants) and the attention kernels, each SIMD implementation
// against its scalar reference (kernels.hpp lists the pairs) at every tile boundary of this build's register
// width (sizes 1 … 3·width + 1, odd sizes, strided rows), with sentinels after every output that must survive.
//
// Tolerances come from float rounding, never fixed: an n-term sum is within n·max|term|·eps of the exact value,
// element-wise transcendental results within a few ulps of the double-precision reference.
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "kernels/kernels.hpp"
#include "kernels/simd.hpp"
#include "kernel_test_support.hpp"

using namespace tinylm::testing;

// ---- LayerNorm -------------------------------------------------------------------------------------------
TEST_CASE("transformer kernels: layernorm forward and backward match the reference") {
  std::mt19937 rng(31);
  const int N = 3;
  for (int C : tile_sizes()) {
    for (bool with_bias : {true, false}) {
      CAPTURE(C);
      CAPTURE(with_bias);
      // Rows offset from zero: the statistics must not lose the variance to a large mean.
      auto x = random_vector(std::size_t(N) * C, rng);
      for (int i = 0; i < N * C; ++i) x[i] += 3.0f * (i / C);
      const auto weight = random_vector(C, rng, 0.5f, 1.5f), bias = random_vector(C, rng);
      const float* bias_or_null = with_bias ? bias.data() : nullptr;

      auto out = with_guard(std::vector<float>(std::size_t(N) * C, NAN)), out_ref = out;
      auto mean = with_guard(std::vector<float>(N, NAN)), rstd = mean, mean_ref = mean, rstd_ref = mean;
      tinylm::layernorm_rows_forward(out.data(), mean.data(), rstd.data(), x.data(), weight.data(), bias_or_null, N, C);
      tinylm::ref::layernorm_rows_forward(out_ref.data(), mean_ref.data(), rstd_ref.data(), x.data(), weight.data(),
                                          bias_or_null, N, C);
      const float max_rstd = max_abs(rstd_ref.data(), N), x_scale = max_abs(x);
      // A C-term mean is off by C·max|x|·eps; normalising scales that by rstd, the affine by max|weight|.
      const float out_tolerance =
          2.0f * (C + 4) * eps * (x_scale * max_rstd * max_abs(weight) + (with_bias ? max_abs(bias) : 0.0f));
      for (int i = 0; i < N * C; ++i) CHECK(std::fabs(out[i] - out_ref[i]) <= out_tolerance);
      for (int n = 0; n < N; ++n) {
        CHECK(std::fabs(mean[n] - mean_ref[n]) <= (C + 1) * eps * x_scale);
        CHECK(std::fabs(rstd[n] - rstd_ref[n]) <= 2.0f * (C + 4) * eps * x_scale * max_rstd * rstd_ref[n]);
      }
      check_guard(out, std::size_t(N) * C, "layernorm_rows_forward out");
      check_guard(mean, N, "layernorm_rows_forward mean");
      check_guard(rstd, N, "layernorm_rows_forward rstd");

      // Backward from the reference statistics, accumulating onto random gradients.
      const auto dout = random_vector(std::size_t(N) * C, rng);
      auto dx = with_guard(random_vector(std::size_t(N) * C, rng)), dx_ref = dx;
      auto dweight = with_guard(random_vector(C, rng)), dweight_ref = dweight;
      auto dbias = with_guard(random_vector(C, rng)), dbias_ref = dbias;
      float* dbias_or_null = with_bias ? dbias.data() : nullptr;
      float* dbias_ref_or_null = with_bias ? dbias_ref.data() : nullptr;
      tinylm::layernorm_rows_backward(dx.data(), dweight.data(), dbias_or_null, dout.data(), x.data(), weight.data(),
                                      mean_ref.data(), rstd_ref.data(), N, C);
      tinylm::ref::layernorm_rows_backward(dx_ref.data(), dweight_ref.data(), dbias_ref_or_null, dout.data(), x.data(),
                                           weight.data(), mean_ref.data(), rstd_ref.data(), N, C);
      const float xhat_scale = x_scale * max_rstd, grad_scale = max_abs(dout) * max_abs(weight);
      const float xhat_factor = (1.0f + xhat_scale) * (1.0f + xhat_scale);
      const float dx_tolerance = 4.0f * (C + 4) * eps * max_rstd * grad_scale * xhat_factor + 2.0f * eps * max_abs(dx_ref);
      for (int i = 0; i < N * C; ++i) CHECK(std::fabs(dx[i] - dx_ref[i]) <= dx_tolerance);
      for (int c = 0; c < C; ++c) {
        CHECK(std::fabs(dweight[c] - dweight_ref[c]) <= 2.0f * (N + 2) * eps * (max_abs(dout) * xhat_scale + 1.0f));
        if (with_bias) CHECK(std::fabs(dbias[c] - dbias_ref[c]) <= 2.0f * (N + 2) * eps * (max_abs(dout) + 1.0f));
      }
      check_guard(dx, std::size_t(N) * C, "layernorm_rows_backward dx");
      check_guard(dweight, C, "layernorm_rows_backward dweight");
      check_guard(dbias, C, "layernorm_rows_backward dbias");
      if (!with_bias)
        for (int c = 0; c < C; ++c) CHECK(dbias[c] == dbias_ref[c]);  // untouched without a bias
    }
  }
}

// ---- GELU ------------------------------------------------------------------------------------------------
namespace {
using GeluForward = void (*)(float*, const float*, int64_t);
using GeluBackward = void (*)(float*, const float*, const float*, int64_t);
struct GeluPair {
  const char* name;
  GeluForward forward, forward_ref;
  GeluBackward backward, backward_ref;
};
const GeluPair gelu_pairs[] = {
    {"gelu_tanh", tinylm::gelu_tanh_forward, tinylm::ref::gelu_tanh_forward, tinylm::gelu_tanh_backward,
     tinylm::ref::gelu_tanh_backward},
    {"gelu_exact", tinylm::gelu_exact_forward, tinylm::ref::gelu_exact_forward, tinylm::gelu_exact_backward,
     tinylm::ref::gelu_exact_backward},
};
// tanh/exp on batches and gelu.cpp's Φ are within a few ulps; GELU composes one of them with a handful of
// products.
constexpr float gelu_ulps = 16.0f;
}  // namespace

TEST_CASE("transformer kernels: gelu forward and backward match the reference") {
  std::mt19937 rng(37);
  auto sizes = tile_sizes();
  sizes.insert(sizes.begin(), 0);
  sizes.push_back(1001);
  for (const GeluPair& kernel : gelu_pairs) {
    const std::string name = kernel.name;
    CAPTURE(name);
    for (int n : sizes) {
      CAPTURE(n);
      const auto x = random_vector(std::size_t(n), rng, -6.0f, 6.0f);
      auto y = with_guard(std::vector<float>(n, NAN));
      std::vector<float> y_ref(n);
      kernel.forward(y.data(), x.data(), n);
      kernel.forward_ref(y_ref.data(), x.data(), n);
      // For x ≪ 0, gelu is a small difference of order-|x| terms: bound the error by |x| too.
      for (int i = 0; i < n; ++i)
        CHECK_MESSAGE(std::fabs(y[i] - y_ref[i]) <= gelu_ulps * eps * (std::fabs(y_ref[i]) + std::fabs(x[i])),
                      "x=", x[i]);
      check_guard(y, n, "gelu forward");
      auto in_place = x;  // y == x is allowed
      kernel.forward(in_place.data(), in_place.data(), n);
      for (int i = 0; i < n; ++i) CHECK(in_place[i] == y[i]);

      const auto dy = random_vector(std::size_t(n), rng);
      auto dx = with_guard(random_vector(std::size_t(n), rng)), dx_ref = dx;
      kernel.backward(dx.data(), dy.data(), x.data(), n);
      kernel.backward_ref(dx_ref.data(), dy.data(), x.data(), n);
      for (int i = 0; i < n; ++i)
        CHECK_MESSAGE(std::fabs(dx[i] - dx_ref[i]) <=
                          gelu_ulps * eps * (std::fabs(dx_ref[i]) + std::fabs(dy[i]) * (1.0f + x[i] * x[i])),
                      "x=", x[i]);
      check_guard(dx, n, "gelu backward");
      auto scaled = dy;  // dx == dy is allowed: the gradient is scaled where it lies
      kernel.backward(scaled.data(), scaled.data(), x.data(), n);
      for (int i = 0; i < n; ++i) CHECK(scaled[i] == dx[i]);
    }
  }
}

// The exact GELU's Φ is gelu.cpp's own approximation (no erf), so besides the random inputs above it is swept
// densely: every 1009th float of either sign, tiny, subnormal and huge ones included, and a 2⁻¹² grid over
// [−8, 8], which crosses the approximation's pieces (|x| = 1 and 5.5). Against Φ in double, within kernels.hpp's
// bound on Φ: y = x·Φ(x) up to |x|·(bound + the product's rounding) plus one subnormal step; the dy = 1 slope
// Φ(x) + x·φ(x) up to the bound plus a few ulps of the exp in φ and the sum's rounding. A 1% error in any
// coefficient, and most 0.01% ones, break this. Infinities, NaN and ±FLT_MAX must come out as the reference's,
// through the vector body (first in the sweep) and the scalar tail (one at a time).
TEST_CASE("transformer kernels: gelu_exact follows the normal CDF over a dense sweep of floats") {
  constexpr double cdf_bound = 1e-7;  // kernels.hpp
  const double inv_sqrt_2pi = 1.0 / std::sqrt(2.0 * M_PI);
  const std::vector<float> special = {INFINITY, -INFINITY, NAN, FLT_MAX, -FLT_MAX, 0.0f, -0.0f};
  std::vector<float> x = special;
  for (uint32_t bits = 0; bits < 0x7f800000u; bits += 1009) {
    float v;
    std::memcpy(&v, &bits, sizeof v);
    x.push_back(v);
    x.push_back(-v);
  }
  for (int k = -8 * 4096; k <= 8 * 4096; ++k) x.push_back(float(k) / 4096.0f);

  const int n = int(x.size());
  std::vector<float> y(n), dx(n), y_ref(n), dx_ref(n);
  const std::vector<float> ones(n, 1.0f);
  tinylm::gelu_exact_forward(y.data(), x.data(), n);
  tinylm::gelu_exact_backward(dx.data(), ones.data(), x.data(), n);
  tinylm::ref::gelu_exact_forward(y_ref.data(), x.data(), n);
  tinylm::ref::gelu_exact_backward(dx_ref.data(), ones.data(), x.data(), n);
  auto same = [](float a, float b) { return a == b || (std::isnan(a) && std::isnan(b)); };
  int failures = 0;
  for (int i = 0; i < n; ++i) {
    const double v = x[i];
    if (!std::isfinite(v) || std::fabs(v) == FLT_MAX) {
      if ((!same(y[i], y_ref[i]) || !same(dx[i], dx_ref[i])) && ++failures <= 10)
        FAIL_CHECK("x=", x[i], ": gelu ", y[i], " and slope ", dx[i], ", the reference ", y_ref[i], " and ", dx_ref[i]);
      continue;
    }
    const double cdf = 0.5 * std::erfc(-v / std::sqrt(2.0));
    const double x_pdf = v * std::exp(-0.5 * v * v) * inv_sqrt_2pi;
    const double y_error = y[i] - v * cdf, slope_error = dx[i] - (cdf + x_pdf);
    if ((std::fabs(y_error) > std::fabs(v) * (cdf_bound + 0.5 * eps) + FLT_TRUE_MIN ||
         std::fabs(slope_error) > cdf_bound + eps * (4.0 * std::fabs(x_pdf) + std::fabs(cdf + x_pdf))) &&
        ++failures <= 10)
      FAIL_CHECK("x=", x[i], ": gelu off by ", y_error, ", slope off by ", slope_error);
  }
  CHECK(failures == 0);

  for (float v : special) {
    CAPTURE(v);
    float y1, y1_ref, dx1, dx1_ref;
    const float one = 1.0f;
    tinylm::gelu_exact_forward(&y1, &v, 1);
    tinylm::ref::gelu_exact_forward(&y1_ref, &v, 1);
    tinylm::gelu_exact_backward(&dx1, &one, &v, 1);
    tinylm::ref::gelu_exact_backward(&dx1_ref, &one, &v, 1);
    CHECK(same(y1, y1_ref));
    CHECK(same(dx1, dx1_ref));
  }
}

// ---- attention -------------------------------------------------------------------------------------------
TEST_CASE("transformer kernels: attention scores and weighted sums match the reference") {
  std::mt19937 rng(41);
  auto check = [&](int n, int D, int pad, float beta) {
    CAPTURE(n);
    CAPTURE(D);
    CAPTURE(pad);
    const int ld = D + pad;
    const float scale = 1.0f / std::sqrt(float(D));
    const auto q = random_vector(D, rng), keys = random_vector(std::size_t(n) * ld, rng, -2.0f, 2.0f);
    auto scores = with_guard(std::vector<float>(n, NAN));
    std::vector<float> scores_ref(n);
    tinylm::attention_scores(scores.data(), q.data(), keys.data(), ld, n, D, scale);
    tinylm::ref::attention_scores(scores_ref.data(), q.data(), keys.data(), ld, n, D, scale);
    const float score_tolerance = scale * (D + 2) * eps * max_abs(q) * max_abs(keys);
    for (int j = 0; j < n; ++j) CHECK(std::fabs(scores[j] - scores_ref[j]) <= score_tolerance);
    check_guard(scores, n, "attention_scores");

    const auto probs = random_vector(n, rng, 0.0f, 1.0f), values = random_vector(std::size_t(n) * ld, rng);
    auto out = with_guard(beta == 0.0f ? std::vector<float>(D, NAN) : random_vector(D, rng)), out_ref = out;
    tinylm::attention_weighted_sum(out.data(), probs.data(), values.data(), ld, n, D, beta);
    tinylm::ref::attention_weighted_sum(out_ref.data(), probs.data(), values.data(), ld, n, D, beta);
    const float sum_tolerance = (n + 2) * eps * (max_abs(probs) * max_abs(values) + beta);
    for (int d = 0; d < D; ++d) CHECK(std::fabs(out[d] - out_ref[d]) <= sum_tolerance);
    check_guard(out, D, "attention_weighted_sum");
  };
  for (int size : tile_sizes()) {
    check(size, 2 * width + 1, 0, 0.0f);  // every tile boundary along the keys
    check(13, size, 0, 1.0f);             // … and along the head size
    check(size, size, 3, size % 2 ? 0.0f : 1.0f);
  }
  check(128, 32, 96, 0.0f);  // C3's head in a (T, C) cache row
}

TEST_CASE("transformer kernels: causal softmax forward and backward match the reference") {
  std::mt19937 rng(43);
  auto check = [&](int R, int first_row, int pad) {
    CAPTURE(R);
    CAPTURE(first_row);
    const int columns = first_row + R, ld = columns + pad;
    const float scale = 0.37f;
    const auto scores = random_vector(std::size_t(R) * ld, rng, -8.0f, 8.0f);
    // Inside the block every column is written; the row padding must keep its sentinels.
    auto probs = with_guard(std::vector<float>(std::size_t(R) * ld, sentinel));
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < columns; ++j) probs[std::size_t(r) * ld + j] = NAN;
    auto probs_ref = probs;
    tinylm::causal_softmax_forward(probs.data(), scores.data(), ld, R, first_row, scale);
    tinylm::ref::causal_softmax_forward(probs_ref.data(), scores.data(), ld, R, first_row, scale);
    for (int r = 0; r < R; ++r) {
      const int prefix = first_row + r + 1;
      for (int j = 0; j < ld; ++j) {
        const std::size_t at = std::size_t(r) * ld + j;
        if (j >= columns) {
          CHECK(probs[at] == sentinel);
        } else if (j >= prefix) {
          CHECK(probs[at] == 0.0f);
        } else {
          // a prefix-term sum sets every probability's relative error; exp adds a few ulps of its argument
          CHECK(std::fabs(probs[at] - probs_ref[at]) <= (prefix + 16 + 16 * scale * 16) * eps * probs_ref[at]);
        }
      }
    }
    check_guard(probs, std::size_t(R) * ld, "causal_softmax_forward");
    auto in_place = scores;
    tinylm::causal_softmax_forward(in_place.data(), in_place.data(), ld, R, first_row, scale);
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < columns; ++j) CHECK(in_place[std::size_t(r) * ld + j] == probs[std::size_t(r) * ld + j]);

    const auto dprobs = random_vector(std::size_t(R) * ld, rng);
    auto dscores = with_guard(std::vector<float>(std::size_t(R) * ld, sentinel));
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < columns; ++j) dscores[std::size_t(r) * ld + j] = NAN;
    auto dscores_ref = dscores;
    tinylm::causal_softmax_backward(dscores.data(), dprobs.data(), probs_ref.data(), ld, R, first_row, scale);
    tinylm::ref::causal_softmax_backward(dscores_ref.data(), dprobs.data(), probs_ref.data(), ld, R, first_row, scale);
    for (int r = 0; r < R; ++r) {
      const int prefix = first_row + r + 1;
      for (int j = 0; j < ld; ++j) {
        const std::size_t at = std::size_t(r) * ld + j;
        if (j >= columns) {
          CHECK(dscores[at] == sentinel);
        } else if (j >= prefix) {
          CHECK(dscores[at] == 0.0f);
        } else {
          CHECK(std::fabs(dscores[at] - dscores_ref[at]) <=
                scale * (prefix + 4) * eps * probs_ref[at] * 2.0f * max_abs(dprobs) + FLT_MIN);
        }
      }
    }
    check_guard(dscores, std::size_t(R) * ld, "causal_softmax_backward");
    auto alias = dprobs;  // dscores may alias dprobs
    tinylm::causal_softmax_backward(alias.data(), alias.data(), probs_ref.data(), ld, R, first_row, scale);
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < columns; ++j) CHECK(alias[std::size_t(r) * ld + j] == dscores[std::size_t(r) * ld + j]);
  };
  for (int size : tile_sizes()) {
    check(size, 0, 0);          // rows whose prefixes cross every tile boundary
    check(3, size - 1, 1);      // a block starting at every offset
    check(2, 2 * width, size);  // strided rows
  }
  check(32, 96, 0);  // C3's last query block
}
