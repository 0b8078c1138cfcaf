#include "layers/swiglu_mlp.hpp"

#include <cstddef>
#include <cstdint>

#include "kernels/kernels.hpp"
#include "kernels/llama_kernels.hpp"
#include "layers/linear.hpp"
#include "parallel/parallel_kernels.hpp"

namespace tinylm {

namespace {
void grow(std::vector<float>& buffer, int64_t floats) {
  if (buffer.size() < size_t(floats)) buffer.resize(floats);
}
}  // namespace

void swiglu_rows_forward(ThreadPool* pool, float* out, const float* gate_up, int N, int H) {
  parallel_rows(pool, N, 3 * int64_t(H), [&](int64_t first, int64_t end) {
    for (int64_t n = first; n < end; ++n) swiglu_forward(out + n * H, gate_up + n * 2 * H, gate_up + n * 2 * H + H, H);
  });
}

void swiglu_mlp_forward(ThreadPool* pool, float* out, SwigluCache& cache, const float* in,
                        const SwigluWeights& weights, int N, int C, int H, const SwigluAdapters& adapters) {
  grow(cache.gate_up, int64_t(N) * 2 * H);
  grow(cache.activation, int64_t(N) * H);
  linear_forward(pool, cache.gate_up.data(), in, weights.gate_up_weight, weights.gate_up_bias, N, C, 2 * H);
  adapters.gate.forward(pool, cache.gate_up.data(), 2 * H, in, N);
  adapters.up.forward(pool, cache.gate_up.data() + H, 2 * H, in, N);
  swiglu_rows_forward(pool, cache.activation.data(), cache.gate_up.data(), N, H);
  linear_forward(pool, out, cache.activation.data(), weights.down_weight, weights.down_bias, N, H, C);
  adapters.down.forward(pool, out, C, cache.activation.data(), N);
}

void swiglu_mlp_backward(ThreadPool* pool, float* din, const SwigluGrads& grads, const float* dout, const float* in,
                         SwigluCache& cache, const SwigluWeights& weights, int N, int C, int H, float din_beta,
                         const SwigluAdapters& adapters) {
  grow(cache.dactivation, int64_t(N) * H);
  grow(cache.dgate_up, int64_t(N) * 2 * H);
  // down_proj: dactivation (N,H) = dout·W_down (overwrites), dW_down += doutᵀ·activation.
  linear_backward(pool, cache.dactivation.data(), grads.down_weight, grads.down_bias, dout, cache.activation.data(),
                  weights.down_weight, N, H, C, 0.0f);
  adapters.down.backward(pool, cache.dactivation.data(), dout, C, cache.activation.data(), N);
  parallel_rows(pool, N, 5 * int64_t(H), [&](int64_t first, int64_t end) {
    for (int64_t n = first; n < end; ++n) {
      const float* gate = cache.gate_up.data() + n * 2 * H;
      float* dgate = cache.dgate_up.data() + n * 2 * H;
      swiglu_backward(dgate, dgate + H, cache.dactivation.data() + n * H, gate, gate + H, H);
    }
  });
  linear_backward(pool, din, grads.gate_up_weight, grads.gate_up_bias, cache.dgate_up.data(), in,
                  weights.gate_up_weight, N, C, 2 * H, din_beta);
  adapters.gate.backward(pool, din, cache.dgate_up.data(), 2 * H, in, N);
  adapters.up.backward(pool, din, cache.dgate_up.data() + H, 2 * H, in, N);
}

}  // namespace tinylm
