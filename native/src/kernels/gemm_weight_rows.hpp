// The product of a few rows of activations and a weight matrix stored (outputs, inputs), C = X·Wᵀ for a prompt's
// batch, computed as its transpose Cᵀ = W·Xᵀ (gemm.cpp dispatches here): the register tile broadcasts W's elements,
// read in place row by row, against panels of X's rows, and writes its outputs back transposed.
//
// Why: gemm_packed copies B into panels on every call, and for X·Wᵀ B is the weight matrix — a transposing copy of
// all N·K weights (GPT-2's 2304 × 768 attention matrix) for a product of 64 rows, about a tenth of its time in wasm,
// where ONNX Runtime packs its weights once. Here only X (M·K floats, M ≤ weight_rows_max_rows) is packed.
// Each element of C is the same sum in the same order as gemm_packed makes it — one micro-kernel FMA per depth step
// within each K block of PackedLayout, the blocks added onto C in order, the bias with the first block — so for
// beta 0 or 1 the two paths give the same bits, whatever the tile or split.
#pragma once
#include <algorithm>
#include <cstddef>
#include <vector>

#include "kernels/gemm_blocks.hpp"
#include "kernels/gemm_micro_kernel.hpp"

namespace tinylm {
// Internal linkage, as for the rest of gemm.cpp, the one file that includes this.
namespace {

// Rows of X up to which gemm_dispatch considers this path: a prefill batch with its shadow rows (2 × 64). Larger
// products (training's forward passes) read each packed weight panel often enough to pay for the copy.
constexpr int weight_rows_max_rows = 128;

// Whether T's tile of W rows can be read in place from rows `ldw` floats apart: rows a multiple of 4 KB apart share
// one L1 set, and more of them than its ways evict each other at every depth step (gemm_packed's rule for A).
template <class T>
bool weight_rows_in_place(int ldw) {
  return ldw % (4096 / index_t(sizeof(float))) != 0 || T::MR <= l1_ways;
}

// Multiply-adds T's tiles run for C (M,N) on this path, padding included: X's rows in panels of T::NR, W's in tiles
// of T::MR.
template <class T>
index_t weight_rows_work(int M, int N) { return padded_columns<T>(M) * (index_t(N + T::MR - 1) / T::MR * T::MR); }

// C (M,N) = beta·C + X (M,K) · Wᵀ [+ bias (N), with the first K block], W stored (N,K); beta 0 or 1.
template <class T>
void gemm_weight_rows(float* C, int ldc, const float* X, int ldx, const float* W, int ldw, int M, int N, int K,
                      float beta, const float* bias) {
  thread_local std::vector<float> x_storage, w_storage;
  const int kc_max = PackedLayout::for_depth(K).kc_max;
  float* xp = scratch(x_storage, std::size_t(padded_columns<T>(M)) * kc_max);
  float* wp = scratch(w_storage, std::size_t(kc_max) * T::MR);  // a last, partial tile of W rows, zero-padded
  alignas(64) float tile[T::MR * T::NR];                         // (W rows, X rows) of one micro-kernel call
  for (int k0 = 0; k0 < K; k0 += kc_max) {
    const int kc = std::min(kc_max, K - k0);
    const float block_beta = k0 == 0 ? beta : 1.0f;  // later K blocks accumulate onto the first
    const float* block_bias = k0 == 0 ? bias : nullptr;
    pack_b<T>(xp, Operand{X, ldx, true}, 0, M, k0, kc);  // Xᵀ's (kc, M) block: panels of T::NR rows of X
    for (int i0 = 0; i0 < N; i0 += T::MR) {
      const int rows = std::min(T::MR, N - i0);
      if (rows < T::MR) pack_a<T>(wp, Operand{W, ldw, false}, i0, rows, k0, kc);
      for (int j0 = 0; j0 < M; j0 += T::NR) {
        const float* panel = xp + index_t(j0) * kc;
        // A whole tile every time (beta 0, no bias: the sums alone), so the kernel keeps one store path.
        if (rows == T::MR) {
          micro_kernel<T, ALayout::Rows, BLayout::Packed>(tile, T::NR, W + index_t(i0) * ldw + k0, ldw, panel, 0, kc,
                                                          T::MR, T::NR, 0.0f, nullptr);
        } else {
          micro_kernel<T, ALayout::Packed, BLayout::Packed>(tile, T::NR, wp, 0, panel, 0, kc, T::MR, T::NR, 0.0f,
                                                            nullptr);
        }
        // Transposed into C: X row j0 + j gets outputs i0 … i0 + rows. Sum + bias, then onto C, as the tile of
        // gemm_packed adds them.
        const int cols = std::min(T::NR, M - j0);
        for (int j = 0; j < cols; ++j) {
          float* c = C + index_t(j0 + j) * ldc + i0;
          for (int i = 0; i < rows; ++i) {
            const float sum = block_bias ? tile[i * T::NR + j] + block_bias[i0 + i] : tile[i * T::NR + j];
            c[i] = block_beta == 0.0f ? sum : c[i] + sum;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace tinylm
