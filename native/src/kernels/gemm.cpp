// SIMD matrix kernels: sgemm_nn / sgemm_nt / sgemm_tn and sgemm_packed (contract in kernels.hpp; sgemv is in
// gemv.cpp).
//
// Generic in the register width of this build (fbatch::size = 16 AVX-512, 8 AVX, 4 SSE/wasm):
//  * sgemm (Goto/BLIS): B is copied block by block into panels laid out in the order the micro-kernel reads
//    them, and an MR×NR register tile of C accumulates over a K block with one FMA per A-broadcast and B-vector
//    pair. A tile of MR rows of A is read in place wherever it stays in L1 that way (packed elsewhere, see
//    gemm_packed) while it sweeps the packed B block (KC×NC) in L2. The three layouts differ only in how B is
//    packed and A is read.
// Pack buffers are thread_local and only grow, so steady-state calls never allocate.
// This file holds the drivers (the loops over blocks and tiles, the choice of tile) and the public entry points;
// the tile and block sizes and the packing are in gemm_blocks.hpp, the micro-kernel in gemm_micro_kernel.hpp, and
// the transposed driver of X·Wᵀ for a few rows of X (a prompt's batch), which reads W in place, in
// gemm_weight_rows.hpp.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/gemm_blocks.hpp"
#include "kernels/gemm_micro_kernel.hpp"
#include "kernels/gemm_weight_rows.hpp"
#include "kernels/kernels.hpp"
#include "kernels/simd.hpp"

namespace tinylm {

namespace {

// C (M,N) = beta·C + A·B through packed blocks. Loop order: N blocks → K blocks (pack B, unless `prepacked`
// holds it already) → M blocks → T::MR tiles of rows → T::NR panels, so one tile of A rows stays in L1 while the B
// block streams from L2.
template <class T>
void gemm_packed(float* C, int ldc, const Operand& A, const Operand& B, const float* prepacked, int M, int N, int K,
                 float beta, const float* bias = nullptr) {
  thread_local std::vector<float> a_storage, b_storage;
  const PackedLayout layout = PackedLayout::for_depth(K);
  const int kc_max = layout.kc_max;
  // pack_b writes whole T::NR panels: an N block of NC columns, NC not a multiple of T::NR (12 or 48 for the tall
  // tile), fills padded_columns(NC) of them.
  const index_t nc_max = padded_columns<T>(std::min(NC, N));
  const int mc_max = std::min(T::MC, (M + T::MR - 1) / T::MR * T::MR);
  float* bp = prepacked ? nullptr : scratch(b_storage, std::size_t(kc_max) * nc_max);
  float* ap = scratch(a_storage, std::size_t(kc_max) * mc_max);

  // Shallow products (one K block of at most in_place_depth) read A stored (K,M) and B stored (K,N) in place as
  // well: their kc cache lines per tile stay in L1, and packing would cost about as much as the product (an
  // attention head's blocks, K = 32). Only where the K rows span at most in_place_span bytes: rows a page apart
  // would all fall in one L1 set and evict each other.
  auto shallow = [&](const Operand& operand) {
    return K <= in_place_depth && index_t(K) * operand.ld * index_t(sizeof(float)) <= in_place_span;
  };
  const bool b_in_place = in_place_kernels && !B.transposed && !prepacked && shallow(B);
  const float* block = prepacked;
  for (int j0 = 0; j0 < N; j0 += NC) {
    const int nc = std::min(NC, N - j0);
    const int full_columns = b_in_place ? nc / T::NR * T::NR : 0;  // panels read in place
    for (int k0 = 0; k0 < K; k0 += kc_max) {
      const int kc = std::min(kc_max, K - k0);
      const float block_beta = k0 == 0 ? beta : 1.0f;  // later K blocks accumulate onto the first
      const float* block_bias = k0 == 0 && bias ? bias + j0 : nullptr;  // added once, with the first K block
      const float* b_block = bp;
      if (prepacked) {
        b_block = block;
        block += padded_columns<T>(nc) * kc;
      } else if (full_columns < nc) {
        pack_b<T>(bp + index_t(full_columns) * kc, B, j0 + full_columns, nc - full_columns, k0, kc);
      }
      // One tile of rows against every panel of the B block.
      auto sweep = [&](auto a_layout, const float* a, index_t lda, int rows, float* c_row) {
        constexpr ALayout LA = decltype(a_layout)::value;
        for (int jr = 0; jr < nc; jr += T::NR) {
          if constexpr (in_place_kernels) {
            if (jr < full_columns) {
              micro_kernel<T, LA, BLayout::Rows>(c_row + jr, ldc, a, lda, B.data + index_t(k0) * B.ld + j0 + jr,
                                                 B.ld, kc, rows, T::NR, block_beta,
                                                 block_bias ? block_bias + jr : nullptr);
              continue;
            }
          }
          micro_kernel<T, LA, BLayout::Packed>(c_row + jr, ldc, a, lda, b_block + index_t(jr) * kc, 0, kc, rows,
                                               std::min(T::NR, nc - jr), block_beta,
                                               block_bias ? block_bias + jr : nullptr);
        }
      };
      using Packed = std::integral_constant<ALayout, ALayout::Packed>;
      using Rows = std::integral_constant<ALayout, ALayout::Rows>;
      using Columns = std::integral_constant<ALayout, ALayout::Columns>;
      // A is read in place unless it is stored (K,M) in a product that is not shallow (each depth step of a tile
      // touches its own cache line, ld floats from the last): then it is packed a block at a time, a contiguous
      // copy. Stored (M,K), a tile's rows share one L1 set when they are a multiple of 4 KB apart, and more of
      // them than the set has ways (AVX-512's 14) would evict each other at every depth step: those tiles are
      // packed one at a time, as is a partial last tile of rows (with zero rows, to a whole tile).
      const bool a_in_place = in_place_kernels &&
          (A.transposed ? shallow(A) : (A.ld % (4096 / index_t(sizeof(float))) != 0 || T::MR <= l1_ways));
      const bool pack_transposed_a = A.transposed && !a_in_place;
      for (int i0 = 0; i0 < M; i0 += T::MC) {
        const int mc = std::min(T::MC, M - i0);
        if (pack_transposed_a) pack_a<T>(ap, A, i0, mc, k0, kc);
        for (int ir = 0; ir < mc; ir += T::MR) {
          const int rows = std::min(T::MR, mc - ir);
          float* c_row = C + index_t(i0 + ir) * ldc + j0;
          if (pack_transposed_a) {
            sweep(Packed{}, ap + index_t(ir) * kc, 0, rows, c_row);
          } else if (rows < T::MR || !a_in_place) {
            pack_a<T>(ap, A, i0 + ir, rows, k0, kc);
            sweep(Packed{}, ap, 0, rows, c_row);
          } else if constexpr (in_place_kernels) {
            if (A.transposed) {
              sweep(Columns{}, A.data + index_t(k0) * A.ld + i0 + ir, A.ld, rows, c_row);
            } else {
              sweep(Rows{}, A.data + index_t(i0 + ir) * A.ld + k0, A.ld, rows, c_row);
            }
          }
        }
      }
    }
  }
}

// C (M,N) = beta·C + A (M,K) · B pre-packed (pack_b_panels), for few rows: a recurrent step, M = batch. Panels
// outer, tiles of rows inner, so each B panel comes from memory once and serves every tile of rows from L1; the
// rows-outer order of gemm_packed would stream all of B (W_hh: up to 2 MB, more than an L2) once per tile of rows.
template <class T>
void gemm_prepacked_few_rows(float* C, int ldc, const float* A, int lda, const float* packed, int M, int N, int K,
                             float beta, const float* bias) {
  thread_local std::vector<float> a_storage;
  const int kc_max = PackedLayout::for_depth(K).kc_max;
  // Whole tiles of rows are read in place where those kernels exist; the rest (a partial last tile, or every row
  // on 4-float targets) is packed once per K block, zero-padded to whole tiles.
  const int in_place_rows = in_place_kernels ? M / T::MR * T::MR : 0;
  const int packed_tiles = (M - in_place_rows + T::MR - 1) / T::MR;
  float* ap = scratch(a_storage, std::size_t(kc_max) * T::MR * std::max(packed_tiles, 1));
  const float* block = packed;
  for (int j0 = 0; j0 < N; j0 += NC) {
    const int nc = std::min(NC, N - j0);
    for (int k0 = 0; k0 < K; k0 += kc_max) {
      const int kc = std::min(kc_max, K - k0);
      const float block_beta = k0 == 0 ? beta : 1.0f;  // later K blocks accumulate onto the first
      const float* block_bias = k0 == 0 && bias ? bias + j0 : nullptr;  // added once, with the first K block
      if (in_place_rows < M) pack_a<T>(ap, Operand{A, lda, false}, in_place_rows, M - in_place_rows, k0, kc);
      for (int jr = 0; jr < nc; jr += T::NR) {
        const int cols = std::min(T::NR, nc - jr);
        const float* panel = block + index_t(jr) * kc;
        float* c = C + j0 + jr;
        if constexpr (in_place_kernels) {
          for (int ir = 0; ir < in_place_rows; ir += T::MR)
            micro_kernel<T, ALayout::Rows, BLayout::Packed>(c + index_t(ir) * ldc, ldc, A + index_t(ir) * lda + k0,
                                                            lda, panel, 0, kc, T::MR, cols, block_beta,
                                                            block_bias ? block_bias + jr : nullptr);
        }
        for (int ir = in_place_rows; ir < M; ir += T::MR)
          micro_kernel<T, ALayout::Packed, BLayout::Packed>(c + index_t(ir) * ldc, ldc,
                                                            ap + index_t(ir - in_place_rows) * kc, 0, panel, 0, kc,
                                                            std::min(T::MR, M - ir), cols, block_beta,
                                                            block_bias ? block_bias + jr : nullptr);
      }
      block += padded_columns<T>(nc) * kc;
    }
  }
}

// All of B packed block after block in gemm_packed's order, as parts: one part per T::NR-column panel of each
// (K block, N block). prepare_b_panels sizes `storage` (its aligned view, PackedMatrix::data(), holds the panels)
// and returns the part count; pack_b_panels fills parts [first, last), each on its own, so a pool can fill
// disjoint ranges at once. The packed floats are the same whichever parts a call fills.
template <class T>
int prepare_b_panels(std::vector<float>& storage, int N, int K) {
  const int kc_max = PackedLayout::for_depth(K).kc_max;
  index_t total = 0;
  int parts = 0;
  for (int j0 = 0; j0 < N; j0 += NC) {
    const int nc = std::min(NC, N - j0);
    total += padded_columns<T>(nc) * K;
    parts += int(padded_columns<T>(nc) / T::NR) * ((K + kc_max - 1) / kc_max);
  }
  scratch(storage, std::size_t(total));
  return parts;
}

template <class T>
void pack_b_panels(float* packed, const Operand& B, int N, int K, int first, int last) {
  const int kc_max = PackedLayout::for_depth(K).kc_max;
  float* block = packed;
  int part = 0;
  for (int j0 = 0; j0 < N && part < last; j0 += NC) {
    const int nc = std::min(NC, N - j0);
    for (int k0 = 0; k0 < K && part < last; k0 += kc_max) {
      const int kc = std::min(kc_max, K - k0);
      for (int p0 = 0; p0 < nc; p0 += T::NR, ++part) {
        if (part < first || part >= last) continue;
        pack_b<T>(block + index_t(p0) * kc, B, j0 + p0, std::min(T::NR, nc - p0), k0, kc);  // one panel
      }
      block += padded_columns<T>(nc) * kc;
    }
  }
}

// C (M,N) = beta·C for an empty K (nothing to multiply); beta 0 clears garbage.
void scale_only(float* C, int ldc, int M, int N, float beta) {
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) C[index_t(i) * ldc + j] = beta == 0.0f ? 0.0f : beta * C[index_t(i) * ldc + j];
}

// Multiply-adds a tile runs for C (M,N), padding included: partial tiles cost as much as whole ones.
template <class T>
index_t padded_work(int M, int N) { return index_t(M + T::MR - 1) / T::MR * T::MR * padded_columns<T>(N); }

// C (M,N) = beta·C + A·B with the tile that suits the shape: the tall one for few rows, unless its wider panels
// pad more (an attention head of D = 32 columns fills 32 of the tall tile's 48 on AVX2, 2 × 16 of the wide one).
// X·Wᵀ for few rows of X (A) goes transposed, reading W (B) in place (gemm_weight_rows.hpp), unless its tile pads
// more than the copy of W it saves is worth (about a tenth of the product: an eighth more multiply-adds at most).
void gemm_dispatch(float* C, int ldc, const Operand& A, const Operand& B, int M, int N, int K, float beta,
                   const float* bias = nullptr) {
  const bool tall = M <= tall_tile_max_rows && padded_work<TallTile>(M, N) <= padded_work<WideTile>(M, N);
  if (!A.transposed && B.transposed && M <= weight_rows_max_rows && (beta == 0.0f || beta == 1.0f)) {
    const index_t packed_work = tall ? padded_work<TallTile>(M, N) : padded_work<WideTile>(M, N);
    const index_t work_bound = packed_work + packed_work / 8;
    if (weight_rows_in_place<WideTile>(B.ld)) {
      if (weight_rows_work<WideTile>(M, N) <= work_bound)
        return gemm_weight_rows<WideTile>(C, ldc, A.data, A.ld, B.data, B.ld, M, N, K, beta, bias);
    } else if (weight_rows_in_place<TallTile>(B.ld) && weight_rows_work<TallTile>(M, N) <= work_bound) {
      return gemm_weight_rows<TallTile>(C, ldc, A.data, A.ld, B.data, B.ld, M, N, K, beta, bias);
    }
  }
  if (tall) gemm_packed<TallTile>(C, ldc, A, B, nullptr, M, N, K, beta, bias);
  else gemm_packed<WideTile>(C, ldc, A, B, nullptr, M, N, K, beta, bias);
}

void sgemm_nn_simd(float* C, int ldc, const float* A, int lda, const float* B, int ldb, int M, int N, int K,
                   float beta) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) return scale_only(C, ldc, M, N, beta);
  gemm_dispatch(C, ldc, Operand{A, lda, false}, Operand{B, ldb, false}, M, N, K, beta);
}

void sgemm_nt_simd(float* C, int ldc, const float* A, int lda, const float* B, int ldb, int M, int N, int K,
                   float beta) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) return scale_only(C, ldc, M, N, beta);
  gemm_dispatch(C, ldc, Operand{A, lda, false}, Operand{B, ldb, true}, M, N, K, beta);
}

void sgemm_tn_simd(float* C, int ldc, const float* A, int lda, const float* B, int ldb, int M, int N, int K,
                   float beta) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) return scale_only(C, ldc, M, N, beta);
  gemm_dispatch(C, ldc, Operand{A, lda, true}, Operand{B, ldb, false}, M, N, K, beta);
}

void sgemm_nt_bias_simd(float* C, int ldc, const float* A, int lda, const float* B, int ldb, const float* bias, int M,
                        int N, int K) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    for (int i = 0; i < M; ++i) std::copy(bias, bias + N, C + index_t(i) * ldc);
    return;
  }
  gemm_dispatch(C, ldc, Operand{A, lda, false}, Operand{B, ldb, true}, M, N, K, 0.0f, bias);
}

}  // namespace

void sgemm_nn(float* C, int ldc, const float* A, int lda, const float* B, int ldb, int M, int N, int K, float beta) {
  simd::pick(ref::sgemm_nn, sgemm_nn_simd)(C, ldc, A, lda, B, ldb, M, N, K, beta);
}
void sgemm_nt(float* C, int ldc, const float* A, int lda, const float* B, int ldb, int M, int N, int K, float beta) {
  simd::pick(ref::sgemm_nt, sgemm_nt_simd)(C, ldc, A, lda, B, ldb, M, N, K, beta);
}
void sgemm_tn(float* C, int ldc, const float* A, int lda, const float* B, int ldb, int M, int N, int K, float beta) {
  simd::pick(ref::sgemm_tn, sgemm_tn_simd)(C, ldc, A, lda, B, ldb, M, N, K, beta);
}
void sgemm_nt_bias(float* C, int ldc, const float* A, int lda, const float* B, int ldb, const float* bias, int M, int N,
                   int K) {
  simd::pick(ref::sgemm_nt_bias, sgemm_nt_bias_simd)(C, ldc, A, lda, B, ldb, bias, M, N, K);
}

// Here rather than in a header: only the kernels' sources are compiled again for the relaxed engines, so only
// they know which engine they are in.
bool multiply_add_is_relaxed() { return simd::relaxed_multiply_add && !simd::force_scalar; }

const float* PackedMatrix::data() const {
  if (simd::force_scalar) return storage.data();
  const auto address = reinterpret_cast<std::uintptr_t>(storage.data());
  return storage.data() + (((address + 63) & ~std::uintptr_t(63)) - address) / sizeof(float);
}

// Pre-packed right-hand operands. With TINYLM_FORCE_SCALAR the "packed" form is a plain row-major copy of the
// logical (K, N) matrix, which the reference multiplies directly.
int PackedMatrix::prepare(int N, int K) {
  columns = N;
  depth = K;
  if (simd::force_scalar) {
    storage.resize(std::size_t(K) * N);
    return 1;
  }
  return prepare_b_panels<TallTile>(storage, N, K);
}

void PackedMatrix::pack_nt_parts(const float* B, int ldb, int first, int last) {
  const int N = columns, K = depth;
  if (simd::force_scalar) {
    if (first > 0 || last < 1) return;
    for (int k = 0; k < K; ++k)
      for (int j = 0; j < N; ++j) storage[std::size_t(k) * N + j] = B[index_t(j) * ldb + k];
    return;
  }
  pack_b_panels<TallTile>(const_cast<float*>(data()), Operand{B, ldb, true}, N, K, first, last);
}

void PackedMatrix::pack_nn_parts(const float* B, int ldb, int first, int last) {
  const int N = columns, K = depth;
  if (simd::force_scalar) {
    if (first > 0 || last < 1) return;
    for (int k = 0; k < K; ++k)
      for (int j = 0; j < N; ++j) storage[std::size_t(k) * N + j] = B[index_t(k) * ldb + j];
    return;
  }
  pack_b_panels<TallTile>(const_cast<float*>(data()), Operand{B, ldb, false}, N, K, first, last);
}

void PackedMatrix::pack_nt(const float* B, int ldb, int N, int K) { pack_nt_parts(B, ldb, 0, prepare(N, K)); }

void PackedMatrix::pack_nn(const float* B, int ldb, int K, int N) { pack_nn_parts(B, ldb, 0, prepare(N, K)); }

void sgemm_packed(float* C, int ldc, const float* A, int lda, const PackedMatrix& B, int M, float beta,
                  const float* bias) {
  const int N = B.columns, K = B.depth;
  if (M <= 0 || N <= 0) return;
  if (simd::force_scalar || K <= 0) {
    if (K <= 0) scale_only(C, ldc, M, N, beta);
    else ref::sgemm_nn(C, ldc, A, lda, B.data(), N, M, N, K, beta);
    if (bias)
      for (int i = 0; i < M; ++i)
        for (int j = 0; j < N; ++j) C[index_t(i) * ldc + j] += bias[j];
    return;
  }
  if (M <= tall_tile_max_rows)
    return gemm_prepacked_few_rows<TallTile>(C, ldc, A, lda, B.data(), M, N, K, beta, bias);
  gemm_packed<TallTile>(C, ldc, Operand{A, lda, false}, Operand{nullptr, 0, false}, B.data(), M, N, K, beta, bias);
}

}  // namespace tinylm