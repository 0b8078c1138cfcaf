// Layer-level central finite differences and the helpers the model tests share: random values and token ids,
// and the parity tests' relative error. check_layer_gradients takes a layer as a pair of callbacks:
// forward(out) computes its output from the inputs' current values; backward(dout) accumulates into the inputs'
// gradients. The objective is Σ w⊙out for a fixed random w, so dout = w; the tolerance is the float forward's
// rounding, scaled by 1/2ε, plus a relative share.
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "tinylm/rng.hpp"

namespace tinylm::testing {

inline std::vector<float> random_values(size_t count, Rng& rng, float scale = 1.0f) {
  std::vector<float> values(count);
  for (float& v : values) v = scale * rng.normal();
  return values;
}

inline std::vector<int32_t> random_ids(int count, int vocab, uint64_t seed) {
  Rng rng(seed);
  std::vector<int32_t> ids(count);
  for (int32_t& id : ids) id = int32_t(rng.below(uint32_t(vocab)));
  return ids;
}

struct LayerInput {
  std::string name;
  std::vector<float>* values;
  std::vector<float>* grads;
};

inline void check_layer_gradients(const std::function<void(std::vector<float>&)>& forward,
                           const std::function<void(const std::vector<float>&)>& backward,
                           const std::vector<LayerInput>& inputs, float epsilon = 1e-2f) {
  std::vector<float> out;
  forward(out);
  Rng rng(17);
  const std::vector<float> w = random_values(out.size(), rng);
  auto objective = [&]() {
    forward(out);
    double total = 0, magnitude = 0;
    for (size_t i = 0; i < out.size(); ++i) {
      total += double(w[i]) * out[i];
      magnitude += std::abs(double(w[i]) * out[i]);
    }
    return std::make_pair(total, magnitude);
  };
  for (const LayerInput& input : inputs) std::fill(input.grads->begin(), input.grads->end(), 0.0f);
  forward(out);
  backward(w);
  const double rounding = objective().second * 1.2e-7 * 8 / (2 * epsilon);  // float forward's rounding, scaled
  for (const LayerInput& input : inputs) {
    CAPTURE(input.name);
    std::vector<float>& values = *input.values;
    for (int sample = 0; sample < 24; ++sample) {
      const size_t i = rng.below(uint32_t(values.size()));
      CAPTURE(i);
      const float original = values[i];
      values[i] = original + epsilon;
      const double plus = objective().first;
      values[i] = original - epsilon;
      const double minus = objective().first;
      values[i] = original;
      const double numeric = (plus - minus) / (2 * epsilon);
      const double analytic = (*input.grads)[i];
      CHECK(std::abs(numeric - analytic) <=
            rounding + 2e-2 * std::max(std::abs(numeric), std::abs(analytic)) + 1e-5);
    }
  }
}

// max|a − b| / max|b| over two logit rows, the parity tests' relative error.
inline double relative_error(const float* ours, const float* reference, int n) {
  double worst = 0, scale = 0;
  for (int i = 0; i < n; ++i) {
    worst = std::max(worst, std::abs(double(ours[i]) - reference[i]));
    scale = std::max(scale, std::abs(double(reference[i])));
  }
  return worst / std::max(scale, 1e-30);
}

}  // namespace tinylm::testing
