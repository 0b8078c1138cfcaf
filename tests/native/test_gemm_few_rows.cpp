// X·Wᵀ for a few rows of X (a prompt's batch through a weight matrix stored (outputs, inputs)) runs transposed, W
// read in place (gemm_weight_rows.hpp), where larger products pack W into panels (gemm.cpp). Each output is the same
// sum in the same order on either path, so a row's bits must not depend on how many rows share the product: a prompt's
// batch then gives what the same rows give among more, and a pooled product the bits of a serial one. Checked here
// against the rows run inside a product of 200 rows (past the few-rows path), at the tile edges of W's rows and X's,
// over several K blocks, with a bias and with beta 0 and 1, and with W's rows 4 KB apart (the path's own tile rule).
#include <cstddef>
#include <cstring>
#include <random>
#include <vector>

#include <doctest/doctest.h>

#include "kernels/kernels.hpp"
#include "kernel_test_support.hpp"

using namespace tinylm::testing;

namespace {

constexpr int kLargeRows = 200;  // past gemm_dispatch's few-rows path: W packed into panels

void check_rows_match(int M, int N, int K, int ldw, std::mt19937& rng) {
  CAPTURE(M);
  CAPTURE(N);
  CAPTURE(K);
  CAPTURE(ldw);
  const auto X = random_vector(std::size_t(kLargeRows) * K, rng);
  const auto W = random_vector(std::size_t(N) * ldw, rng, -2.0f, 2.0f);
  const auto bias = random_vector(std::size_t(N), rng);
  const auto C0 = random_vector(std::size_t(kLargeRows) * N, rng);
  const std::size_t few = std::size_t(M) * N;
  for (float beta : {0.0f, 1.0f}) {
    CAPTURE(beta);
    std::vector<float> large = C0, small = C0;
    tinylm::sgemm_nt(large.data(), N, X.data(), K, W.data(), ldw, kLargeRows, N, K, beta);
    tinylm::sgemm_nt(small.data(), N, X.data(), K, W.data(), ldw, M, N, K, beta);
    REQUIRE(std::memcmp(small.data(), large.data(), few * sizeof(float)) == 0);
    for (std::size_t i = few; i < small.size(); ++i) REQUIRE(small[i] == C0[i]);  // rows past M untouched
  }
  std::vector<float> large(std::size_t(kLargeRows) * N), small(few);
  tinylm::sgemm_nt_bias(large.data(), N, X.data(), K, W.data(), ldw, bias.data(), kLargeRows, N, K);
  tinylm::sgemm_nt_bias(small.data(), N, X.data(), K, W.data(), ldw, bias.data(), M, N, K);
  REQUIRE(std::memcmp(small.data(), large.data(), few * sizeof(float)) == 0);
}

}  // namespace

TEST_CASE("kernels: sgemm_nt gives a row of a few-row product the bits it gets among many") {
  std::mt19937 rng(4321);
  SUBCASE("every tile edge of X's rows and W's") {
    for (int M : tile_sizes()) check_rows_match(M, 3 * width + 5, 37, 37, rng);
    for (int N : tile_sizes()) check_rows_match(64, N, 29, 29, rng);
  }
  SUBCASE("prompt batches over several K blocks") {
    for (int M : {63, 64, 65, 127, 128}) check_rows_match(M, 2 * 48 + 7, 600, 600, rng);
  }
  SUBCASE("W's rows 4 KB apart") {
    check_rows_match(64, 50, 1024, 1024, rng);
    check_rows_match(33, 29, 300, 2048, rng);
  }
}
