// The kernel list: every hot loop in tinylm, each with a SIMD implementation (xsimd, `*.cpp`) and a scalar
// reference (`*_ref.cpp`, always built). Tests iterate this header's pairs; building with TINYLM_FORCE_SCALAR
// routes the public names to the references for debugging.
//
// Conventions: row-major; outputs first, then inputs, then dimensions; `ld*` are row strides in floats.
// Dimension letters: B batch, T time, C channels, V vocabulary, H hidden, M/N/K matrix sizes.
// Backward kernels ACCUMULATE (+=) into gradients unless the name says otherwise.
// Kernels take plain pointers and ranges and own no threads, so a caller may split work across a pool.
#pragma once
#include <cstdint>
#include <vector>

namespace tinylm {

// ---- matrix multiply ------------------------------------------------------------------------------------
// C (M,N) = beta*C + A·B,  beta ∈ {0, 1}: 0 overwrites C (C may hold garbage), 1 accumulates.
//   sgemm_nn: A (M,K), B (K,N)             — dX = dY·W
//   sgemm_nt: A (M,K), B (N,K), uses Bᵀ    — Y = X·Wᵀ (PyTorch Linear layout W (out,in))
//   sgemm_tn: A (K,M), B (K,N), uses Aᵀ    — dW = dYᵀ·X
void sgemm_nn(float* C, int ldc, const float* A, int lda, const float* B, int ldb, int M, int N, int K, float beta);
void sgemm_nt(float* C, int ldc, const float* A, int lda, const float* B, int ldb, int M, int N, int K, float beta);
void sgemm_tn(float* C, int ldc, const float* A, int lda, const float* B, int ldb, int M, int N, int K, float beta);
// C (M,N) = A (M,K) · Bᵀ + bias (N) on every row — a Linear layer's forward, the bias added as each tile of C is
// stored rather than in a pass of its own.
void sgemm_nt_bias(float* C, int ldc, const float* A, int lda, const float* B, int ldb, const float* bias, int M, int N,
                   int K);

// y (M) = beta*y + A (M,K) · x (K). Batch-1 generation's workhorse (one token, one matrix row per output).
// With N > 1: Y (N,M) = beta·Y + X (N,K) · Aᵀ, N vectors back to back in x, and in y with rows ldy apart (0: M),
// through the same matrix, which is read once per pair of vectors — a GPT step and its shadow window (gpt.hpp)
// share every weight load. (ldy lets a caller compute a block of rows of Y: parallel_kernels.hpp.)
void sgemv(float* y, const float* A, int lda, const float* x, int M, int K, float beta, int N = 1, int ldy = 0);
// The same with A as IEEE half precision, converted in registers: half the memory traffic. A is a generation-time
// copy in row panels (convert_to_half_panels): rows in groups of half_panel_rows(), each group stored depth by
// depth (the group's values at k, then at k+1, …), the last group zero-padded. The product then reads one
// contiguous stream and needs no per-row horizontal sums: the panel's rows are the register lanes.
void sgemv_f16(float* y, const uint16_t* panels, const float* x, int M, int K, float beta, int N = 1, int ldy = 0);
int half_panel_rows();
int64_t half_panels_size(int M, int K);  // uint16_t elements of the panel copy of an (M,K) matrix
// Rounds A (M,K), row-major, to half (nearest even) into panels; false if any value is outside half's finite
// range (|x| > 65504).
bool convert_to_half_panels(uint16_t* panels, const float* A, int M, int K);
// True where the hardware converts halves in one instruction (F16C); elsewhere sgemv_f16 is slower than sgemv.
bool half_weights_are_fast();
// True where the SIMD kernels were compiled for relaxed SIMD (the WebAssembly engines' relaxed .wasm,
// wasm/wasm.cmake): their multiply-adds are f32x4.relaxed_madd, fused or not as the machine chooses. Answered by the
// kernels' own code, so an engine says which of its two builds runs, whichever .wasm a page handed it.
bool multiply_add_is_relaxed();

// The same with A stored as int8 with one scale per row (weight[i][k] ≈ scales[i]·A[i][k]):
//   y (M) = beta*y + scales (M) ⊙ (A (M,K) · x (K)). A quarter of float's memory traffic.
void sgemv_q8(float* y, const int8_t* A, const float* scales, int lda, const float* x, int M, int K, float beta);
// Symmetric per-row quantisation of W (M,K): scales[i] = max_k |W[i][k]| / 127 (0 for an all-zero row) and
// Q[i][k] = round(W[i][k] / scales[i]) ∈ [−127, 127]. False if W holds a non-finite value.
bool quantize_rows_int8(int8_t* Q, float* scales, const float* W, int M, int K);
// The same values and scales for X (M,K), written as int16 into Q (M, ldq), ldq ≥ K, zeros in [K, ldq): the
// activations as sgemm_q8_panels takes them, in one pass instead of the bytes and a widening copy. False if X
// holds a non-finite value.
bool quantize_rows_int16(int16_t* Q, int ldq, float* scales, const float* X, int M, int K);
// Both operands int8 with a scale per row (activations quantised per row by quantize_rows_int8, weights as stored):
//   C (M,N) = beta·C + (a_scales[m]·b_scales[n]) · Σ_k A[m][k]·B[n][k],  A (M,K), B (N,K), beta ∈ {0, 1},
// with the weights packed once, at load, into panels of q8_panel_rows() rows and the activations widened to int16
// per row, so that one pair-product instruction (pmaddwd, wasm's i32x4.dot_i16x8_s) gives 2 k of several weight
// rows at once: the rows are the register lanes and no output needs a horizontal sum.
// The sums are int32 and exact (K up to 133 000: 127² · K < 2³¹), then converted and scaled once, so the result
// does not depend on tiling, splitting or which rows share a call: a prompt's batch gives its tokens' steps' bits.
//   panels: the (N,K) weights in ⌈N/8⌉ panels of 8 rows, each 8 · q8_panel_depth(K) bytes, stored pair of k by
//   pair of k — for k = 2j, 2j+1 the 8 rows' two bytes in row order: byte (r / 8) · 8 · Kp + j · 16 + (r % 8) · 2
//   + k % 2. The padding (rows past N, k = K when K is odd) is zero.
//   A (M, lda) int16: the activations quantised per row by quantize_rows_int16 (quantize_rows_int8's values), lda ≥
//   Kp, zero at k = K when K is odd (QuantizedRows, compact_matrices.hpp).
// The bits are those of the same sums over row-major operands (ref::sgemm_q8_nt, the tests' oracle).
void sgemm_q8_panels(float* C, int ldc, const int16_t* A, const float* a_scales, int lda, const int8_t* panels,
                     const float* b_scales, int M, int N, int K, float beta);
constexpr int q8_panel_rows() { return 8; }
constexpr int64_t q8_panel_depth(int64_t K) { return K + (K & 1); }  // Kp: K rounded up to a whole pair
constexpr int64_t q8_panels_size(int64_t N, int64_t K) {             // bytes of the panels of an (N,K) matrix
  return (N + q8_panel_rows() - 1) / q8_panel_rows() * q8_panel_rows() * q8_panel_depth(K);
}
constexpr int64_t q8_panel_index(int64_t r, int64_t k, int64_t K) {  // where weight (r, k) is stored
  return (r / q8_panel_rows()) * q8_panel_rows() * q8_panel_depth(K) + (k / 2) * 2 * q8_panel_rows() +
         (r % q8_panel_rows()) * 2 + (k & 1);
}
// Rows [first, first + count) of row-major int8 Q (count, K) into their places in the panels.
void pack_q8_panel_rows(int8_t* panels, const int8_t* Q, int first, int count, int K);

// A right-hand operand packed once and multiplied many times: a recurrent layer multiplies the same W_hh by T
// successive hidden states, so packing it per step would cost as much as the product itself (M = B is small).
struct PackedMatrix {
  std::vector<float> storage;  // the logical (K, N) matrix in the micro-kernel's panel order, from data()
  int columns = 0;             // N
  int depth = 0;               // K
  const float* data() const;   // 64-byte aligned start inside storage (the micro-kernel uses aligned loads)
  void pack_nt(const float* B, int ldb, int N, int K);  // from B (N,K), used as Bᵀ — W_hh in h·W_hhᵀ
  void pack_nn(const float* B, int ldb, int K, int N);  // from B (K,N) — W_hh in dgates·W_hh
  // The same packing in parts, for a pool (pack_nt / pack_nn in parallel_kernels.hpp): prepare sizes the storage
  // for a logical (K, N) matrix and returns the number of parts; pack_*_parts fill parts [first, last), disjoint
  // ranges from any threads at once. The packed matrix is the same however its parts were filled.
  int prepare(int N, int K);
  void pack_nt_parts(const float* B, int ldb, int first, int last);  // B (N,K) as above
  void pack_nn_parts(const float* B, int ldb, int first, int last);  // B (K,N)
};
// C (M,N) = beta·C + A (M,K) · packed (K,N) [+ bias (N) on every row, when not null]; tuned for few rows (M up to
// ~64), as recurrent steps have
void sgemm_packed(float* C, int ldc, const float* A, int lda, const PackedMatrix& B, int M, float beta,
                  const float* bias = nullptr);

namespace ref {
void sgemm_nn(float* C, int ldc, const float* A, int lda, const float* B, int ldb, int M, int N, int K, float beta);
void sgemm_nt(float* C, int ldc, const float* A, int lda, const float* B, int ldb, int M, int N, int K, float beta);
void sgemm_tn(float* C, int ldc, const float* A, int lda, const float* B, int ldb, int M, int N, int K, float beta);
void sgemm_nt_bias(float* C, int ldc, const float* A, int lda, const float* B, int ldb, const float* bias, int M, int N,
                   int K);
void sgemv(float* y, const float* A, int lda, const float* x, int M, int K, float beta, int N = 1, int ldy = 0);
void sgemv_f16(float* y, const uint16_t* panels, const float* x, int M, int K, float beta, int N = 1, int ldy = 0);
void sgemv_q8(float* y, const int8_t* A, const float* scales, int lda, const float* x, int M, int K, float beta);
bool quantize_rows_int8(int8_t* Q, float* scales, const float* W, int M, int K);
bool quantize_rows_int16(int16_t* Q, int ldq, float* scales, const float* X, int M, int K);
// sgemm_q8_panels' product over row-major operands, B (N, ldb) int8 and A (M, lda) int8: what the panel tests check
// the packed kernel and its reference against.
void sgemm_q8_nt(float* C, int ldc, const int8_t* A, const float* a_scales, int lda, const int8_t* B,
                 const float* b_scales, int ldb, int M, int N, int K, float beta);
void sgemm_q8_panels(float* C, int ldc, const int16_t* A, const float* a_scales, int lda, const int8_t* panels,
                     const float* b_scales, int M, int N, int K, float beta);
}  // namespace ref

// ---- element-wise ---------------------------------------------------------------------------------------
// y = x in place allowed (y == x).
void sigmoid_forward(float* y, const float* x, int64_t n);
void tanh_forward(float* y, const float* x, int64_t n);
void relu_forward(float* y, const float* x, int64_t n);
// dx += dy * act'(from output y): sigmoid y(1-y), tanh 1-y², relu (y>0)
void sigmoid_backward(float* dx, const float* dy, const float* y, int64_t n);
void tanh_backward(float* dx, const float* dy, const float* y, int64_t n);
void relu_backward(float* dx, const float* dy, const float* y, int64_t n);
// y += alpha * x
void axpy(float* y, float alpha, const float* x, int64_t n);
// sum of x[i]^2 (gradient clipping), accumulated in double for stability over millions of elements
double sum_squares(const float* x, int64_t n);

namespace ref {
void sigmoid_forward(float* y, const float* x, int64_t n);
void tanh_forward(float* y, const float* x, int64_t n);
void relu_forward(float* y, const float* x, int64_t n);
void sigmoid_backward(float* dx, const float* dy, const float* y, int64_t n);
void tanh_backward(float* dx, const float* dy, const float* y, int64_t n);
void relu_backward(float* dx, const float* dy, const float* y, int64_t n);
void axpy(float* y, float alpha, const float* x, int64_t n);
double sum_squares(const float* x, int64_t n);
}  // namespace ref

// ---- fused recurrent gates (PyTorch equations and gate order) --------------------------------------------
// LSTM, gate order i,f,g,o.
//   forward: gates (B,4H) holds pre-activations x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh on entry and the activated
//            i,f,g,o on return (the backward cache). c = f⊙c_prev + i⊙g;  h = o⊙tanh(c).
//   backward: given dh (B,H) and dc (B,H) flowing into this step (dc from the next step, may be zeros),
//            writes dgates (B,4H) = gradient w.r.t. the pre-activations (overwrites),
//            and dc_prev (B,H) = gradient w.r.t. c_prev (overwrites). dc_prev may alias dc.
void lstm_gates_forward(float* h, float* c, float* gates, const float* c_prev, int B, int H);
void lstm_gates_backward(float* dgates, float* dc_prev, const float* dh, const float* dc, const float* gates,
                         const float* c, const float* c_prev, int B, int H);

// GRU, gate order r,z,n (PyTorch): r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r⊙h_n),
//   h = (1−z)⊙n + z⊙h_prev, where x_* = x·W_ihᵀ + b_ih and h_* = h_prev·W_hhᵀ + b_hh (b_hn inside r⊙(·)).
//   forward: xgates (B,3H) holds x_* on entry and activated r,z,n on return; hgates (B,3H) holds h_* (kept:
//            backward needs h_n). Writes h (B,H).
//   backward: given dh (B,H), writes dxgates (B,3H) (gradient w.r.t. x_*) and dhn (B,H) (w.r.t. h_n), both
//            overwritten, and ACCUMULATES the direct path z⊙dh into dh_prev (B,H). The gradient w.r.t. h_r and
//            h_z equals the one w.r.t. x_r and x_z (they enter as sums), so it is not written twice.
void gru_gates_forward(float* h, float* xgates, const float* hgates, const float* h_prev, int B, int H);
void gru_gates_backward(float* dxgates, float* dhn, float* dh_prev, const float* dh, const float* xgates,
                        const float* hgates, const float* h_prev, int B, int H);

namespace ref {
void lstm_gates_forward(float* h, float* c, float* gates, const float* c_prev, int B, int H);
void lstm_gates_backward(float* dgates, float* dc_prev, const float* dh, const float* dc, const float* gates,
                         const float* c, const float* c_prev, int B, int H);
void gru_gates_forward(float* h, float* xgates, const float* hgates, const float* h_prev, int B, int H);
void gru_gates_backward(float* dxgates, float* dhn, float* dh_prev, const float* dh, const float* xgates,
                        const float* hgates, const float* h_prev, int B, int H);
}  // namespace ref

// ---- softmax + cross-entropy ----------------------------------------------------------------------------
// forward: probs (N,V) = softmax(logits) row-wise (probs may alias logits); losses (N) = −log probs[target].
//          A negative target marks a position to ignore: its loss is 0. Returns the sum of losses.
// backward: dlogits (N,V) = dloss · (probs − onehot(target)) (overwrites; may alias probs); ignored rows → 0.
double softmax_xent_forward(float* probs, float* losses, const float* logits, const int32_t* targets, int N, int V);
void softmax_xent_backward(float* dlogits, const float* probs, const int32_t* targets, float dloss, int N, int V);
// softmax in place over one row of length n (generation, attention)
void softmax_inplace(float* x, int n);

namespace ref {
double softmax_xent_forward(float* probs, float* losses, const float* logits, const int32_t* targets, int N, int V);
void softmax_xent_backward(float* dlogits, const float* probs, const int32_t* targets, float dloss, int N, int V);
void softmax_inplace(float* x, int n);
}  // namespace ref

// ---- transformer: LayerNorm, GELU, causal attention -----------------------------------------------------
// LayerNorm over the last dimension of N rows (nn.LayerNorm: biased variance, eps 1e-5).
//   forward:  out (N,C) = (x − mean)·rstd·weight + bias; bias may be null (nanoGPT bias=False). Writes the
//             row statistics mean, rstd (N) that backward needs. out must not alias x.
//   backward: with x̂ = (x − mean)·rstd and g = dout⊙weight:
//             dx (N,C) += rstd·(g − mean(g) − x̂·mean(g⊙x̂));  dweight (C) += Σ_n dout⊙x̂;  dbias (C) += Σ_n dout
//             (dbias may be null).
void layernorm_rows_forward(float* out, float* mean, float* rstd, const float* x, const float* weight,
                            const float* bias, int N, int C);
void layernorm_rows_backward(float* dx, float* dweight, float* dbias, const float* dout, const float* x,
                             const float* weight, const float* mean, const float* rstd, int N, int C);

// GELU y = x·Φ(x). Exact: Φ through erf (PyTorch approximate='none'), the SIMD version's Φ within 1e-7 of the
// true value for every float; tanh: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (approximate='tanh'). forward: y
// may alias x. backward: dx = dy·gelu'(x), from the INPUT x; dx may alias dy (the MLP scales its gradient in
// place instead of zeroing a second buffer to accumulate into).
void gelu_tanh_forward(float* y, const float* x, int64_t n);
void gelu_exact_forward(float* y, const float* x, int64_t n);
void gelu_tanh_backward(float* dx, const float* dy, const float* x, int64_t n);
void gelu_exact_backward(float* dx, const float* dy, const float* x, int64_t n);

// Attention inner loops. D is the head size; a key/value cache holds one row of D floats per position, rows
// `ld` floats apart.
//   attention_scores:       scores (n) = scale · keys (n,D) · q (D)          — one query over its causal prefix
//   attention_weighted_sum: out (D) = beta·out + Σ_j probs[j]·values[j] (n rows), beta ∈ {0, 1}
// Their backward is the same two loops with roles swapped (dprobs = scores of dout against values; dq =
// weighted sum of keys by dscores); training runs all four as GEMMs over blocks of queries instead.
void attention_scores(float* scores, const float* q, const float* keys, int ld, int n, int D, float scale);
void attention_weighted_sum(float* out, const float* probs, const float* values, int ld, int n, int D, float beta);

// Causal softmax over a block of R query rows whose positions are first_row … first_row+R−1 (training).
// Row r of scores (R, ld) holds raw q·k for key positions 0 … first_row+R−1.
//   forward:  probs row r = softmax(scale · scores row r) over columns 0 … first_row+r, and 0 in the columns
//             after that up to first_row+R−1. probs may alias scores.
//   backward: dscores row r = scale · probs⊙(dprobs − Σ_j probs_j·dprobs_j) over the prefix, 0 after it up to
//             first_row+R−1 (overwrites; dscores may alias dprobs).
void causal_softmax_forward(float* probs, const float* scores, int ld, int R, int first_row, float scale);
void causal_softmax_backward(float* dscores, const float* dprobs, const float* probs, int ld, int R, int first_row,
                             float scale);

namespace ref {
void layernorm_rows_forward(float* out, float* mean, float* rstd, const float* x, const float* weight,
                            const float* bias, int N, int C);
void layernorm_rows_backward(float* dx, float* dweight, float* dbias, const float* dout, const float* x,
                             const float* weight, const float* mean, const float* rstd, int N, int C);
void gelu_tanh_forward(float* y, const float* x, int64_t n);
void gelu_exact_forward(float* y, const float* x, int64_t n);
void gelu_tanh_backward(float* dx, const float* dy, const float* x, int64_t n);
void gelu_exact_backward(float* dx, const float* dy, const float* x, int64_t n);
void attention_scores(float* scores, const float* q, const float* keys, int ld, int n, int D, float scale);
void attention_weighted_sum(float* out, const float* probs, const float* values, int ld, int n, int D, float beta);
void causal_softmax_forward(float* probs, const float* scores, int ld, int R, int first_row, float scale);
void causal_softmax_backward(float* dscores, const float* dprobs, const float* probs, int ld, int R, int first_row,
                             float scale);
}  // namespace ref

}  // namespace tinylm
