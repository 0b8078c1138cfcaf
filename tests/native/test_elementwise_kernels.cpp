// Element-wise kernel tests: the activations and their backwards, axpy, sum_squares, the fused LSTM and GRU gates,
// softmax and cross-entropy, each SIMD kernel against its scalar reference (kernels.hpp lists the pairs) at every
// tile boundary (sizes 0 … 3·width + 1 and a few large ones), with sentinels past every output that must survive,
// in-place and aliased calls, and the gate backward kernels checked against central finite differences of a
// double-precision forward. The matrix products are tested in test_matrix_product_kernels.cpp.
//
// Tolerances are derived from float rounding, never fixed: element-wise results are within a few ulps of the
// reference.
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <doctest/doctest.h>

#include "kernels/kernels.hpp"
#include "kernels/simd.hpp"
#include "kernel_test_support.hpp"

using namespace tinylm::testing;

namespace {

// ---- element-wise ----------------------------------------------------------------------------------------
using Unary = void (*)(float*, const float*, int64_t);
using Backward = void (*)(float*, const float*, const float*, int64_t);
struct UnaryPair {
  const char* name;
  Unary simd, reference;
};
struct BackwardPair {
  const char* name;
  Backward simd, reference;
};
const UnaryPair unary_pairs[] = {{"sigmoid_forward", tinylm::sigmoid_forward, tinylm::ref::sigmoid_forward},
                                 {"tanh_forward", tinylm::tanh_forward, tinylm::ref::tanh_forward},
                                 {"relu_forward", tinylm::relu_forward, tinylm::ref::relu_forward}};
const BackwardPair backward_pairs[] = {
    {"sigmoid_backward", tinylm::sigmoid_backward, tinylm::ref::sigmoid_backward},
    {"tanh_backward", tinylm::tanh_backward, tinylm::ref::tanh_backward},
    {"relu_backward", tinylm::relu_backward, tinylm::ref::relu_backward}};

std::vector<int> elementwise_sizes() {
  auto sizes = tile_sizes();
  sizes.insert(sizes.begin(), 0);
  for (int n : {255, 1000, 4099}) sizes.push_back(n);
  return sizes;
}

// exp/tanh on batches are within a couple of ulps; a sigmoid composes exp, an add and a divide.
constexpr float activation_ulps = 8.0f;

TEST_CASE("kernels: activations match the reference") {
  std::mt19937 rng(7);
  for (const UnaryPair& kernel : unary_pairs) {
    CAPTURE(kernel.name);
    for (int n : elementwise_sizes()) {
      const auto x = random_vector(std::size_t(n), rng, -12.0f, 12.0f);
      std::vector<float> y(std::size_t(n) + guard, sentinel), y_ref(std::size_t(n), 0.0f);
      kernel.simd(y.data(), x.data(), n);
      kernel.reference(y_ref.data(), x.data(), n);
      for (int i = 0; i < n; ++i)
        CHECK_MESSAGE(std::fabs(y[i] - y_ref[i]) <= activation_ulps * eps * std::fmax(std::fabs(y_ref[i]), FLT_MIN),
                      "n=", n, " x=", x[i]);
      for (int g = 0; g < guard; ++g) CHECK(y[n + g] == sentinel);
      auto in_place = x;  // y == x is allowed
      kernel.simd(in_place.data(), in_place.data(), n);
      for (int i = 0; i < n; ++i) CHECK(in_place[i] == y[i]);
    }
  }
  for (const BackwardPair& kernel : backward_pairs) {
    CAPTURE(kernel.name);
    for (int n : elementwise_sizes()) {
      const auto dy = random_vector(std::size_t(n), rng), y = random_vector(std::size_t(n), rng);
      auto dx = random_vector(std::size_t(n) + guard, rng);
      for (int g = 0; g < guard; ++g) dx[n + g] = sentinel;
      auto dx_ref = dx;
      kernel.simd(dx.data(), dy.data(), y.data(), n);
      kernel.reference(dx_ref.data(), dy.data(), y.data(), n);
      for (int i = 0; i < n; ++i) CHECK(std::fabs(dx[i] - dx_ref[i]) <= 4.0f * eps * (std::fabs(dx_ref[i]) + 1.0f));
      for (int g = 0; g < guard; ++g) CHECK(dx[n + g] == sentinel);
    }
  }
}

TEST_CASE("kernels: axpy and sum_squares match the reference") {
  std::mt19937 rng(11);
  SUBCASE("axpy") {
    for (int n : elementwise_sizes()) {
      const auto x = random_vector(std::size_t(n), rng);
      auto y = random_vector(std::size_t(n) + guard, rng);
      for (int g = 0; g < guard; ++g) y[n + g] = sentinel;
      auto y_ref = y;
      tinylm::axpy(y.data(), -0.37f, x.data(), n);
      tinylm::ref::axpy(y_ref.data(), -0.37f, x.data(), n);
      // a fused multiply-add rounds once where the reference rounds twice
      for (int i = 0; i < n; ++i) CHECK(std::fabs(y[i] - y_ref[i]) <= 2.0f * eps * (std::fabs(y_ref[i]) + 0.37f));
      for (int g = 0; g < guard; ++g) CHECK(y[n + g] == sentinel);
    }
  }
  SUBCASE("sum_squares, up to a million elements") {
    auto sizes = elementwise_sizes();
    sizes.push_back(1 << 20);
    for (int n : sizes) {
      const auto x = random_vector(std::size_t(n), rng, -3.0f, 3.0f);
      const double sum = tinylm::sum_squares(x.data(), n), sum_ref = tinylm::ref::sum_squares(x.data(), n);
      // float accumulation spans at most 1024 elements / width lanes before moving to double
      CHECK_MESSAGE(std::fabs(sum - sum_ref) <= 1024.0 * eps * sum_ref, "n=", n);
    }
  }
}

// ---- fused recurrent gates -------------------------------------------------------------------------------
// Double-precision forwards for finite differences: the same equations as kernels.hpp.
double sigmoid_d(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// Σ wh·h + Σ wc·c for one LSTM step from pre-activations (B,4H) and c_prev (B,H).
double lstm_objective(const std::vector<double>& pre, const std::vector<double>& c_prev, const std::vector<float>& wh,
                      const std::vector<float>& wc, int B, int H) {
  double total = 0.0;
  for (int b = 0; b < B; ++b)
    for (int j = 0; j < H; ++j) {
      const double* g = pre.data() + std::size_t(b) * 4 * H;
      const double c = sigmoid_d(g[H + j]) * c_prev[b * H + j] + sigmoid_d(g[j]) * std::tanh(g[2 * H + j]);
      total += wh[b * H + j] * sigmoid_d(g[3 * H + j]) * std::tanh(c) + wc[b * H + j] * c;
    }
  return total;
}

// Σ wh·h for one GRU step from x_* (B,3H), h_* (B,3H) and h_prev (B,H).
double gru_objective(const std::vector<double>& xg, const std::vector<double>& hg, const std::vector<double>& h_prev,
                     const std::vector<float>& wh, int B, int H) {
  double total = 0.0;
  for (int b = 0; b < B; ++b)
    for (int j = 0; j < H; ++j) {
      const double* x = xg.data() + std::size_t(b) * 3 * H;
      const double* h = hg.data() + std::size_t(b) * 3 * H;
      const double r = sigmoid_d(x[j] + h[j]), z = sigmoid_d(x[H + j] + h[H + j]);
      const double n = std::tanh(x[2 * H + j] + r * h[2 * H + j]);
      total += wh[b * H + j] * ((1.0 - z) * n + z * h_prev[b * H + j]);
    }
  return total;
}

// d objective / d v[i] by central differences in double. The truncation error is O(step²) ≈ 1e-8.
template <typename Objective>
double central_difference(std::vector<double>& v, std::size_t i, Objective objective) {
  constexpr double step = 1e-4;
  const double saved = v[i];
  v[i] = saved + step;
  const double up = objective();
  v[i] = saved - step;
  const double down = objective();
  v[i] = saved;
  return (up - down) / (2.0 * step);
}

std::vector<double> to_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }

// A float gradient built from ~10 rounded operations on O(1) values, against a double derivative.
constexpr float gradient_ulps = 32.0f;

TEST_CASE("kernels: LSTM gates") {
  std::mt19937 rng(21);
  const int B = 3;
  for (int H : {1, width - 1, width, width + 1, 2 * width + 3, 3 * width + 1}) {
    CAPTURE(H);
    const auto pre = random_vector(std::size_t(B) * 4 * H, rng, -3.0f, 3.0f);
    const auto c_prev = random_vector(std::size_t(B) * H, rng, -2.0f, 2.0f);
    std::vector<float> gates = pre, gates_ref = pre;
    std::vector<float> h(std::size_t(B) * H + guard, sentinel), c = h, h_ref(std::size_t(B) * H), c_ref = h_ref;
    tinylm::lstm_gates_forward(h.data(), c.data(), gates.data(), c_prev.data(), B, H);
    tinylm::ref::lstm_gates_forward(h_ref.data(), c_ref.data(), gates_ref.data(), c_prev.data(), B, H);
    SUBCASE("forward matches the reference") {
      for (std::size_t i = 0; i < gates.size(); ++i) CHECK(std::fabs(gates[i] - gates_ref[i]) <= activation_ulps * eps);
      for (int i = 0; i < B * H; ++i) {
        CHECK(std::fabs(h[i] - h_ref[i]) <= activation_ulps * eps * 4.0f);
        CHECK(std::fabs(c[i] - c_ref[i]) <= activation_ulps * eps * 4.0f);
      }
      for (int g = 0; g < guard; ++g) CHECK((h[B * H + g] == sentinel && c[B * H + g] == sentinel));
    }
    SUBCASE("backward matches finite differences, dc_prev aliasing dc") {
      const auto dh = random_vector(std::size_t(B) * H, rng), dc = random_vector(std::size_t(B) * H, rng);
      std::vector<float> dgates(std::size_t(B) * 4 * H + guard, sentinel), dc_prev = dc;
      dc_prev.resize(std::size_t(B) * H + guard, sentinel);
      tinylm::lstm_gates_backward(dgates.data(), dc_prev.data(), dh.data(), dc_prev.data(), gates.data(), c.data(),
                                  c_prev.data(), B, H);
      auto pre_d = to_double(pre), c_prev_d = to_double(c_prev);
      auto objective = [&] { return lstm_objective(pre_d, c_prev_d, dh, dc, B, H); };
      for (std::size_t i = 0; i < pre.size(); ++i) {
        const double expected = central_difference(pre_d, i, objective);
        CHECK_MESSAGE(std::fabs(dgates[i] - expected) <= gradient_ulps * eps * (1.0 + std::fabs(expected)), "dgates ", i);
      }
      for (std::size_t i = 0; i < c_prev.size(); ++i) {
        const double expected = central_difference(c_prev_d, i, objective);
        CHECK_MESSAGE(std::fabs(dc_prev[i] - expected) <= gradient_ulps * eps * (1.0 + std::fabs(expected)), "dc_prev ", i);
      }
      for (int g = 0; g < guard; ++g) CHECK((dgates[4 * B * H + g] == sentinel && dc_prev[B * H + g] == sentinel));
    }
  }
}

TEST_CASE("kernels: GRU gates") {
  std::mt19937 rng(22);
  const int B = 3;
  for (int H : {1, width - 1, width, width + 1, 2 * width + 3, 3 * width + 1}) {
    CAPTURE(H);
    const auto xg = random_vector(std::size_t(B) * 3 * H, rng, -3.0f, 3.0f);
    const auto hg = random_vector(std::size_t(B) * 3 * H, rng, -3.0f, 3.0f);
    const auto h_prev = random_vector(std::size_t(B) * H, rng);
    std::vector<float> activated = xg, activated_ref = xg;
    std::vector<float> h(std::size_t(B) * H + guard, sentinel), h_ref(std::size_t(B) * H);
    tinylm::gru_gates_forward(h.data(), activated.data(), hg.data(), h_prev.data(), B, H);
    tinylm::ref::gru_gates_forward(h_ref.data(), activated_ref.data(), hg.data(), h_prev.data(), B, H);
    SUBCASE("forward matches the reference") {
      for (std::size_t i = 0; i < activated.size(); ++i)
        CHECK(std::fabs(activated[i] - activated_ref[i]) <= activation_ulps * eps * 4.0f);
      for (int i = 0; i < B * H; ++i) CHECK(std::fabs(h[i] - h_ref[i]) <= activation_ulps * eps * 4.0f);
      for (int g = 0; g < guard; ++g) CHECK(h[B * H + g] == sentinel);
    }
    SUBCASE("backward matches finite differences; dh_prev accumulates") {
      const auto dh = random_vector(std::size_t(B) * H, rng);
      std::vector<float> dxg(std::size_t(B) * 3 * H + guard, sentinel), dhn(std::size_t(B) * H + guard, sentinel);
      auto dh_prev = random_vector(std::size_t(B) * H, rng);
      const auto dh_prev_before = dh_prev;
      tinylm::gru_gates_backward(dxg.data(), dhn.data(), dh_prev.data(), dh.data(), activated.data(), hg.data(),
                                 h_prev.data(), B, H);
      auto xg_d = to_double(xg), hg_d = to_double(hg), h_prev_d = to_double(h_prev);
      auto objective = [&] { return gru_objective(xg_d, hg_d, h_prev_d, dh, B, H); };
      const auto tolerance = [](double expected) { return gradient_ulps * eps * (1.0 + std::fabs(expected)); };
      for (std::size_t i = 0; i < xg.size(); ++i) {
        const double expected_x = central_difference(xg_d, i, objective);
        CHECK_MESSAGE(std::fabs(dxg[i] - expected_x) <= tolerance(expected_x), "dxgates ", i);
        // h_r and h_z enter r and z as x_r and x_z do: their gradient is dxgates'; h_n's is dhn.
        const double expected_h = central_difference(hg_d, i, objective);
        const std::size_t b = i / (3 * H), j = i % (3 * H);
        const float analytic_h = j < std::size_t(2 * H) ? dxg[i] : dhn[b * H + j - 2 * H];
        CHECK_MESSAGE(std::fabs(analytic_h - expected_h) <= tolerance(expected_h), "dhgates ", i);
      }
      // the kernel adds only the direct path z⊙dh; the path through h_* belongs to the caller's GEMM
      for (std::size_t i = 0; i < h_prev.size(); ++i) {
        const double expected = central_difference(h_prev_d, i, objective);
        CHECK(std::fabs(dh_prev[i] - dh_prev_before[i] - expected) <= tolerance(expected));
      }
      for (int g = 0; g < guard; ++g) CHECK((dxg[3 * B * H + g] == sentinel && dhn[B * H + g] == sentinel));
    }
  }
}

// ---- softmax + cross-entropy -----------------------------------------------------------------------------
TEST_CASE("kernels: softmax and cross-entropy") {
  std::mt19937 rng(31);
  auto vocab_sizes = tile_sizes();
  vocab_sizes.push_back(65);
  vocab_sizes.push_back(1000);
  for (int V : vocab_sizes) {
    CAPTURE(V);
    const int N = 5;
    // each probability sums V exponentials: relative error within (V + a few ulps of exp)·eps
    const float tolerance = (float(V) + activation_ulps) * eps;
    for (float offset : {0.0f, 1.0e4f}) {  // 1e4: exp(logit) alone would overflow
      CAPTURE(offset);
      auto logits = random_vector(std::size_t(N) * V, rng, -8.0f, 8.0f);
      for (auto& x : logits) x += offset;
      std::vector<int32_t> targets(N);
      for (int r = 0; r < N; ++r) targets[r] = r == 2 ? -1 : int32_t(rng() % V);
      std::vector<float> probs(std::size_t(N) * V + guard, sentinel), losses(N + guard, sentinel);
      std::vector<float> probs_ref(std::size_t(N) * V), losses_ref(N);
      const double total = tinylm::softmax_xent_forward(probs.data(), losses.data(), logits.data(), targets.data(), N, V);
      const double total_ref =
          tinylm::ref::softmax_xent_forward(probs_ref.data(), losses_ref.data(), logits.data(), targets.data(), N, V);
      for (std::size_t i = 0; i < probs_ref.size(); ++i)
        CHECK(std::fabs(probs[i] - probs_ref[i]) <= tolerance * std::fmax(probs_ref[i], FLT_MIN));
      for (int r = 0; r < N; ++r) {
        CHECK(std::isfinite(losses[r]));
        CHECK(std::fabs(losses[r] - losses_ref[r]) <= tolerance * (1.0f + std::fabs(losses_ref[r]) + offset * eps));
      }
      CHECK(losses[2] == 0.0f);  // ignored target
      CHECK(std::fabs(total - total_ref) <= N * tolerance * (1.0 + std::fabs(total_ref)));
      for (int g = 0; g < guard; ++g) CHECK((probs[N * V + g] == sentinel && losses[N + g] == sentinel));

      auto aliased = logits;  // probs may alias logits
      std::vector<float> losses_aliased(N);
      tinylm::softmax_xent_forward(aliased.data(), losses_aliased.data(), aliased.data(), targets.data(), N, V);
      for (std::size_t i = 0; i < probs_ref.size(); ++i) CHECK(aliased[i] == probs[i]);
      for (int r = 0; r < N; ++r) CHECK(losses_aliased[r] == losses[r]);

      std::vector<float> dlogits(std::size_t(N) * V + guard, sentinel), dlogits_ref(std::size_t(N) * V);
      tinylm::softmax_xent_backward(dlogits.data(), probs.data(), targets.data(), 0.25f, N, V);
      tinylm::ref::softmax_xent_backward(dlogits_ref.data(), probs.data(), targets.data(), 0.25f, N, V);
      for (std::size_t i = 0; i < dlogits_ref.size(); ++i) CHECK(std::fabs(dlogits[i] - dlogits_ref[i]) <= eps * 0.25f);
      for (int v = 0; v < V; ++v) CHECK(dlogits[2 * V + v] == 0.0f);
      for (int g = 0; g < guard; ++g) CHECK(dlogits[N * V + g] == sentinel);
      tinylm::softmax_xent_backward(probs.data(), probs.data(), targets.data(), 0.25f, N, V);  // in place
      for (std::size_t i = 0; i < dlogits_ref.size(); ++i) CHECK(probs[i] == dlogits[i]);

      std::vector<float> row(logits.begin(), logits.begin() + V), row_ref = row;
      row.resize(std::size_t(V) + guard, sentinel);
      tinylm::softmax_inplace(row.data(), V);
      tinylm::ref::softmax_inplace(row_ref.data(), V);
      double row_sum = 0.0;
      for (int v = 0; v < V; ++v) {
        CHECK(std::fabs(row[v] - row_ref[v]) <= tolerance * std::fmax(row_ref[v], FLT_MIN));
        row_sum += row[v];
      }
      CHECK(std::fabs(row_sum - 1.0) <= tolerance);
      for (int g = 0; g < guard; ++g) CHECK(row[V + g] == sentinel);
    }
  }
}

}  // namespace
