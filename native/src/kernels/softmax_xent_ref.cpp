// Scalar references for softmax and fused softmax + cross-entropy (contract in kernels.hpp), computed in
// double with the max subtracted first. Also what every public name runs in a TINYLM_FORCE_SCALAR build.
#include <cmath>

#include "kernels/kernels.hpp"

namespace tinylm::ref {

double softmax_xent_forward(float* probs, float* losses, const float* logits, const int32_t* targets, int N, int V) {
  double total = 0.0;
  for (int r = 0; r < N; ++r) {
    const float* x = logits + (long)r * V;
    float* p = probs + (long)r * V;
    double max = x[0];
    for (int v = 1; v < V; ++v) max = x[v] > max ? x[v] : max;
    double sum = 0.0;
    for (int v = 0; v < V; ++v) sum += std::exp(double(x[v]) - max);
    const int32_t target = targets[r];
    const double loss = target < 0 ? 0.0 : std::log(sum) - (double(x[target]) - max);  // read before p overwrites
    for (int v = 0; v < V; ++v) p[v] = float(std::exp(double(x[v]) - max) / sum);
    losses[r] = float(loss);
    total += loss;
  }
  return total;
}

void softmax_xent_backward(float* dlogits, const float* probs, const int32_t* targets, float dloss, int N, int V) {
  for (int r = 0; r < N; ++r) {
    const int32_t target = targets[r];
    for (int v = 0; v < V; ++v) {
      const long i = (long)r * V + v;
      dlogits[i] = target < 0 ? 0.0f : dloss * (probs[i] - (v == target ? 1.0f : 0.0f));
    }
  }
}

void softmax_inplace(float* x, int n) {
  double max = x[0];
  for (int i = 1; i < n; ++i) max = x[i] > max ? x[i] : max;
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += std::exp(double(x[i]) - max);
  for (int i = 0; i < n; ++i) x[i] = float(std::exp(double(x[i]) - max) / sum);
}

}  // namespace tinylm::ref
