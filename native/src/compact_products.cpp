// matrix_rows (compact_matrices.hpp): a batch of N input rows through one matrix of a generation step, in whichever
// of its three storages it is held.
//
// Float weights go straight to the pooled GEMM. F16 panels are converted to float one tile of kTileRows output rows
// at a time, and the tile is multiplied by all N rows before the next one is converted: each weight is read and
// converted once per batch instead of once per row, and no float copy of the matrix is ever held (one tile per
// worker). Int8 panels multiply the batch quantised per row with integer sums (sgemm_q8_panels), each weight read
// once for all N; the sums are exact, so the batch gives its rows' steps' bits.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "compact_matrices.hpp"
#include "half.hpp"
#include "kernels/kernels.hpp"
#include "parallel/parallel_kernels.hpp"

namespace tinylm {

namespace {

// Output rows per converted tile: a multiple of every half-panel height (8, 16, 32 rows) and of the GEMM's register
// column panels, so tiles hold whole panels and the product no partial register tile that one serial call would not.
constexpr int64_t kTileRows = 96;
// Multiply-adds per chunk of tiles a worker takes (as parallel_kernels.cpp sizes product chunks).
constexpr int64_t kChunkWork = int64_t(1) << 18;

// tile (K, rows) row-major, ld = rows rounded up to whole panels: rows [first, first + rows) of the panel copy (first a
// multiple of the panel height), so the product is x (N,K) · tile, a plain nn GEMM.
void half_tile_to_float(float* tile, int ld, const uint16_t* panels, int64_t first, int rows, int K) {
  const int64_t P = half_panel_rows();
  for (int64_t g = 0; g * P < rows; ++g) {
    const uint16_t* group = panels + (first + g * P) * K;  // depth by depth: the group's P values at k, then k+1, …
    for (int64_t k = 0; k < K; ++k) {
      float* out = tile + k * ld + g * P;
      for (int64_t lane = 0; lane < P; ++lane) out[lane] = half_to_float(group[k * P + lane]);
    }
  }
}

}  // namespace

void matrix_rows(ThreadPool* pool, float* y, const MatrixView& view, const float* x, const float* bias, int N,
                 QuantizedRows* scratch) {
  const int M = view.rows, K = view.cols;
  if (view.f32) {
    if (bias) sgemm_nt_bias(pool, y, M, x, K, view.f32, K, bias, N, M, K);
    else sgemm_nt(pool, y, M, x, K, view.f32, K, N, M, K, 0.0f);
    return;
  }
  if (view.int8_panels) {
    // bias + product, as a step adds them (StepMatrices::project starts from the bias), so the bits match.
    if (bias) {
      for (int n = 0; n < N; ++n) std::memcpy(y + int64_t(n) * M, bias, sizeof(float) * M);
    }
    return matrix_vector(pool, y, view, x, bias ? 1.0f : 0.0f, N, scratch);
  }
  const int64_t tile_work = kTileRows * int64_t(K) * std::max(N, 1);
  const int64_t grain = std::max<int64_t>(1, kChunkWork / tile_work) * kTileRows;
  parallel_for(pool, M, grain, [&](int64_t begin, int64_t end) {
    const int64_t P = half_panel_rows(), ld = (kTileRows + P - 1) / P * P;
    std::vector<float> tile(size_t(ld * K));
    for (int64_t i0 = begin; i0 < end; i0 += kTileRows) {
      const int rows = int(std::min(kTileRows, end - i0));
      float* out = y + i0;
      const int tile_ld = int((rows + P - 1) / P * P);
      half_tile_to_float(tile.data(), tile_ld, view.f16_panels, i0, rows, K);
      sgemm_nn(out, M, x, K, tile.data(), tile_ld, N, rows, K, 0.0f);
      if (bias) {
        for (int n = 0; n < N; ++n)
          for (int i = 0; i < rows; ++i) out[int64_t(n) * M + i] += bias[i0 + i];
      }
    }
  });
}

}  // namespace tinylm
