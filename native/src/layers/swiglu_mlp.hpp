// The Llama family's feed-forward layer (Hugging Face's LlamaMLP): down_proj(silu(gate_proj(x)) ⊙ up_proj(x)), with
// C → H → C Linears, biases optional (mlp_bias). gate_proj and up_proj are stored one after the other, so the pair is
// one (2H, C) matrix and one GEMM: a row of its output holds the gate's H values, then the up projection's H.
// Backward ACCUMULATES into its gradient outputs (+=).
#pragma once
#include <vector>

#include "layers/linear_adapter.hpp"

namespace tinylm {

class ThreadPool;

struct SwigluWeights {
  const float* gate_up_weight;  // (2H, C): gate_proj.weight (H,C) then up_proj.weight (H,C)
  const float* gate_up_bias;    // (2H) or null
  const float* down_weight;     // (C, H)
  const float* down_bias;       // (C) or null
};

// Terms added beside gate_proj, up_proj and down_proj (layers/linear_adapter.hpp, LoRA); empty slots add nothing.
struct SwigluAdapters {
  AdapterSlot gate, up, down;
};

struct SwigluGrads {  // weight and bias gradients are null when frozen
  float* gate_up_weight;  // (2H, C)
  float* gate_up_bias;    // (2H) or null
  float* down_weight;     // (C, H)
  float* down_bias;       // (C) or null
};

// Activations kept for backward, plus backward scratch; buffers only grow.
struct SwigluCache {
  std::vector<float> gate_up;      // (N,2H) the fused projection: SwiGLU's inputs
  std::vector<float> activation;   // (N,H) silu(gate)⊙up: down_proj's input
  std::vector<float> dactivation;  // (N,H) backward scratch
  std::vector<float> dgate_up;     // (N,2H) backward scratch
};

// out (N,C) = down_proj(silu(gate_proj(in)) ⊙ up_proj(in)), in (N,C). Fills cache.
void swiglu_mlp_forward(ThreadPool* pool, float* out, SwigluCache& cache, const float* in,
                        const SwigluWeights& weights, int N, int C, int H, const SwigluAdapters& adapters = {});
// Accumulates into grads; din (N,C) = din_beta·din + d in (0 for a fresh buffer).
void swiglu_mlp_backward(ThreadPool* pool, float* din, const SwigluGrads& grads, const float* dout, const float* in,
                         SwigluCache& cache, const SwigluWeights& weights, int N, int C, int H, float din_beta = 1.0f,
                         const SwigluAdapters& adapters = {});

// SwiGLU over N rows of a fused (N,2H) projection: out (N,H) row n = silu(gate_up[n, :H]) ⊙ gate_up[n, H:].
void swiglu_rows_forward(ThreadPool* pool, float* out, const float* gate_up, int N, int H);

}  // namespace tinylm
