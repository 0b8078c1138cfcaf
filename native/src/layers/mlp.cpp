#include "layers/mlp.hpp"

#include <algorithm>
#include <cstring>

#include "parallel/parallel_kernels.hpp"
#include "layers/linear.hpp"

namespace tinylm {

const char* gelu_kind_name(GeluKind kind) { return kind == GeluKind::Tanh ? "tanh" : "exact"; }

bool parse_gelu_kind(const std::string& name, GeluKind* kind) {
  if (name == "tanh") {
    *kind = GeluKind::Tanh;
  } else if (name == "exact" || name == "none") {  // "none" is PyTorch's spelling of approximate='none'
    *kind = GeluKind::Exact;
  } else {
    return false;
  }
  return true;
}

void gelu_forward(ThreadPool* pool, float* y, const float* x, int64_t n, GeluKind kind) {
  parallel_elementwise(pool, n, [&](int64_t begin, int64_t end) {
    if (kind == GeluKind::Tanh) {
      gelu_tanh_forward(y + begin, x + begin, end - begin);
    } else {
      gelu_exact_forward(y + begin, x + begin, end - begin);
    }
  });
}

void gelu_backward(ThreadPool* pool, float* dx, const float* dy, const float* x, int64_t n, GeluKind kind) {
  parallel_elementwise(pool, n, [&](int64_t begin, int64_t end) {
    if (kind == GeluKind::Tanh) {
      gelu_tanh_backward(dx + begin, dy + begin, x + begin, end - begin);
    } else {
      gelu_exact_backward(dx + begin, dy + begin, x + begin, end - begin);
    }
  });
}

void linear_forward_rows(ThreadPool* pool, float* out, const float* in, const float* weight, const float* bias, int N,
                         int I, int O) {
  if (N != 1) return linear_forward(pool, out, in, weight, bias, N, I, O);
  if (bias) std::memcpy(out, bias, sizeof(float) * O);
  sgemv(pool, out, weight, I, in, O, I, bias ? 1.0f : 0.0f);
}

namespace {
void grow(std::vector<float>& buffer, int64_t floats) {
  if (buffer.size() < size_t(floats)) buffer.resize(floats);
}
}  // namespace

void mlp_forward(ThreadPool* pool, float* out, MlpCache& cache, const float* in, const MlpWeights& weights,
                 GeluKind gelu, int N, int C, const MlpAdapters& adapters) {
  const int hidden = 4 * C;
  const int64_t count = int64_t(N) * hidden;
  grow(cache.pre_activation, count);
  grow(cache.activation, count);
  linear_forward_rows(pool, cache.pre_activation.data(), in, weights.fc_weight, weights.fc_bias, N, C, hidden);
  adapters.fc.forward(pool, cache.pre_activation.data(), hidden, in, N);
  gelu_forward(pool, cache.activation.data(), cache.pre_activation.data(), count, gelu);
  linear_forward_rows(pool, out, cache.activation.data(), weights.proj_weight, weights.proj_bias, N, hidden, C);
  adapters.proj.forward(pool, out, C, cache.activation.data(), N);
}

void mlp_backward(ThreadPool* pool, float* din, const MlpGrads& grads, const float* dout, const float* in,
                  MlpCache& cache, const MlpWeights& weights, GeluKind gelu, int N, int C, float din_beta,
                  const MlpAdapters& adapters) {
  const int hidden = 4 * C;
  const int64_t count = int64_t(N) * hidden;
  grow(cache.dactivation, count);
  // c_proj: dactivation (N,4C) = dout·W_proj (overwrites), dW_proj += doutᵀ·activation.
  sgemm_nn(pool, cache.dactivation.data(), hidden, dout, C, weights.proj_weight, hidden, N, hidden, C, 0.0f);
  if (grads.proj_weight)
    sgemm_tn(pool, grads.proj_weight, hidden, dout, C, cache.activation.data(), hidden, C, hidden, N, 1.0f);
  if (grads.proj_bias) bias_backward(pool, grads.proj_bias, dout, N, C);
  adapters.proj.backward(pool, cache.dactivation.data(), dout, C, cache.activation.data(), N);
  // GELU in place (dactivation becomes d pre_activation), then c_fc.
  gelu_backward(pool, cache.dactivation.data(), cache.dactivation.data(), cache.pre_activation.data(), count, gelu);
  linear_backward(pool, din, grads.fc_weight, grads.fc_bias, cache.dactivation.data(), in, weights.fc_weight, N, C,
                  hidden, din_beta);
  adapters.fc.backward(pool, din, cache.dactivation.data(), hidden, in, N);
}

}  // namespace tinylm
