// The integer int8 product over row-major weights (contract in kernels.hpp: sgemm_q8_nt): int8 activations times
// int8 weight rows, summed exactly in int32 and scaled once per output. Int8 models multiply the same sums over
// weights packed in panels (quantized_panels.cpp); this layout stays for callers holding plain rows (the pooled
// wrapper in parallel_kernels, bench_int8_accuracy) and as bench_q8's baseline.
//
// A register tile is T activation rows × R weight rows: each k step loads R weight slices and T activation slices,
// widened to int16 in registers (simd::load_int8_as_int16), and adds T·R pair products (simd::dot_add). The sums are
// exact, so every tile, split and tail gives the reference's bits.
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "kernels/kernels.hpp"
#include "kernels/simd.hpp"

namespace tinylm {

namespace {

using index_t = std::ptrdiff_t;

template <int T, int R>
void q8_tile(float* C, int ldc, const int8_t* A, const float* a_scales, int lda, const int8_t* B,
             const float* b_scales, int ldb, int K, float beta) {
  simd::isum acc[T][R];
  simd::unroll<T>([&](auto t) { simd::unroll<R>([&](auto r) { acc[t][r] = simd::isum_zero(); }); });
  int k = 0;
  for (; k + simd::i8width <= K; k += simd::i8width) {
    simd::iwide weights[R];
    simd::unroll<R>([&](auto r) {
      weights[r] = simd::load_int8_as_int16(reinterpret_cast<const signed char*>(B + index_t(r) * ldb + k));
    });
    simd::unroll<T>([&](auto t) {
      const simd::iwide a = simd::load_int8_as_int16(reinterpret_cast<const signed char*>(A + index_t(t) * lda + k));
      simd::unroll<R>([&](auto r) { acc[t][r] = simd::dot_add(acc[t][r], a, weights[r]); });
    });
  }
  for (int t = 0; t < T; ++t) {
    for (int r = 0; r < R; ++r) {
      int32_t sum = simd::reduce_add_int(acc[t][r]);
      for (int kk = k; kk < K; ++kk) sum += int32_t(A[index_t(t) * lda + kk]) * int32_t(B[index_t(r) * ldb + kk]);
      const float value = float(sum) * (a_scales[t] * b_scales[r]);
      float& out = C[index_t(t) * ldc + r];
      out = beta == 0.0f ? value : out + value;
    }
  }
}

// The tile's shape, measured over GPT-2-small's and SmolLM2-135M's products for a 64-token batch, all tile shapes in
// one process, alternated. AVX2 (16 registers of 16 int16): 4 activation rows × 3 weight rows (12 accumulators, 3
// weights, 1 activation) took 16.7 ms where 2 × 4 took 20.7 (3 × 4 16.7, 2 × 5 17.7, 3 × 3 19.1). Wasm in Node
// (SIMD128 through SSE4.1, 16 registers of 8 int16, fewer left to V8's allocator): 2 × 4 took 20.0 ms, 3 × 3
// 21.2, 2 × 5 22.2, 4 × 3 26.3 and 3 × 4 25.7 (spilled accumulators).
#if defined(__AVX2__)
constexpr int kTileTokens = 4, kTileRows = 3;
#else
constexpr int kTileTokens = 2, kTileRows = 4;
#endif

// Every activation row against R weight rows, kTileTokens activation rows at a time: the R rows' bytes stay in L1
// while all M activation rows pass, so a batch reads each weight from memory once.
template <int R>
void q8_weight_rows(float* C, int ldc, const int8_t* A, const float* a_scales, int lda, const int8_t* B,
                    const float* b_scales, int ldb, int M, int K, float beta) {
  const auto tile = [&](auto tokens, int m) {
    q8_tile<decltype(tokens)::value, R>(C + index_t(m) * ldc, ldc, A + index_t(m) * lda, a_scales + m, lda, B,
                                        b_scales, ldb, K, beta);
  };
  int m = 0;
  for (; m + kTileTokens <= M; m += kTileTokens) tile(std::integral_constant<int, kTileTokens>{}, m);
  if constexpr (kTileTokens > 2) {
    for (; m + 2 <= M; m += 2) tile(std::integral_constant<int, 2>{}, m);
  }
  if (m < M) tile(std::integral_constant<int, 1>{}, m);
}

void sgemm_q8_nt_simd(float* C, int ldc, const int8_t* A, const float* a_scales, int lda, const int8_t* B,
                      const float* b_scales, int ldb, int M, int N, int K, float beta) {
  constexpr int rows = kTileRows;
  int n = 0;
  for (; n + rows <= N; n += rows)
    q8_weight_rows<rows>(C + n, ldc, A, a_scales, lda, B + index_t(n) * ldb, b_scales + n, ldb, M, K, beta);
  for (; n < N; ++n) q8_weight_rows<1>(C + n, ldc, A, a_scales, lda, B + index_t(n) * ldb, b_scales + n, ldb, M, K, beta);
}

}  // namespace

void sgemm_q8_nt(float* C, int ldc, const int8_t* A, const float* a_scales, int lda, const int8_t* B,
                 const float* b_scales, int ldb, int M, int N, int K, float beta) {
  simd::pick(ref::sgemm_q8_nt, sgemm_q8_nt_simd)(C, ldc, A, a_scales, lda, B, b_scales, ldb, M, N, K, beta);
}

}  // namespace tinylm
