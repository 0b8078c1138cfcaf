// SIMD matrix-vector kernels: sgemv and sgemv_f16, and the half-precision panel copy sgemv_f16 reads (contract in
// kernels.hpp; references in gemm_ref.cpp).
// Batch-1 generation reads each weight once per token, so these are bound by memory traffic, not FMAs. Float rows
// are read in place, in whichever order the memory system streams fastest for the register width (sgemv_simd),
// with vector accumulators reduced once per row at the end; the half copy is made once per model, so it is laid out
// for the product (panels, below).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "half.hpp"
#include "kernels/kernels.hpp"
#include "kernels/simd.hpp"

namespace tinylm {

namespace {

using simd::fbatch;
using simd::fwidth;
using simd::load;
using simd::store;
using simd::unroll;
using index_t = std::ptrdiff_t;

// C tile (R, CC) = beta·C + A rows (R, K) · B rowsᵀ (CC, K); A and B contiguous along K.
template <int R, int CC>
void dot_tile(float* C, int ldc, const float* A, int lda, const float* B, int ldb, int K, float beta) {
  fbatch acc[R * CC];
  unroll<R * CC>([&](auto t) { acc[t] = fbatch(0.0f); });
  int k = 0;
  for (; k + fwidth <= K; k += fwidth) {
    fbatch a[R];
    unroll<R>([&](auto r) { a[r] = load(A + index_t(r) * lda + k); });
    unroll<CC>([&](auto c) {
      const fbatch b = load(B + index_t(c) * ldb + k);
      unroll<R>([&](auto r) { acc[r * CC + c] = simd::multiply_add(a[r], b, acc[r * CC + c]); });
    });
  }
  float sums[R * CC];  // (R, CC)
  unroll<R * CC>([&](auto t) { sums[t] = simd::reduce_add(acc[t]); });
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < CC; ++c) {
      float sum = sums[r * CC + c];
      for (int kk = k; kk < K; ++kk) sum += A[index_t(r) * lda + kk] * B[index_t(c) * ldb + kk];
      float& out = C[index_t(r) * ldc + c];
      out = beta == 0.0f ? sum : beta * out + sum;
    }
  }
}

// Y (V,M) = beta·Y + X (V,K) · Aᵀ, rows of Y ldy apart, A in half-precision row panels (layout in kernels.hpp).
// Per depth step: one half load and conversion per register of the panel, shared by the V vectors, and one
// broadcast of x[k] and FMA per vector; V·chains accumulators (V vectors × `chains` depth steps) run apart so FMA
// latency hides. Measured on AVX-512 at (1024, 256), one vector: 13.1 µs for four rows at a time read in place
// (each row a stream of its own, then a horizontal sum per row), 9.0 µs in panels.
constexpr int panel_registers = 2;
constexpr int panel_rows = panel_registers * fwidth;

template <int V>
void sgemv_f16_simd(float* y, int ldy, const uint16_t* panels, const float* x, int M, int K, float beta) {
  constexpr int chains = V == 1 ? 4 : 2;  // depth steps in flight per vector
  for (int g = 0; g < M; g += panel_rows) {
    const uint16_t* a = panels + index_t(g) * K;
    fbatch acc[V][chains][panel_registers];
    unroll<V * chains * panel_registers>([&](auto t) {
      acc[t / (chains * panel_registers)][t / panel_registers % chains][t % panel_registers] = fbatch(0.0f);
    });
    auto depth_step = [&](int k, auto chain) {
      const uint16_t* row = a + index_t(k) * panel_rows;
      unroll<panel_registers>([&](auto p) {
        const fbatch w = simd::load_half(row + p * fwidth);
        unroll<V>([&](auto v) { acc[v][chain][p] = simd::multiply_add(w, fbatch(x[index_t(v) * K + k]), acc[v][chain][p]); });
      });
    };
    int k = 0;
    for (; k + chains <= K; k += chains) unroll<chains>([&](auto s) { depth_step(k + s, s); });
    for (; k < K; ++k) depth_step(k, std::integral_constant<int, 0>{});
    const int rows = std::min(panel_rows, M - g);
    unroll<V>([&](auto v) {
      alignas(64) float sums[panel_rows];
      unroll<panel_registers>([&](auto p) {
        fbatch total = acc[v][0][p];
        unroll<chains - 1>([&](auto s) { total += acc[v][s + 1][p]; });
        store(sums + p * fwidth, total);
      });
      float* out = y + index_t(v) * ldy + g;
      for (int i = 0; i < rows; ++i) out[i] = beta == 0.0f ? sums[i] : beta * out[i] + sums[i];
    });
  }
}

void sgemv_f16_vectors(float* y, const uint16_t* panels, const float* x, int M, int K, float beta, int N, int ldy) {
  if (ldy == 0) ldy = M;
  int v = 0;
  for (; v + 2 <= N; v += 2) sgemv_f16_simd<2>(y + index_t(v) * ldy, ldy, panels, x + index_t(v) * K, M, K, beta);
  if (v < N) sgemv_f16_simd<1>(y + index_t(v) * ldy, ldy, panels, x + index_t(v) * K, M, K, beta);
}

// Y (V,M) = beta·Y + X (V,K) · Aᵀ, rows of Y ldy apart, one matrix row at a time: the row is read as one stream,
// `chains` registers of it in flight per vector so the adds' latency hides, and the V vectors share each load of it.
// Each vector's sums run in the same order for any V, so a step gives the same bits with its shadow row or without.
template <int V>
void row_by_row(float* y, int ldy, const float* A, int lda, const float* x, int M, int K, float beta) {
  constexpr int chains = 4;
  for (int i = 0; i < M; ++i) {
    const float* a = A + index_t(i) * lda;
    fbatch acc[V][chains];
    unroll<V * chains>([&](auto t) { acc[t / chains][t % chains] = fbatch(0.0f); });
    int k = 0;
    for (; k + chains * fwidth <= K; k += chains * fwidth) {
      unroll<chains>([&](auto c) {
        const fbatch w = load(a + k + c * fwidth);
        unroll<V>([&](auto v) { acc[v][c] = simd::multiply_add(w, load(x + index_t(v) * K + k + c * fwidth), acc[v][c]); });
      });
    }
    for (; k + fwidth <= K; k += fwidth) {
      const fbatch w = load(a + k);
      unroll<V>([&](auto v) { acc[v][0] = simd::multiply_add(w, load(x + index_t(v) * K + k), acc[v][0]); });
    }
    unroll<V>([&](auto v) {
      fbatch total = acc[v][0];
      unroll<chains - 1>([&](auto c) { total += acc[v][c + 1]; });
      float sum = simd::reduce_add(total);
      for (int kk = k; kk < K; ++kk) sum += a[kk] * x[index_t(v) * K + kk];
      float& out = y[index_t(v) * ldy + i];
      out = beta == 0.0f ? sum : beta * out + sum;
    });
  }
}

// Y (V,M) = beta·Y + X (V,K) · Aᵀ, rows of Y ldy apart. With 8- and 16-float registers (AVX, AVX-512), tiles of
// eight matrix rows share each load of x, and the V vectors each load of the matrix; the last M % 8 rows run one
// row and one vector at a time. With 4-float registers (SSE, wasm) the matrix is read row by row instead: there a
// tile's rows are as many streams of 16-byte loads, and the memory system feeds them at half the rate of one
// stream. GPT-2-small's step matrices (494 MB of floats, far beyond any cache) in wasm under Node, one thread, CPU
// time per token on a loaded machine, four rounds alternated: tiles of four rows 33.0–37.7 ms (13–15 GB/s), one row
// at a time with four registers in flight 20.0–21.8 ms (23–25 GB/s), as fast as a plain SIMD sum of the same bytes;
// two vectors, 36.6 → 31.0 ms (median of 25). Native SSE4.2 builds behave alike (39.7 → 22.9 ms); AVX2 and AVX-512
// builds read eight-row tiles as fast as single rows or faster (17.7 vs 17.6 ms, 18.4 vs 20.3 ms).
template <int V>
void sgemv_simd(float* y, int ldy, const float* A, int lda, const float* x, int M, int K, float beta) {
  if constexpr (fwidth < 8) {
    row_by_row<V>(y, ldy, A, lda, x, M, K, beta);
  } else {
    constexpr int rows = 8;
    int i = 0;
    for (; i + rows <= M; i += rows) dot_tile<V, rows>(y + i, ldy, x, K, A + index_t(i) * lda, lda, K, beta);
    for (; i < M; ++i) {
      for (int v = 0; v < V; ++v)
        dot_tile<1, 1>(y + index_t(v) * ldy + i, ldy, x + index_t(v) * K, K, A + index_t(i) * lda, lda, K, beta);
    }
  }
}

void sgemv_vectors(float* y, const float* A, int lda, const float* x, int M, int K, float beta, int N, int ldy) {
  if (ldy == 0) ldy = M;
  int v = 0;
  for (; v + 2 <= N; v += 2) sgemv_simd<2>(y + index_t(v) * ldy, ldy, A, lda, x + index_t(v) * K, M, K, beta);
  if (v < N) sgemv_simd<1>(y + index_t(v) * ldy, ldy, A, lda, x + index_t(v) * K, M, K, beta);
}

}  // namespace

void sgemv(float* y, const float* A, int lda, const float* x, int M, int K, float beta, int N, int ldy) {
  simd::pick(ref::sgemv, sgemv_vectors)(y, A, lda, x, M, K, beta, N, ldy);
}

void sgemv_f16(float* y, const uint16_t* panels, const float* x, int M, int K, float beta, int N, int ldy) {
  // Without a hardware conversion (wasm, SSE-only builds) models generate from float weights
  // (half_weights_are_fast), so the reference serves the rare caller and the build ships no second kernel.
  if constexpr (simd::hardware_half) simd::pick(ref::sgemv_f16, sgemv_f16_vectors)(y, panels, x, M, K, beta, N, ldy);
  else ref::sgemv_f16(y, panels, x, M, K, beta, N, ldy);
}

int half_panel_rows() { return panel_rows; }

int64_t half_panels_size(int M, int K) { return int64_t((M + panel_rows - 1) / panel_rows) * panel_rows * K; }

bool half_weights_are_fast() { return simd::hardware_half && !simd::force_scalar; }

bool convert_to_half_panels(uint16_t* panels, const float* A, int M, int K) {
  for (int g = 0; g < M; g += panel_rows) {
    uint16_t* group = panels + index_t(g) * K;
    for (int i = 0; i < panel_rows; ++i) {  // rows outer: A is read contiguously, the group (≤ 32·K halves) is in L1
      const float* row = g + i < M ? A + index_t(g + i) * K : nullptr;  // past M: zero padding
      for (int k = 0; k < K; ++k) {
        const float value = row ? row[k] : 0.0f;
        if (!(std::abs(value) <= 65504.0f)) return false;  // also rejects NaN
        group[index_t(k) * panel_rows + i] = float_to_half(value);
      }
    }
  }
  return true;
}

}  // namespace tinylm
