// The int8 product over packed weight panels (contract in kernels.hpp: sgemm_q8_panels) — what an int8 model's steps
// and prefill batches run — in the register tiles measured fastest (quantized_panels_tile.hpp; for SSE and wasm
// batches, quantized_panels_widened.hpp), and the packing the weights get once, when a model's int8 matrices are made.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "kernels/kernels.hpp"
#include "kernels/quantized_panels_tile.hpp"
#include "kernels/quantized_panels_widened.hpp"
#include "kernels/simd.hpp"

namespace tinylm {

namespace {

// The tile's shape, measured with bench_q8 (CPU time, all shapes alternated in one process, machine loaded) over
// GPT-2-small's four and SmolLM2-135M's seven products: prefill batches take kTokens tokens × kPanels panels, steps
// (M ≤ 2) one token × kStepPanels panels.
//   Wasm in Node, 64 tokens: 5 × 8 rows 18.8-19.0 ms, 4 × 8 20.0-20.3, 3 × 8 20.2-20.4, 2 × 16 20.3-20.7, 6 × 8
//   26.4-27.2 (spilled), 4 × 16 31-32; the row-major kernel they replaced 20.8-21.1. Steps (20 of each product): 1 × 8 and
//   1 × 16 10.5-11.9 ms, row-major 17.7-20.8.
//   AVX2, 64 tokens: 1 × 32 11.9-12.8 ms, 5 × 8 13.4-13.6, 4 × 8 13.4-13.5, 2 × 16 15.1-15.5, 6 × 16 14.8-15.0;
//   row-major 17.3-17.5. Steps: 1 × 32 5.3-6.3 ms, 1 × 16 5.9-8.8, row-major 11.0-14.3.
// Where a register holds 4 rows (SSE, wasm), prefill batches run the widened-panel tiles instead
// (quantized_panels_widened.hpp: each panel widened once per call, the tokens interleaved), kTokens tokens per tile.
//   Wasm, 64 tokens, load 2.6-3.7, Node 20 and 22 alike: widened 5 × 8 16.6-17.0 ms, 4 × 8 17.4-17.8, 3 × 8 17.4,
//   6 × 8 21.6; the panel tiles they replaced, 5 × 8, 17.3-17.9. Loaded to 8-9, Node 20 gave widened 4 × 8 17.6-17.8
//   against 19.3-19.5, and 5 × 8 anywhere from 18.3 to 28 (V8 spilling it in some builds); in Chromium 156 (int8
//   prefill of the hf_peer prompt, load about 2) 5 × 8 was 0.85-0.88 of main's prefill for SmolLM2-135M on one
//   thread where 4 × 8 was 0.94-1.13 — so 4 × 8, which no engine measured slower.
#if defined(__AVX2__)
constexpr int kTokens = 1, kPanels = 4, kStepPanels = 4;
constexpr bool kWidenedPanels = false;
#else
constexpr int kTokens = 4, kPanels = 1, kStepPanels = 2;
constexpr bool kWidenedPanels = true;
#endif

void sgemm_q8_panels_simd(float* C, int ldc, const int16_t* A, const float* a_scales, int lda, const int8_t* panels,
                          const float* b_scales, int M, int N, int K, float beta) {
  if (M <= 2) return q8_panels::product<1, kStepPanels>(C, ldc, A, a_scales, lda, panels, b_scales, M, N, K, beta);
  if constexpr (kWidenedPanels) {
    // One allocation per batch's product, left uninitialised (zeroing it took 1.6% of a prefill), against the
    // product's M · N · K multiply-adds.
    const std::unique_ptr<int16_t[]> scratch(new int16_t[q8_panels::widened_scratch(M, K)]);
    q8_panels::widened_product<kTokens>(C, ldc, A, a_scales, lda, panels, b_scales, M, N, K, beta, scratch.get());
  } else {
    q8_panels::product<kTokens, kPanels>(C, ldc, A, a_scales, lda, panels, b_scales, M, N, K, beta);
  }
}

}  // namespace

void sgemm_q8_panels(float* C, int ldc, const int16_t* A, const float* a_scales, int lda, const int8_t* panels,
                     const float* b_scales, int M, int N, int K, float beta) {
  simd::pick(ref::sgemm_q8_panels, sgemm_q8_panels_simd)(C, ldc, A, a_scales, lda, panels, b_scales, M, N, K, beta);
}

// A row's pairs are 16 bytes apart in its panel (q8_panel_index), so a row is written two bytes per pair of k.
void pack_q8_panel_rows(int8_t* panels, const int8_t* Q, int first, int count, int K) {
  for (int i = 0; i < count; ++i) {
    const int8_t* row = Q + std::ptrdiff_t(i) * K;
    int8_t* out = panels + q8_panel_index(int64_t(first) + i, 0, K);
    int k = 0;
    for (; k + 2 <= K; k += 2, out += 2 * q8_panel_rows()) {
      out[0] = row[k];
      out[1] = row[k + 1];
    }
    if (k < K) out[0] = row[k];
  }
}

}  // namespace tinylm
