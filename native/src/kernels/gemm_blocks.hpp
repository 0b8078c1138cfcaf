// The blocking of tinylm's SIMD matrix products (drivers in gemm.cpp, micro-kernel in gemm_micro_kernel.hpp): the
// register tile and cache block sizes of this build, the operand view, the aligned pack buffers, where each K block
// of a pre-packed B starts, and the copies of A and B blocks into panels in the order the micro-kernel reads them.
// Generic in the register width (fbatch::size = 16 AVX-512, 8 AVX, 4 SSE/wasm).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/simd.hpp"

namespace tinylm {
// Internal linkage, as for the rest of gemm.cpp, the one file that includes this: the compiler then inlines
// these functions into their callers exactly as it did when they were written there.
namespace {

using simd::fbatch;
using simd::fwidth;
using simd::load;
using simd::store;
using simd::unroll;
using index_t = std::ptrdiff_t;

// ---- tile and block sizes --------------------------------------------------------------------------------
// Two register tiles, both filling the register file with accumulators + B vectors + 1 broadcast:
//  Wide: MR = 14 rows × NR = 2 registers (28 + 2 + 1 of 32 zmm on AVX-512; 6 × 2 of 16 on AVX2 and SSE; wasm:
//        below).
//  Tall: MR = 8 rows × NR = 3 registers (24 + 3 + 1 of 32; 4 × 3 of 16) — for products with few rows, such as a
//        recurrent step multiplying the B = 32 hidden states, where 14-row panels leave the last one mostly empty
//        (14 + 14 + 4 rows) and every B panel is reused by few A panels.
template <int RowsPerTile, int RegistersPerRow>
struct Tile {
  static constexpr int MR = RowsPerTile;
  static constexpr int NV = RegistersPerRow;
  static constexpr int NR = RegistersPerRow * fwidth;
  static constexpr int MC = RowsPerTile * 20;  // rows of a transposed A packed per block
};
#ifdef __EMSCRIPTEN__
// Wasm has no FMA: each multiply-add is a mul into a temporary, then an add, and V8 hands out 15 of the 16 xmm
// registers (it keeps one as scratch). 6 × 2's 12 accumulators + 2 B vectors + broadcast + temporary are one too
// many and spill in the inner loop. Measured with bench_kernels_wasm at 512³: 4 × 2 31–36 GFLOP/s, 6 × 2 23–24.
using WideTile = Tile<4, 2>;
using TallTile = Tile<3, 3>;
#else
using WideTile = Tile<fwidth >= 16 ? 14 : 6, 2>;
using TallTile = Tile<fwidth >= 16 ? 8 : 4, 3>;
#endif
constexpr int tall_tile_max_rows = 64;  // products with at most this many rows may use the tall tile

constexpr int KC = 256;       // K block: A micro-panel KC×MR×4 B ≤ 14 KB (AVX-512), L1-resident
constexpr int NC = 1024;      // B block KC×NC×4 B = 1 MB, L2-resident
// Reading operands in place takes five more micro-kernel variants. With 4-float registers (SSE, and the wasm
// build, where every variant is shipped bytes) only the packed kernel is built: the variants grew the gzipped
// .wasm by 6 KB, past the package's size budget, for gains measured on 8- and 16-float targets.
constexpr bool in_place_kernels = fwidth >= 8;
constexpr int in_place_depth = 64;  // products this shallow read A and B in place (see gemm_packed)
constexpr index_t in_place_span = 32 * 1024;  // bytes: any region this size fits the L1 of every target
constexpr int l1_ways = 8;                     // the least associative L1 data cache of the targets
constexpr int prefetch_rows = 4;  // B panel rows fetched ahead in the micro-kernel: hides the L2 latency

// A logical matrix operand: element (r, c) is data[r*ld + c], or data[c*ld + r] when transposed.
struct Operand {
  const float* data;
  int ld;
  bool transposed;
};

// A 64-byte aligned view into a thread_local vector that grows to the largest request and is then reused.
float* scratch(std::vector<float>& storage, std::size_t floats) {
  constexpr std::size_t align_floats = 64 / sizeof(float);
  if (storage.size() < floats + align_floats) storage.resize(floats + align_floats);
  auto address = reinterpret_cast<std::uintptr_t>(storage.data());
  auto aligned = (address + 63) & ~std::uintptr_t(63);
  return storage.data() + (aligned - address) / sizeof(float);
}

// Where a K block of B starts inside a pre-packed B: blocks are stored N block by N block, K block by K block.
struct PackedLayout {
  int kc_max;  // equal K blocks: no thin last block
  int k_blocks;
  static PackedLayout for_depth(int K) {
    const int k_blocks = (K + KC - 1) / KC;
    return {(K + k_blocks - 1) / k_blocks, k_blocks};
  }
};

template <class T>
index_t padded_columns(int nc) { return index_t(nc + T::NR - 1) / T::NR * T::NR; }

// ---- packing ---------------------------------------------------------------------------------------------
// A block rows [i0, i0+mc) × depth [k0, k0+kc) → panels of T::MR rows; panel p holds (kc, T::MR) at ap + p·T::MR·kc.
// Rows past mc are zero so the micro-kernel always runs a full tile.
template <class T>
void pack_a(float* ap, const Operand& A, int i0, int mc, int k0, int kc) {
  if (A.transposed) {  // A stored (K, M): depth outer, so each source row is read once, contiguously, for all
                       // panels (panel-outer re-read each row's cache lines once per panel, from L2)
    // A panel row is copied as whole registers: the vectors·fwidth − T::MR floats past it land in the panel's next
    // row, which the next depth step overwrites. The last depth step and the block's last panels copy exactly.
    constexpr int vectors = (T::MR + fwidth - 1) / fwidth;
    static_assert(vectors * fwidth - T::MR <= T::MR, "the overshoot stays inside the next panel row");
    for (int k = 0; k < kc; ++k) {
      const float* src = A.data + index_t(k0 + k) * A.ld + i0;
      const bool overshoot_ok = k + 1 < kc;
      for (int p0 = 0; p0 < mc; p0 += T::MR) {
        const int rows = std::min(T::MR, mc - p0);
        float* dst = ap + index_t(p0) * kc + index_t(k) * T::MR;
        if (overshoot_ok && p0 + vectors * fwidth <= mc) {
          unroll<vectors>([&](auto v) { store(dst + v * fwidth, load(src + p0 + v * fwidth)); });
        } else if (rows == T::MR) {
          unroll<T::MR>([&](auto i) { dst[i] = src[p0 + i]; });
        } else {
          for (int i = 0; i < rows; ++i) dst[i] = src[p0 + i];
          for (int i = rows; i < T::MR; ++i) dst[i] = 0.0f;
        }
      }
    }
    return;
  }
  for (int p0 = 0; p0 < mc; p0 += T::MR) {
    const int rows = std::min(T::MR, mc - p0);
    float* panel = ap + index_t(p0) * kc;
    // A stored (M, K): a transposing copy; rows outer so the source streams contiguously (the strided writes
    // land in the L1-resident panel)
    const float* src = A.data + index_t(i0 + p0) * A.ld + k0;
    for (int i = 0; i < rows; ++i) {
      const float* row = src + index_t(i) * A.ld;
      for (int k = 0; k < kc; ++k) panel[index_t(k) * T::MR + i] = row[k];
    }
    for (int i = rows; i < T::MR; ++i)
      for (int k = 0; k < kc; ++k) panel[index_t(k) * T::MR + i] = 0.0f;
  }
}

// B block depth [k0, k0+kc) × columns [j0, j0+nc) → panels of T::NR columns; panel p holds (kc, T::NR) at
// bp + p·T::NR·kc. Columns past nc are zero.
template <class T>
void pack_b(float* bp, const Operand& B, int j0, int nc, int k0, int kc) {
  for (int p0 = 0; p0 < nc; p0 += T::NR) {
    const int cols = std::min(T::NR, nc - p0);
    float* panel = bp + index_t(p0) * kc;
    if (!B.transposed) {  // B stored (K, N): each k gives `cols` contiguous floats
      for (int k = 0; k < kc; ++k) {
        const float* src = B.data + index_t(k0 + k) * B.ld + j0 + p0;
        float* dst = panel + index_t(k) * T::NR;
        if (cols == T::NR) {
          unroll<T::NV>([&](auto v) { store(dst + v * fwidth, load(src + v * fwidth)); });
        } else {
          for (int j = 0; j < cols; ++j) dst[j] = src[j];
          for (int j = cols; j < T::NR; ++j) dst[j] = 0.0f;
        }
      }
    } else {  // B stored (N, K): a transposing copy; k outer so each panel row is written contiguously
      const float* src = B.data + index_t(j0 + p0) * B.ld + k0;
      if (cols == T::NR) {
        for (int k = 0; k < kc; ++k)
          unroll<T::NR>([&](auto j) { panel[index_t(k) * T::NR + j] = src[index_t(j) * B.ld + k]; });
      } else {
        for (int k = 0; k < kc; ++k)
          for (int j = 0; j < T::NR; ++j) panel[index_t(k) * T::NR + j] = j < cols ? src[index_t(j) * B.ld + k] : 0.0f;
      }
    }
  }
}

}  // namespace
}  // namespace tinylm
