// The Llama family's kernels — RMSNorm, rotary position embeddings, SwiGLU — each with a SIMD implementation
// (xsimd, `*.cpp`) and a scalar reference (`*_ref.cpp`, always built), in the conventions of kernels.hpp (outputs
// first, then inputs, then dimensions; backward kernels ACCUMULATE unless the name or comment says otherwise). A
// TINYLM_FORCE_SCALAR build routes the public names to the references.
// Dimension letters: N rows, C channels, D head size, H the MLP's hidden width.
#pragma once
#include <cstdint>

namespace tinylm {

// ---- RMSNorm (LlamaRMSNorm) -----------------------------------------------------------------------------
//   forward:  rstd (N) = 1/√(mean(x²) + eps);  out (N,C) = (x·rstd)⊙weight — normalised first, then scaled, as
//             Hugging Face's Llama computes it. out must not alias x.
//   backward: with x̂ = x·rstd and g = dout⊙weight:
//             dx (N,C) += rstd·(g − x̂·mean(g⊙x̂));  dweight (C) += Σ_n dout⊙x̂.
void rmsnorm_rows_forward(float* out, float* rstd, const float* x, const float* weight, float eps, int N, int C);
void rmsnorm_rows_backward(float* dx, float* dweight, const float* dout, const float* x, const float* weight,
                           const float* rstd, int N, int C);

// ---- rotary position embedding (rotate_half convention) -------------------------------------------------
// x holds `heads` heads of D floats back to back (D even), all at one position whose table row is cos, sin (D/2).
//   forward (in place): for i < D/2, (x_i, x_{i+D/2}) ← (x_i·cos_i − x_{i+D/2}·sin_i, x_{i+D/2}·cos_i + x_i·sin_i).
//   backward (in place, overwrites): the transpose, (d_i, d_{i+D/2}) ← (d_i·cos_i + d_{i+D/2}·sin_i,
//             d_{i+D/2}·cos_i − d_i·sin_i) — the inverse rotation when cos² + sin² = 1.
void rotary_forward(float* x, const float* cos, const float* sin, int heads, int D);
void rotary_backward(float* dx, const float* cos, const float* sin, int heads, int D);

// ---- SwiGLU -----------------------------------------------------------------------------------------------
//   forward:  out (n) = silu(gate)⊙up, silu(g) = g·σ(g). out may alias gate or up.
//   backward (overwrites): dgate (n) = dout⊙up⊙σ(g)·(1 + g·(1 − σ(g)));  dup (n) = dout⊙silu(g). Neither output
//             may alias an input.
void swiglu_forward(float* out, const float* gate, const float* up, int64_t n);
void swiglu_backward(float* dgate, float* dup, const float* dout, const float* gate, const float* up, int64_t n);

namespace ref {
void rmsnorm_rows_forward(float* out, float* rstd, const float* x, const float* weight, float eps, int N, int C);
void rmsnorm_rows_backward(float* dx, float* dweight, const float* dout, const float* x, const float* weight,
                           const float* rstd, int N, int C);
void rotary_forward(float* x, const float* cos, const float* sin, int heads, int D);
void rotary_backward(float* dx, const float* cos, const float* sin, int heads, int D);
void swiglu_forward(float* out, const float* gate, const float* up, int64_t n);
void swiglu_backward(float* dgate, float* dup, const float* dout, const float* gate, const float* up, int64_t n);
}  // namespace ref

}  // namespace tinylm
