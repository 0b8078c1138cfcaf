// The transformer's feed-forward layer, nanoGPT's MLP: c_fc Linear(C, 4C) → GELU → c_proj Linear(4C, C), each
// Linear with an optional bias (nanoGPT bias=False). GELU is PyTorch's, exact (erf) or the tanh approximation.
// Backward ACCUMULATES into its gradient outputs (+=). Work splits over `pool` (null: serial) with results
// independent of its size (parallel_kernels.hpp).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "layers/linear_adapter.hpp"

namespace tinylm {

class ThreadPool;

enum class GeluKind { Tanh, Exact };
const char* gelu_kind_name(GeluKind kind);  // "tanh" | "exact"
bool parse_gelu_kind(const std::string& name, GeluKind* kind);

// y (n) = gelu(x); y may alias x.  dx (n) = dy · gelu'(x), from the input x; dx may alias dy.
void gelu_forward(ThreadPool* pool, float* y, const float* x, int64_t n, GeluKind kind);
void gelu_backward(ThreadPool* pool, float* dx, const float* dy, const float* x, int64_t n, GeluKind kind);

// out (N,O) = in (N,I) · weightᵀ (O,I) + bias (O), like linear_forward, but a single row runs as sgemv: batch-1
// generation would otherwise repack the whole weight matrix for one row of GEMM.
void linear_forward_rows(ThreadPool* pool, float* out, const float* in, const float* weight, const float* bias, int N,
                         int I, int O);

struct MlpWeights {
  const float* fc_weight;    // (4C, C)
  const float* fc_bias;      // (4C) or null
  const float* proj_weight;  // (C, 4C)
  const float* proj_bias;    // (C) or null
};

// Terms added beside c_fc and c_proj (layers/linear_adapter.hpp, LoRA); empty slots add nothing.
struct MlpAdapters {
  AdapterSlot fc, proj;
};

struct MlpGrads {  // weight and bias gradients are null when frozen
  float* fc_weight;    // (4C, C)
  float* fc_bias;      // (4C) or null
  float* proj_weight;  // (C, 4C)
  float* proj_bias;    // (C) or null
};

// Activations kept for backward, plus backward scratch; buffers only grow.
struct MlpCache {
  std::vector<float> pre_activation;  // (N,4C) c_fc output, GELU's input
  std::vector<float> activation;      // (N,4C) GELU output, c_proj's input
  std::vector<float> dactivation;     // (N,4C) backward scratch: d activation, then d pre_activation in place
};

// out (N,C) = c_proj(gelu(c_fc(in (N,C)))). Fills cache.
void mlp_forward(ThreadPool* pool, float* out, MlpCache& cache, const float* in, const MlpWeights& weights,
                 GeluKind gelu, int N, int C, const MlpAdapters& adapters = {});
// Accumulates into grads; din (N,C) = din_beta·din + d in, so a caller with a fresh buffer passes 0 instead of
// zeroing it first.
void mlp_backward(ThreadPool* pool, float* din, const MlpGrads& grads, const float* dout, const float* in,
                  MlpCache& cache, const MlpWeights& weights, GeluKind gelu, int N, int C, float din_beta = 1.0f,
                  const MlpAdapters& adapters = {});

}  // namespace tinylm
