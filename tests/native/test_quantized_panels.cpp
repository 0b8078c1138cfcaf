// The int8 product over packed weight panels (kernels.hpp: sgemm_q8_panels) and the int8 store that packs them
// (compact_matrices.hpp): the SIMD kernel against the scalar reference and the row-major oracle, bit for bit, at
// every register tile and tail (and the widened-panel tiles of every size, which only SSE and wasm builds choose); the
// packing against the row-major bytes; and the pooled product at every pool size.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "compact_matrices.hpp"
#include "kernels/kernels.hpp"
#include "kernels/quantized_panels_widened.hpp"
#include "parallel/thread_pool.hpp"
#include "tinylm/rng.hpp"

using namespace tinylm;

namespace {

std::vector<int8_t> random_bytes(size_t n, Rng& rng) {
  std::vector<int8_t> bytes(n);
  for (int8_t& b : bytes) b = static_cast<int8_t>(int(rng.below(255)) - 127);
  return bytes;
}

std::vector<float> random_floats(size_t n, Rng& rng, float scale = 1.0f) {
  std::vector<float> v(n);
  for (float& x : v) x = (2.0f * rng.uniform() - 1.0f) * scale;
  return v;
}

bool same_bits(const float* a, const float* b, size_t n) { return std::memcmp(a, b, n * sizeof(float)) == 0; }

}  // namespace

TEST_CASE("int8 panels: the product gives the reference's and the row-major oracle's bits at every tile and tail") {
  // Token tiles: 1 (M ≤ 2), 4 or 6 and every shorter tail; weight tiles: 1 or 2 panels of 8 rows and the partial
  // last panel; depth: even and odd (the zero pair at k = K), below and above one register's pairs.
  Rng rng(41);
  const float sentinel = 12345.0f;
  for (int M : {1, 2, 3, 4, 5, 6, 7, 8, 11, 13}) {
    for (int N : {1, 7, 8, 9, 16, 17, 24, 31, 33}) {
      for (int K : {1, 2, 3, 7, 8, 9, 16, 17, 33, 64, 259}) {
        for (float beta : {0.0f, 1.0f}) {
          CAPTURE(M);
          CAPTURE(N);
          CAPTURE(K);
          CAPTURE(beta);
          const int ldc = N + 2;  // outputs further apart than a row
          const std::vector<int8_t> A = random_bytes(size_t(M) * K, rng), B = random_bytes(size_t(N) * K, rng);
          const std::vector<float> a_scales = random_floats(M, rng, 0.05f), b_scales = random_floats(N, rng, 0.05f);
          std::vector<int8_t> panels(size_t(q8_panels_size(N, K)), 0);
          pack_q8_panel_rows(panels.data(), B.data(), 0, N, K);
          const int lda = int(q8_panel_depth(K)) + 2;  // rows further apart than their pairs
          std::vector<int16_t> wide(size_t(M) * lda, 0);
          for (int m = 0; m < M; ++m)
            for (int k = 0; k < K; ++k) wide[size_t(m) * lda + k] = A[size_t(m) * K + k];

          std::vector<float> C(size_t(M) * ldc + 4, beta == 0.0f ? NAN : 0.25f), reference(C), rows(C);
          for (size_t g = size_t(M) * ldc; g < C.size(); ++g) C[g] = sentinel;
          sgemm_q8_panels(C.data(), ldc, wide.data(), a_scales.data(), lda, panels.data(), b_scales.data(), M, N, K,
                          beta);
          ref::sgemm_q8_panels(reference.data(), ldc, wide.data(), a_scales.data(), lda, panels.data(),
                               b_scales.data(), M, N, K, beta);
          ref::sgemm_q8_nt(rows.data(), ldc, A.data(), a_scales.data(), K, B.data(), b_scales.data(), K, M, N, K, beta);
          for (int m = 0; m < M; ++m) {
            CHECK(same_bits(C.data() + size_t(m) * ldc, reference.data() + size_t(m) * ldc, size_t(N)));
            CHECK(same_bits(C.data() + size_t(m) * ldc, rows.data() + size_t(m) * ldc, size_t(N)));
          }
          for (size_t g = size_t(M) * ldc; g < C.size(); ++g) CHECK(C[g] == sentinel);
        }
      }
    }
  }
}

namespace {
// widened_product<T> (quantized_panels_widened.hpp) against the reference at every tail of T tokens and of a panel.
template <int T>
void check_widened_tiles(Rng& rng) {
  std::vector<int16_t> scratch;
  for (int M : {1, 2, 3, 5, 7, 11, 13}) {
    for (int N : {1, 7, 8, 9, 17}) {
      for (int K : {1, 2, 3, 17, 64, 259}) {
        for (float beta : {0.0f, 1.0f}) {
          CAPTURE(T);
          CAPTURE(M);
          CAPTURE(N);
          CAPTURE(K);
          CAPTURE(beta);
          const int ldc = N + 3, lda = int(q8_panel_depth(K)) + 2;
          const std::vector<int8_t> A = random_bytes(size_t(M) * K, rng), B = random_bytes(size_t(N) * K, rng);
          const std::vector<float> a_scales = random_floats(M, rng, 0.05f), b_scales = random_floats(N, rng, 0.05f);
          std::vector<int8_t> panels(size_t(q8_panels_size(N, K)), 0);
          pack_q8_panel_rows(panels.data(), B.data(), 0, N, K);
          std::vector<int16_t> wide(size_t(M) * lda, 0);
          for (int m = 0; m < M; ++m)
            for (int k = 0; k < K; ++k) wide[size_t(m) * lda + k] = A[size_t(m) * K + k];
          std::vector<float> C(size_t(M) * ldc + 4, beta == 0.0f ? NAN : 0.25f), reference(C);
          for (size_t g = size_t(M) * ldc; g < C.size(); ++g) C[g] = 12345.0f;
          scratch.assign(q8_panels::widened_scratch(M, K), int16_t(0x5a5a));  // garbage the kernel must overwrite
          q8_panels::widened_product<T>(C.data(), ldc, wide.data(), a_scales.data(), lda, panels.data(),
                                        b_scales.data(), M, N, K, beta, scratch.data());
          ref::sgemm_q8_panels(reference.data(), ldc, wide.data(), a_scales.data(), lda, panels.data(),
                               b_scales.data(), M, N, K, beta);
          for (int m = 0; m < M; ++m)
            CHECK(same_bits(C.data() + size_t(m) * ldc, reference.data() + size_t(m) * ldc, size_t(N)));
          for (size_t g = size_t(M) * ldc; g < C.size(); ++g) CHECK(C[g] == 12345.0f);
        }
      }
    }
  }
}
}  // namespace

TEST_CASE("int8 panels: the widened-panel tiles give the reference's bits for every tile size and tail") {
  Rng rng(43);
  check_widened_tiles<1>(rng);
  check_widened_tiles<3>(rng);
  check_widened_tiles<4>(rng);
  check_widened_tiles<6>(rng);
}

TEST_CASE("int8 panels: the store holds quantize_rows_int8's bytes and scales, rows written in any order") {
  const int rows = 29, cols = 13;  // a partial last panel, an odd depth
  Rng rng(43);
  const std::vector<float> W = random_floats(size_t(rows) * cols, rng, 3.0f);
  std::vector<int8_t> expected(W.size());
  std::vector<float> scales(rows);
  REQUIRE(quantize_rows_int8(expected.data(), scales.data(), W.data(), rows, cols));
  CompactMatrices store(CompactKind::Int8);
  store.add(rows, cols);
  store.allocate();
  CHECK(store.bytes() == uint64_t(q8_panels_size(rows, cols)) + uint64_t(rows) * 4);
  REQUIRE(store.set_rows(0, 11, rows - 11, W.data() + 11 * cols));  // the second part first, from inside a panel
  REQUIRE(store.set_rows(0, 0, 11, W.data()));
  std::vector<int8_t> held(W.size());
  store.int8_rows(0, 0, rows, held.data());
  CHECK(held == expected);
  const MatrixView view = store.view(0);
  CHECK(std::memcmp(view.scales, scales.data(), scales.size() * sizeof(float)) == 0);
  for (int r = rows; r < 32; ++r)  // the padding rows and the pair past K stay zero
    for (int k = 0; k < cols + 1; ++k) CHECK(view.int8_panels[q8_panel_index(r, k, cols)] == 0);
  for (int r = 0; r < rows; ++r) CHECK(view.int8_panels[q8_panel_index(r, cols, cols)] == 0);
  std::vector<int8_t> middle(size_t(5) * cols);
  store.int8_rows(0, 7, 5, middle.data());
  CHECK(std::equal(middle.begin(), middle.end(), expected.begin() + 7 * cols));
}

TEST_CASE("int8 panels: the pooled product gives the serial bits at every pool size; a non-finite input stays one") {
  Rng rng(47);
  const int rows = 1003, cols = 301;  // splits at multiples of 64 rows; a partial last panel; an odd depth
  CompactMatrices store(CompactKind::Int8);
  store.add(rows, cols);
  store.allocate();
  REQUIRE(store.set(0, random_floats(size_t(rows) * cols, rng).data()));
  for (int N : {1, 2, 64}) {
    CAPTURE(N);
    const std::vector<float> x = random_floats(size_t(N) * cols, rng), y0 = random_floats(size_t(N) * rows, rng);
    std::vector<float> serial = y0;
    matrix_vector(nullptr, serial.data(), store.view(0), x.data(), 1.0f, N);
    for (int threads : {2, 3, 4}) {
      CAPTURE(threads);
      ThreadPool pool(threads);
      std::vector<float> pooled = y0;
      matrix_vector(&pool, pooled.data(), store.view(0), x.data(), 1.0f, N);
      CHECK(same_bits(pooled.data(), serial.data(), serial.size()));
    }
  }
  // An infinity in the input: the product runs in float, and every row that reaches it through a nonzero weight is
  // not finite.
  std::vector<float> x = random_floats(cols, rng);
  x[5] = INFINITY;
  std::vector<float> y(rows, 0.0f);
  matrix_vector(nullptr, y.data(), store.view(0), x.data(), 0.0f, 1);
  std::vector<int8_t> bytes(size_t(rows) * cols);
  store.int8_rows(0, 0, rows, bytes.data());
  for (int r = 0; r < rows; ++r) {
    if (bytes[size_t(r) * cols + 5] != 0) CHECK_FALSE(std::isfinite(y[r]));
  }
}
