// The register-tile micro-kernel of tinylm's SIMD matrix products (gemm.cpp): one tile of C accumulated over a K
// block with one FMA per A-broadcast and B-vector pair, reading A and B packed (gemm_blocks.hpp) or in place.
#pragma once
#include "kernels/gemm_blocks.hpp"

namespace tinylm {
// Internal linkage, as for the rest of gemm.cpp, the one file that includes this: the compiler then inlines
// these functions into their callers exactly as it did when they were written there.
namespace {

// ---- micro-kernel ----------------------------------------------------------------------------------------
// Where the micro-kernel reads A's tile element (row i, depth k): a[i·row_step + k·depth_step]. A packed panel
// (kc, T::MR) has both steps fixed at compile time. Rows reads a tile of A stored (M,K) in place (row_step = lda):
// packing A costs as much as the product when N is small (a K = 128 layer with 128 outputs), and the MR rows of
// one tile stay in L1 while the tile sweeps the B block either way. Columns reads A stored (K,M) in place
// (depth_step = lda), for shallow products only: each depth step touches its own cache line.
enum class ALayout { Packed, Rows, Columns };
// B's panel row k: T::NR floats at b + k·T::NR (Packed, 64-byte aligned) or at b + k·ldb (Rows: B stored (K,N),
// read in place by shallow products).
enum class BLayout { Packed, Rows };

// C tile (rows ≤ T::MR, cols ≤ T::NR) = beta·C + A tile (T::MR, kc) · B panel (kc, T::NR) [+ bias (cols), added
// to every row when not null: a Linear layer's bias costs no pass of its own]. beta 0 never reads C.
template <class T, ALayout LA, BLayout LB>
void micro_kernel(float* C, int ldc, const float* a, index_t lda, const float* b, index_t ldb, int kc, int rows,
                  int cols, float beta, const float* bias) {
  const index_t row_step = LA == ALayout::Rows ? lda : 1;
  const index_t depth_step = LA == ALayout::Packed ? T::MR : LA == ALayout::Rows ? 1 : lda;
  const index_t b_step = LB == BLayout::Packed ? T::NR : ldb;
  constexpr int upper_half = T::MR / 2;
  const float* a_upper = a + upper_half * row_step;
  fbatch acc[T::MR][T::NV];
  unroll<T::MR>([&](auto i) { unroll<T::NV>([&](auto v) { acc[i][v] = fbatch(0.0f); }); });
  for (int k = 0; k < kc; ++k) {
    fbatch b_k[T::NV];
    if constexpr (LB == BLayout::Packed) {
      unroll<T::NV>([&](auto v) { b_k[v] = simd::load_to_register(b + v * fwidth); });
      unroll<T::NV>([&](auto v) { __builtin_prefetch(b + prefetch_rows * T::NR + v * fwidth); });
    } else {
      unroll<T::NV>([&](auto v) { b_k[v] = simd::load_unaligned_to_register(b + v * fwidth); });
    }
    unroll<T::MR>([&](auto i) {
      // Rows from two base pointers: half as many row offsets to keep in registers (14 rows on AVX-512).
      const fbatch a_i(i < upper_half ? a[i * row_step] : a_upper[(i - upper_half) * row_step]);
      unroll<T::NV>([&](auto v) { acc[i][v] = simd::multiply_add(a_i, b_k[v], acc[i][v]); });
    });
    a += depth_step;
    a_upper += depth_step;
    b += b_step;
  }

  if (bias && cols == T::NR) {
    unroll<T::NV>([&](auto v) {
      const fbatch bias_v = load(bias + v * fwidth);
      unroll<T::MR>([&](auto i) { acc[i][v] += bias_v; });
    });
  }
  if (rows == T::MR && cols == T::NR) {
    unroll<T::MR>([&](auto i) {
      unroll<T::NV>([&](auto v) {
        float* c = C + index_t(i) * ldc + v * fwidth;
        store(c, beta == 0.0f ? acc[i][v] : simd::multiply_add(fbatch(beta), load(c), acc[i][v]));
      });
    });
    return;
  }
  alignas(64) float tile[T::MR * T::NR];  // (T::MR, T::NR): the edge tile, of which rows×cols is written
  unroll<T::MR>([&](auto i) { unroll<T::NV>([&](auto v) { store(tile + i * T::NR + v * fwidth, acc[i][v]); }); });
  const float* edge_bias = cols < T::NR ? bias : nullptr;  // full-width tiles took theirs in registers above
  for (int i = 0; i < rows; ++i) {
    float* c = C + index_t(i) * ldc;
    for (int j = 0; j < cols; ++j) {
      const float product = edge_bias ? tile[i * T::NR + j] + edge_bias[j] : tile[i * T::NR + j];
      c[j] = beta == 0.0f ? product : beta * c[j] + product;
    }
  }
}

}  // namespace
}  // namespace tinylm
