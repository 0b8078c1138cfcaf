// Matrix-product kernel tests: sgemm (nn, nt, tn), sgemv (one vector and several), sgemm_packed, sgemv_f16 on half
// panels and sgemm_nt_bias, each SIMD kernel against its scalar reference (kernels.hpp lists the pairs), at every
// tile boundary (sizes 1 … 3·width + 1, around the GEMM block sizes, odd sizes, random shapes), with strides larger
// than the rows, sentinels past every output that must survive, and NaN in outputs that beta = 0 must ignore.
// The element-wise kernels are tested in test_elementwise_kernels.cpp.
//
// Tolerances are derived from float rounding, never fixed: a K-term dot product is within
// K·max|a|·max|b|·eps of the exact value.
#include <algorithm>
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
