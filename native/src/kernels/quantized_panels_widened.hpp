// The int8 product over weight panels (kernels.hpp: sgemm_q8_panels) for a prompt's batch where a register holds
// 4 rows × 2 k (SSE, wasm SIMD128): the same sums as quantized_panels_tile.hpp's tiles, with the two costs of their
// inner loop that are not multiply-adds taken out of it.
//
//   - The weights: panel_tile widens each pair of k's 16 panel bytes to int16 once per tile, so a batch of M tokens
//     widened every weight M / T times. Here each panel of 8 rows is widened once, into 8 · Kp int16 of scratch that
//     stay in L1 while every tile of tokens passes, and the tiles read it with plain loads.
//   - The activations: panel_tile reads token t's pair at A + t·lda + k, an address computed per token and pair (wasm
//     addresses cannot fold a variable stride). Here the call first lays each tile's T tokens pair by pair, so a tile
//     reads its tokens' pairs at fixed offsets from one pointer.
//
// V8 on x86 (Zen 4, Node 20; bench_q8_wasm, CPU time, GPT-2-small's and SmolLM2-135M's products, 64 tokens): the
// tile's loop was 46 instructions per pair of k for 10 pmaddwd (5 × 8 tile), 7.4 cycles where the pmaddwd + paddd
// alone take 6.2; widening took 0.5 cycle per load. The sums are exact: the bits are the reference's.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/kernels.hpp"
#include "kernels/quantized_panels_tile.hpp"
#include "kernels/simd.hpp"

namespace tinylm::q8_panels {

// packed (M, Kp) int16: A's tokens in tiles of T (the last one R = M mod T tokens, if any), each tile pair by pair —
// token t's pair j of a tile of R tokens at (j·R + t)·2 from the tile's start, which is its first token's row.
template <int T>
void interleave_tokens(int16_t* packed, const int16_t* A, int lda, int M, int Kp) {
  for (int m = 0; m < M; m += T) {
    const int R = std::min(T, M - m);
    int16_t* tile = packed + index_t(m) * Kp;
    for (int t = 0; t < R; ++t) {
      const int16_t* row = A + index_t(m + t) * lda;
      for (int j = 0; j < Kp / 2; ++j) std::memcpy(tile + (index_t(j) * R + t) * 2, row + 2 * j, 2 * sizeof(int16_t));
    }
  }
}

// wide (kPanelRows · Kp) int16: one panel's bytes widened, in the panel's order.
inline void widen_panel(int16_t* wide, const int8_t* panel, int Kp) {
  const index_t count = index_t(kPanelRows) * Kp;
  for (index_t i = 0; i < count; i += simd::i8width)
    simd::store_wide(wide + i, simd::load_int8_as_int16(reinterpret_cast<const signed char*>(panel + i)));
}

// C (T, rows) for a tile of T interleaved tokens against one widened panel.
template <int T>
void widened_tile(float* C, int ldc, const int16_t* tokens, const float* a_scales, const int16_t* wide,
                  const float* b_scales, int rows, int Kp, float beta) {
  constexpr int W = kVectorsPerPair;
  simd::isum acc[T][W];
  simd::unroll<T>([&](auto t) { simd::unroll<W>([&](auto i) { acc[t][i] = simd::isum_zero(); }); });
  const int16_t* const end = wide + index_t(Kp / 2) * kPairBytes;
  for (const int16_t* b = wide; b != end; b += kPairBytes, tokens += 2 * T) {
    simd::iwide weights[W];
    simd::unroll<W>([&](auto v) { weights[v] = simd::load_wide(b + v * simd::i8width); });
    simd::unroll<T>([&](auto t) {
      const simd::iwide a = broadcast_pair(tokens + 2 * t);
      simd::unroll<W>([&](auto i) { acc[t][i] = simd::dot_add(acc[t][i], a, weights[i]); });
    });
  }
  scale_sums<T, W>(C, ldc, acc, a_scales, b_scales, rows, beta);
}

// The last tile, of exactly `count` < T tokens.
template <int T>
void widened_tail(int count, float* C, int ldc, const int16_t* tokens, const float* a_scales, const int16_t* wide,
                  const float* b_scales, int rows, int Kp, float beta) {
  if constexpr (T > 0) {
    if (count == T) return widened_tile<T>(C, ldc, tokens, a_scales, wide, b_scales, rows, Kp, beta);
    widened_tail<T - 1>(count, C, ldc, tokens, a_scales, wide, b_scales, rows, Kp, beta);
  }
}

// C (M,N) as sgemm_q8_panels computes it: the tokens interleaved once, then panel by panel, the panel widened and
// every tile of T tokens multiplied by it. scratch: (M + kPanelRows) · Kp int16 (widened_scratch), every one written
// before it is read.
inline size_t widened_scratch(int M, int K) { return size_t(M + kPanelRows) * size_t(q8_panel_depth(K)); }
template <int T>
void widened_product(float* C, int ldc, const int16_t* A, const float* a_scales, int lda, const int8_t* panels,
                     const float* b_scales, int M, int N, int K, float beta, int16_t* scratch) {
  const int Kp = int(q8_panel_depth(K));
  const index_t panel_bytes = index_t(kPanelRows) * Kp;
  int16_t* const tokens = scratch;
  int16_t* const wide = tokens + index_t(M) * Kp;
  interleave_tokens<T>(tokens, A, lda, M, Kp);
  for (int n = 0; n < N; n += kPanelRows) {
    widen_panel(wide, panels + (n / kPanelRows) * panel_bytes, Kp);
    const int rows = std::min(kPanelRows, N - n);
    int m = 0;
    for (; m + T <= M; m += T)
      widened_tile<T>(C + index_t(m) * ldc + n, ldc, tokens + index_t(m) * Kp, a_scales + m, wide, b_scales + n, rows,
                      Kp, beta);
    widened_tail<T - 1>(M - m, C + index_t(m) * ldc + n, ldc, tokens + index_t(m) * Kp, a_scales + m, wide,
                        b_scales + n, rows, Kp, beta);
  }
}

}  // namespace tinylm::q8_panels
