#include "lora/lora_linear.hpp"

#include <cstddef>

#include "parallel/parallel_kernels.hpp"
#include "tinylm/rng.hpp"

namespace tinylm {

namespace {
template <typename Value>
void grow(std::vector<Value>& buffer, int64_t count) {
  if (buffer.size() < size_t(count)) buffer.resize(size_t(count));
}
}  // namespace

void lora_forward(ThreadPool* pool, float* out, int ldo, LoraCache& cache, const float* in, const LoraWeights& weights, int N,
                  float dropout, Rng* rng) {
  const int I = weights.in, O = weights.out, r = weights.rank;
  const int64_t NI = int64_t(N) * I;
  const float* x = in;
  cache.keep_scale = 0;
  if (rng != nullptr && dropout > 0) {
    // nn.Dropout: each element kept with probability 1−p and scaled by 1/(1−p).
    grow(cache.keep, NI);
    grow(cache.dropped, NI);
    cache.keep_scale = 1.0f / (1.0f - dropout);
    for (int64_t i = 0; i < NI; ++i) {
      cache.keep[i] = rng->uniform() >= dropout;
      cache.dropped[i] = cache.keep[i] ? in[i] * cache.keep_scale : 0.0f;
    }
    x = cache.dropped.data();
  }
  grow(cache.hidden, int64_t(N) * r);
  float* hidden = cache.hidden.data();
  sgemm_nt(pool, hidden, r, x, I, weights.A, I, N, r, I, 0.0f);  // (N, r) = x · Aᵀ
  for (int64_t i = 0; i < int64_t(N) * r; ++i) hidden[i] *= weights.scale;
  sgemm_nt(pool, out, ldo, hidden, r, weights.B, r, N, O, r, 1.0f);  // out (N, O) += hidden · Bᵀ
}

void lora_backward(ThreadPool* pool, float* din, const LoraGrads& grads, const float* dout, int ldo, const float* in, LoraCache& cache,
                   const LoraWeights& weights, int N) {
  const int I = weights.in, O = weights.out, r = weights.rank;
  const int64_t NI = int64_t(N) * I;
  grow(cache.dhidden, int64_t(N) * r);
  float* dhidden = cache.dhidden.data();
  // dB (O, r) += doutᵀ · hidden  (hidden already carries the scale).
  sgemm_tn(pool, grads.B, r, dout, ldo, cache.hidden.data(), r, O, r, N, 1.0f);
  // d(x·Aᵀ) (N, r) = scale · dout · B.
  sgemm_nn(pool, dhidden, r, dout, ldo, weights.B, r, N, r, O, 0.0f);
  for (int64_t i = 0; i < int64_t(N) * r; ++i) dhidden[i] *= weights.scale;
  // dA (r, I) += d(x·Aᵀ)ᵀ · dropout(x); dropout(x) is still in cache.dropped when the forward dropped.
  const bool dropped = cache.keep_scale > 0;
  sgemm_tn(pool, grads.A, I, dhidden, r, dropped ? cache.dropped.data() : in, I, r, I, N, 1.0f);
  if (din == nullptr) return;
  if (!dropped) {
    sgemm_nn(pool, din, I, dhidden, r, weights.A, I, N, I, r, 1.0f);  // din (N, I) += d(x·Aᵀ) · A
    return;
  }
  float* ddropped = cache.dropped.data();  // dropout(x) is no longer needed: its gradient takes its place
  sgemm_nn(pool, ddropped, I, dhidden, r, weights.A, I, N, I, r, 0.0f);
  parallel_elementwise(pool, NI, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      if (cache.keep[i]) din[i] += ddropped[i] * cache.keep_scale;
  });
}

}  // namespace tinylm
