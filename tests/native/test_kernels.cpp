// Kernel tests: every SIMD kernel against its scalar reference (kernels.hpp lists the pairs), at every tile
// boundary (sizes 1 … 3·width + 1, around the GEMM block sizes, odd sizes, random shapes), with strides larger
// than the rows, sentinels past every output that must survive, NaN in outputs that beta = 0 must ignore, and
// the gate backward kernels checked against central finite differences of a double-precision forward.
//
// Tolerances are derived from float rounding, never fixed: a K-term dot product is within
// K·max|a|·max|b|·eps of the exact value; element-wise results within a few ulps of the reference.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "half.hpp"
#include "kernels/kernels.hpp"
#include "kernels/simd.hpp"
#include "kernel_test_support.hpp"
#include "tinylm/rng.hpp"

using namespace tinylm::testing;

namespace {

// ---- matrix multiply -------------------------------------------------------------------------------------
using Gemm = void (*)(float*, int, const float*, int, const float*, int, int, int, int, float);
struct GemmPair {
  const char* name;
  Gemm simd, reference;
  bool a_transposed, b_transposed;
};
const GemmPair gemm_pairs[] = {
    {"sgemm_nn", tinylm::sgemm_nn, tinylm::ref::sgemm_nn, false, false},
    {"sgemm_nt", tinylm::sgemm_nt, tinylm::ref::sgemm_nt, false, true},
    {"sgemm_tn", tinylm::sgemm_tn, tinylm::ref::sgemm_tn, true, false},
};

// One GEMM check: operands stored with `pad` extra floats per row, C (M, N) with ldc = N + pad and sentinels in
// the row padding and past the end; beta 0 starts from NaN.
void check_gemm(const GemmPair& gemm, int M, int N, int K, float beta, int pad, std::mt19937& rng) {
  const int a_rows = gemm.a_transposed ? K : M, a_cols = gemm.a_transposed ? M : K;
  const int b_rows = gemm.b_transposed ? N : K, b_cols = gemm.b_transposed ? K : N;
  const int lda = a_cols + pad, ldb = b_cols + pad, ldc = N + pad;
  const auto A = random_vector(std::size_t(a_rows) * lda, rng);
  const auto B = random_vector(std::size_t(b_rows) * ldb, rng, -2.0f, 2.0f);
  std::vector<float> C_init = random_vector(std::size_t(M) * ldc + guard, rng);
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < ldc; ++j)
      if (j >= N) C_init[std::size_t(i) * ldc + j] = sentinel;
      else if (beta == 0.0f) C_init[std::size_t(i) * ldc + j] = NAN;
  for (int g = 0; g < guard; ++g) C_init[std::size_t(M) * ldc + g] = sentinel;

  std::vector<float> C = C_init, C_ref = C_init;
  gemm.simd(C.data(), ldc, A.data(), lda, B.data(), ldb, M, N, K, beta);
  gemm.reference(C_ref.data(), ldc, A.data(), lda, B.data(), ldb, M, N, K, beta);

  const float c_scale = beta == 0.0f ? 0.0f : 1.0f;  // |C0| ≤ 1 enters only when accumulating
  const float tolerance = (float(K) * max_abs(A) * max_abs(B) + 2.0f * c_scale) * eps;
  int bad = 0;
  for (std::size_t i = 0; i < C.size() && bad < 5; ++i) {
    const bool output = i < std::size_t(M) * ldc && int(i % ldc) < N;
    if (output && !(std::fabs(C[i] - C_ref[i]) <= tolerance)) {
      ++bad;
      FAIL_CHECK(std::string(gemm.name), " M=", M, " N=", N, " K=", K, " beta=", beta, " pad=", pad, " at ", i, ": ", C[i],
                 " vs ", C_ref[i], " tolerance ", tolerance);
    }
    if (!output && C[i] != sentinel) {
      ++bad;
      FAIL_CHECK(std::string(gemm.name), " M=", M, " N=", N, " K=", K, " overwrote the sentinel at ", i);
    }
  }
}

TEST_CASE("kernels: sgemm matches the reference") {
  std::mt19937 rng(1234);
  for (const GemmPair& gemm : gemm_pairs) {
    const std::string gemm_name = gemm.name;
    CAPTURE(gemm_name);
    SUBCASE("every tile boundary in M, N and K") {
      for (int n : tile_sizes()) {
        for (float beta : {0.0f, 1.0f}) {
          check_gemm(gemm, n, 2 * width + 3, 37, beta, 0, rng);
          check_gemm(gemm, 13, n, 29, beta, 0, rng);
          check_gemm(gemm, 11, 3 * width - 1, n, beta, 0, rng);
        }
      }
    }
    SUBCASE("below, at and above the block sizes") {
      for (int K : {255, 256, 257, 513}) check_gemm(gemm, 17, 2 * width + 1, K, 1.0f, 0, rng);
      for (int N : {1023, 1024, 1025}) check_gemm(gemm, 5, N, 9, 0.0f, 0, rng);
      for (int M : {63, 64, 65, 279, 280, 281}) check_gemm(gemm, M, width + 3, 21, 0.0f, 0, rng);
    }
    SUBCASE("row strides larger than the rows") {
      for (int pad : {1, 7, width}) check_gemm(gemm, 29, 3 * width + 5, 41, 1.0f, pad, rng);
    }
    SUBCASE("random shapes") {
      std::uniform_int_distribution<int> dim(1, 300);
      for (int trial = 0; trial < 12; ++trial)
        check_gemm(gemm, dim(rng), dim(rng), dim(rng), trial % 2 ? 1.0f : 0.0f, trial % 3, rng);
    }
    SUBCASE("K = 0 leaves beta·C") {
      std::vector<float> C(6, NAN);
      gemm.simd(C.data(), 3, nullptr, 1, nullptr, 3, 2, 3, 0, 0.0f);
      for (float c : C) CHECK(c == 0.0f);
    }
  }
}

TEST_CASE("kernels: sgemv matches the reference") {
  std::mt19937 rng(99);
  auto check = [&](int M, int K, float beta, int pad) {
    const int lda = K + pad;
    const auto A = random_vector(std::size_t(M) * lda, rng), x = random_vector(std::size_t(K), rng);
    std::vector<float> y_init = random_vector(std::size_t(M) + guard, rng);
    if (beta == 0.0f)
      for (int i = 0; i < M; ++i) y_init[i] = NAN;
    for (int g = 0; g < guard; ++g) y_init[M + g] = sentinel;
    auto y = y_init, y_ref = y_init;
    tinylm::sgemv(y.data(), A.data(), lda, x.data(), M, K, beta);
    tinylm::ref::sgemv(y_ref.data(), A.data(), lda, x.data(), M, K, beta);
    const float tolerance = (float(K) * max_abs(A) * max_abs(x) + 2.0f * (beta != 0.0f)) * eps;
    for (int i = 0; i < M; ++i) CHECK_MESSAGE(std::fabs(y[i] - y_ref[i]) <= tolerance, "M=", M, " K=", K, " i=", i);
    for (int g = 0; g < guard; ++g) CHECK(y[M + g] == sentinel);
  };
  SUBCASE("every tile boundary") {
    for (int n : tile_sizes()) {
      check(n, 3 * width + 2, 0.0f, 0);
      check(9, n, 1.0f, 0);
    }
  }
  SUBCASE("generation shapes, strided rows") {
    check(1024, 256, 0.0f, 0);
    check(100, 256, 1.0f, 5);
  }
}

TEST_CASE("kernels: sgemv with several vectors equals one product per vector") {
  // Two vectors share one pass over the matrix (a GPT step and its shadow window); a third runs on its own.
  std::mt19937 rng(101);
  for (int N : {2, 3}) {
    for (int M : {1, 5, 8, 13, 384}) {
      for (int K : {3, 128, 133}) {
        CAPTURE(N);
        CAPTURE(M);
        CAPTURE(K);
        const int lda = K + 3;
        const auto A = random_vector(std::size_t(M) * lda, rng), x = random_vector(std::size_t(N) * K, rng);
        std::vector<float> y = random_vector(std::size_t(N) * M + guard, rng);
        for (int g = 0; g < guard; ++g) y[std::size_t(N) * M + g] = sentinel;
        auto expected = y, alone = y;
        tinylm::sgemv(y.data(), A.data(), lda, x.data(), M, K, 0.5f, N);
        for (int v = 0; v < N; ++v) {
          tinylm::ref::sgemv(expected.data() + v * M, A.data(), lda, x.data() + v * K, M, K, 0.5f);
          tinylm::sgemv(alone.data() + v * M, A.data(), lda, x.data() + v * K, M, K, 0.5f);
        }
        const float tolerance = (float(K) * max_abs(A) * max_abs(x) + 2.0f) * eps;
        for (int i = 0; i < N * M; ++i) CHECK(std::fabs(y[i] - expected[i]) <= tolerance);
        // A step's row gives the same bits with its shadow row beside it or alone.
        for (int i = 0; i < N * M; ++i) CHECK(y[i] == alone[i]);
        for (int g = 0; g < guard; ++g) CHECK(y[std::size_t(N) * M + g] == sentinel);
      }
    }
  }
}

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

TEST_CASE("kernels: sgemm_packed equals the reference for both packings") {
  tinylm::Rng rng(17);
  for (int M : {1, 3, 15, 32, 70}) {  // 70: past the few-rows path
    for (int N : {1, 17, 33, 1030}) {
      for (int K : {1, 16, 257, 600}) {
        CAPTURE(M);
        CAPTURE(N);
        CAPTURE(K);
        std::vector<float> A(size_t(M) * K), B(size_t(N) * K), C(size_t(M) * N), R(size_t(M) * N);
        for (float& x : A) x = rng.uniform() - 0.5f;
        for (float& x : B) x = rng.uniform() - 0.5f;
        for (size_t i = 0; i < C.size(); ++i) C[i] = R[i] = rng.uniform();
        const double tolerance = (K * 0.25 + 2.0) * 1.2e-7 * 4;
        tinylm::PackedMatrix packed;
        packed.pack_nt(B.data(), K, N, K);  // B as (N,K): C += A·Bᵀ
        tinylm::sgemm_packed(C.data(), N, A.data(), K, packed, M, 1.0f);
        tinylm::ref::sgemm_nt(R.data(), N, A.data(), K, B.data(), K, M, N, K, 1.0f);
        for (size_t i = 0; i < C.size(); ++i) REQUIRE(std::abs(C[i] - R[i]) <= tolerance);
        packed.pack_nn(B.data(), N, K, N);  // B as (K,N): C = A·B
        tinylm::sgemm_packed(C.data(), N, A.data(), K, packed, M, 0.0f);
        tinylm::ref::sgemm_nn(R.data(), N, A.data(), K, B.data(), N, M, N, K, 0.0f);
        for (size_t i = 0; i < C.size(); ++i) REQUIRE(std::abs(C[i] - R[i]) <= tolerance);
        // With a bias on every row, added once however many K blocks there are (a GRU step's hidden side).
        std::vector<float> bias(N);
        for (float& x : bias) x = rng.uniform() - 0.5f;
        tinylm::sgemm_packed(C.data(), N, A.data(), K, packed, M, 0.0f, bias.data());
        for (int i = 0; i < M; ++i)
          for (int j = 0; j < N; ++j) REQUIRE(std::abs(C[size_t(i) * N + j] - R[size_t(i) * N + j] - bias[j]) <= tolerance);
      }
    }
  }
}

TEST_CASE("kernels: sgemv_f16 on half panels equals the float reference on the rounded weights") {
  tinylm::Rng rng(23);
  const int P = tinylm::half_panel_rows();
  for (int M : {1, 3, 5, 17, P - 1, P, P + 1, 2 * P + 3}) {
    for (int K : {1, 3, 7, 16, 33, 256, 259}) {
      CAPTURE(M);
      CAPTURE(K);
      std::vector<float> weights(size_t(M) * K), x(K), y(M, 0.5f), reference(M, 0.5f), scalar(M, 0.5f);
      for (float& w : weights) w = rng.uniform() - 0.5f;
      for (float& v : x) v = rng.uniform() - 0.5f;
      std::vector<uint16_t> panels(size_t(tinylm::half_panels_size(M, K)), 0xFFFF);  // NaN: padding must be written
      REQUIRE(panels.size() == size_t((M + P - 1) / P * P) * K);
      REQUIRE(tinylm::convert_to_half_panels(panels.data(), weights.data(), M, K));
      // The reference reads the rounded weights row-major, so a wrong panel layout cannot cancel out.
      std::vector<float> rounded(weights.size());
      for (size_t i = 0; i < weights.size(); ++i) rounded[i] = tinylm::half_to_float(tinylm::float_to_half(weights[i]));
      tinylm::ref::sgemv(reference.data(), rounded.data(), K, x.data(), M, K, 1.0f);
      tinylm::sgemv_f16(y.data(), panels.data(), x.data(), M, K, 1.0f);
      tinylm::ref::sgemv_f16(scalar.data(), panels.data(), x.data(), M, K, 1.0f);
      for (int i = 0; i < M; ++i) {
        CHECK(std::abs(y[i] - reference[i]) <= (K * 0.25 + 1) * 1.2e-7 * 4);
        CHECK(std::abs(scalar[i] - reference[i]) <= (K * 0.25 + 1) * 1.2e-7 * 4);
      }
      std::vector<float> overwritten(M, std::nanf(""));  // beta 0 never reads y
      tinylm::sgemv_f16(overwritten.data(), panels.data(), x.data(), M, K, 0.0f);
      for (int i = 0; i < M; ++i) CHECK(std::abs(overwritten[i] - (reference[i] - 0.5f)) <= (K * 0.25 + 1) * 1.2e-7 * 4);
    }
  }
  // Several vectors through one panel copy: each equals its own single-vector product.
  for (int N : {2, 3}) {
    const int M = 2 * P + 3, K = 131;
    CAPTURE(N);
    std::vector<float> weights(size_t(M) * K), x(size_t(N) * K), y(size_t(N) * M + 1, 0.25f);
    for (float& w : weights) w = rng.uniform() - 0.5f;
    for (float& v : x) v = rng.uniform() - 0.5f;
    std::vector<uint16_t> panels(size_t(tinylm::half_panels_size(M, K)));
    REQUIRE(tinylm::convert_to_half_panels(panels.data(), weights.data(), M, K));
    y.back() = -7.0f;  // past the N rows of y: never written
    std::vector<float> expected(y);
    tinylm::sgemv_f16(y.data(), panels.data(), x.data(), M, K, 1.0f, N);
    for (int v = 0; v < N; ++v)
      tinylm::sgemv_f16(expected.data() + size_t(v) * M, panels.data(), x.data() + size_t(v) * K, M, K, 1.0f);
    for (int i = 0; i < N * M; ++i) CHECK(std::abs(y[i] - expected[i]) <= (K * 0.25 + 1) * 1.2e-7 * 4);
    CHECK(y.back() == -7.0f);
  }
  std::vector<float> too_large = {1.0f, 70000.0f};
  std::vector<uint16_t> out(size_t(tinylm::half_panels_size(1, 2)));
  CHECK_FALSE(tinylm::convert_to_half_panels(out.data(), too_large.data(), 1, 2));
  std::vector<float> not_a_number = {std::nanf(""), 1.0f};
  CHECK_FALSE(tinylm::convert_to_half_panels(out.data(), not_a_number.data(), 1, 2));
}

TEST_CASE("kernels: sgemm_nt_bias adds the bias to every row exactly once") {
  tinylm::Rng rng(29);
  // Shapes around both register tiles and past one K block (the bias must come with the first block only).
  const int shapes[][3] = {{1, 1, 1},   {3, 5, 7},    {17, 33, 0},   {32, 1024, 64}, {37, 50, 300},
                           {100, 48, 129}, {130, 100, 257}, {64, 17, 513}};
  for (const auto& shape : shapes) {
    const int M = shape[0], N = shape[1], K = shape[2];
    CAPTURE(M);
    CAPTURE(N);
    CAPTURE(K);
    std::vector<float> A(size_t(M) * std::max(K, 1)), B(size_t(N) * std::max(K, 1)), bias(N);
    for (float& v : A) v = rng.uniform() - 0.5f;
    for (float& v : B) v = rng.uniform() - 0.5f;
    for (float& v : bias) v = 4.0f * (rng.uniform() - 0.5f);
    const int ldc = N + 3;  // a padded C: columns past N stay untouched
    std::vector<float> C(size_t(M) * ldc, std::nanf("")), R(size_t(M) * ldc, std::nanf(""));
    tinylm::sgemm_nt_bias(C.data(), ldc, A.data(), std::max(K, 1), B.data(), std::max(K, 1), bias.data(), M, N, K);
    tinylm::ref::sgemm_nt_bias(R.data(), ldc, A.data(), std::max(K, 1), B.data(), std::max(K, 1), bias.data(), M, N, K);
    for (int i = 0; i < M; ++i) {
      for (int j = 0; j < N; ++j) REQUIRE(std::abs(C[size_t(i) * ldc + j] - R[size_t(i) * ldc + j]) <= 1e-5f * (K + 4));
      for (int j = N; j < ldc; ++j) REQUIRE(std::isnan(C[size_t(i) * ldc + j]));
    }
  }
}
