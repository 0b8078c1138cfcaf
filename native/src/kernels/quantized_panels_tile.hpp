// The register tiles of the int8 product over weight panels (kernels.hpp: sgemm_q8_panels), as templates over the
// tile's shape — T tokens × NP panels of 8 weight rows — so that the kernel (quantized_panels.cpp) instantiates the
// shapes it runs and bench_q8 the ones it compares.
//
// A panel holds 8 weight rows pair of k by pair of k, so one register of int16 (8 lanes SSE/wasm, 16 AVX2) widened
// from 8 or 16 panel bytes is 4 or 8 rows × 2 k; the activations are int16 already, and one 32-bit broadcast of a
// token's pair of k multiplies against it (pmaddwd: i32x4.dot_i16x8_s) into 4 or 8 rows' int32 sums at once. Per
// pair of k, a tile of T tokens × one panel costs 16 weight bytes widened once and T broadcasts — where the row-major
// kernel it replaced widened both operands and summed each output's lanes at the end. The sums are exact, so
// every tile, split and tail gives the reference's bits.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/kernels.hpp"
#include "kernels/simd.hpp"

namespace tinylm::q8_panels {

using index_t = std::ptrdiff_t;

constexpr int kPanelRows = q8_panel_rows();
constexpr int kPairBytes = 2 * kPanelRows;                   // one pair of k of a panel's 8 rows
constexpr int kVectorsPerPair = kPairBytes / simd::i8width;  // 2 SSE/wasm, 1 AVX2
constexpr int kRowsPerVector = simd::i8width / 2;            // int32 lanes: 4 SSE/wasm, 8 AVX2

// A token's activations at k and k+1, as one int32, in every lane pair.
inline simd::iwide broadcast_pair(const int16_t* a) {
  int32_t pair;
  std::memcpy(&pair, a, sizeof pair);
#if defined(__AVX2__)
  return _mm256_set1_epi32(pair);
#elif defined(__SSE4_1__)
  return _mm_set1_epi32(pair);
#else
  simd::iwide w;
  for (int i = 0; i < 8; i += 2) {
    w.lanes[i] = a[0];
    w.lanes[i + 1] = a[1];
  }
  return w;
#endif
}

inline void store_sums(int32_t* out, simd::isum v) {
#if defined(__AVX2__)
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), v);
#elif defined(__SSE4_1__)
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), v);
#else
  std::memcpy(out, v.lanes, sizeof v.lanes);
#endif
}

// x as computed, kept apart from the add that follows: GCC (-ffp-contract=fast, its default) fuses a multiply and an
// add into one FMA where it vectorises them together, as it does the loop below, which would round once where the
// reference and the other tiles round twice.
inline float rounded(float x) {
#if defined(__GNUC__) && !defined(__clang__) && (defined(__x86_64__) || defined(__i386__))
  __asm__("" : "+x"(x));
#endif
  return x;
}

// C (T, rows) = beta·C + the T tokens' W vectors of int32 sums (rows in lane order), each scaled once, as the reference
// scales them. Inlined into each tile, so the sums go from registers to the outputs (called, they went through memory:
// 2% of a prefill).
template <int T, int W>
[[gnu::always_inline]] inline void scale_sums(float* C, int ldc, const simd::isum (&acc)[T][W],
                                              const float* a_scales, const float* b_scales, int rows, float beta) {
  for (int t = 0; t < T; ++t) {
    int32_t sums[W * kRowsPerVector];
    for (int i = 0; i < W; ++i) store_sums(sums + i * kRowsPerVector, acc[t][i]);
    for (int r = 0; r < rows; ++r) {
      const float value = rounded(float(sums[r]) * (a_scales[t] * b_scales[r]));
      float& out = C[index_t(t) * ldc + r];
      out = beta == 0.0f ? value : out + value;
    }
  }
}

// C (T, rows) for T tokens against NP panels (8 · NP weight rows, of which the first `rows` are real).
template <int T, int NP>
void panel_tile(float* C, int ldc, const int16_t* A, const float* a_scales, int lda, const int8_t* panels,
                index_t panel_bytes, const float* b_scales, int rows, int Kp, float beta) {
  constexpr int W = NP * kVectorsPerPair;
  simd::isum acc[T][W];
  simd::unroll<T>([&](auto t) { simd::unroll<W>([&](auto i) { acc[t][i] = simd::isum_zero(); }); });
  const int8_t* b = panels;
  for (int k = 0; k < Kp; k += 2, b += kPairBytes) {
    simd::iwide weights[W];
    simd::unroll<NP>([&](auto p) {
      simd::unroll<kVectorsPerPair>([&](auto v) {
        weights[p * kVectorsPerPair + v] = simd::load_int8_as_int16(
            reinterpret_cast<const signed char*>(b + index_t(p) * panel_bytes + v * simd::i8width));
      });
    });
    simd::unroll<T>([&](auto t) {
      const simd::iwide a = broadcast_pair(A + index_t(t) * lda + k);
      simd::unroll<W>([&](auto i) { acc[t][i] = simd::dot_add(acc[t][i], a, weights[i]); });
    });
  }
  scale_sums<T, W>(C, ldc, acc, a_scales, b_scales, rows, beta);
}

// The last M % T tokens, one tile of exactly that many.
template <int NP, int T>
void token_tail(int count, float* C, int ldc, const int16_t* A, const float* a_scales, int lda, const int8_t* panels,
                index_t panel_bytes, const float* b_scales, int rows, int Kp, float beta) {
  if constexpr (T > 0) {
    if (count == T) return panel_tile<T, NP>(C, ldc, A, a_scales, lda, panels, panel_bytes, b_scales, rows, Kp, beta);
    token_tail<NP, T - 1>(count, C, ldc, A, a_scales, lda, panels, panel_bytes, b_scales, rows, Kp, beta);
  }
}

// Every token against NP panels, T tokens at a time: the panels' bytes stay in L1 while all M tokens pass, so a batch
// reads each weight from memory once.
template <int T, int NP>
void all_tokens(float* C, int ldc, const int16_t* A, const float* a_scales, int lda, const int8_t* panels,
                index_t panel_bytes, const float* b_scales, int rows, int M, int Kp, float beta) {
  int m = 0;
  for (; m + T <= M; m += T)
    panel_tile<T, NP>(C + index_t(m) * ldc, ldc, A + index_t(m) * lda, a_scales + m, lda, panels, panel_bytes,
                      b_scales, rows, Kp, beta);
  token_tail<NP, T - 1>(M - m, C + index_t(m) * ldc, ldc, A + index_t(m) * lda, a_scales + m, lda, panels, panel_bytes,
                        b_scales, rows, Kp, beta);
}

// C (M,N) as sgemm_q8_panels computes it, NP panels at a time (then single panels for the rest), T tokens per tile.
template <int T, int NP>
void product(float* C, int ldc, const int16_t* A, const float* a_scales, int lda, const int8_t* panels,
             const float* b_scales, int M, int N, int K, float beta) {
  const int Kp = int(q8_panel_depth(K));
  const index_t panel_bytes = index_t(kPanelRows) * Kp;
  int n = 0;
  for (; n + NP * kPanelRows <= N; n += NP * kPanelRows)
    all_tokens<T, NP>(C + n, ldc, A, a_scales, lda, panels + (n / kPanelRows) * panel_bytes, panel_bytes,
                      b_scales + n, NP * kPanelRows, M, Kp, beta);
  for (; n < N; n += kPanelRows)  // the last panels, the very last one possibly partial
    all_tokens<T, 1>(C + n, ldc, A, a_scales, lda, panels + (n / kPanelRows) * panel_bytes, panel_bytes,
                     b_scales + n, std::min(kPanelRows, N - n), M, Kp, beta);
}

}  // namespace tinylm::q8_panels
