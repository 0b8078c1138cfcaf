// Central finite-difference checks of a TrainableModel's backward(), shared by the model tests.
//
// For every parameter tensor: the directional derivative along a random direction, (L(θ+εd) − L(θ−εd)) / 2ε,
// must match g·d, and so must a sample of single elements. Float32 forward passes limit how exact a finite
// difference can be (rounding of L ≈ |L|·2⁻²³ divided by 2ε), so the tolerance is that rounding bound plus a
// relative share — not a magic constant.
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "tensor.hpp"
#include "tinylm/model.hpp"
#include "tinylm/rng.hpp"

namespace tinylm::testing {

struct GradientCheckOptions {
  float epsilon = 1e-2f;
  double relative_tolerance = 2e-2;
  int elements_per_tensor = 12;
};

inline void check_gradients(TrainableModel& model, const std::vector<int32_t>& inputs,
                            const std::vector<int32_t>& targets, int B, int T,
                            const GradientCheckOptions& options = {}) {
  Parameters& params = model.parameters();
  auto loss_at = [&]() {
    model.reset_train_state();
    return double(model.forward(inputs.data(), targets.data(), B, T, false, nullptr));
  };
  const double loss = loss_at();
  params.zero_grad();
  model.backward();
  const std::vector<float> analytic = params.grads;
  const double rounding = std::abs(loss) * 1.2e-7 * 4 / (2 * options.epsilon);

  Rng rng(7);
  for (const TensorSpec& spec : params.table.tensors()) {
    CAPTURE(spec.name);
    const int64_t count = shape_numel(spec.shape);
    float* values = params.values.data() + spec.offset;
    const float* grads = analytic.data() + spec.offset;

    // Directional derivative along a random unit-scale direction.
    std::vector<float> direction(count), saved(values, values + count);
    double expected = 0, direction_norm = 0;
    for (int64_t i = 0; i < count; ++i) {
      direction[i] = rng.normal();
      expected += double(grads[i]) * direction[i];
      direction_norm += double(direction[i]) * direction[i];
    }
    const float scale = float(1.0 / std::sqrt(direction_norm));
    expected *= scale;
    for (int64_t i = 0; i < count; ++i) values[i] = saved[i] + options.epsilon * scale * direction[i];
    const double plus = loss_at();
    for (int64_t i = 0; i < count; ++i) values[i] = saved[i] - options.epsilon * scale * direction[i];
    const double minus = loss_at();
    std::copy(saved.begin(), saved.end(), values);
    const double numeric = (plus - minus) / (2 * options.epsilon);
    CHECK(std::abs(numeric - expected) <= rounding + options.relative_tolerance * std::abs(expected));

    // Single elements.
    for (int sample = 0; sample < options.elements_per_tensor; ++sample) {
      const int64_t i = rng.below(uint32_t(count));
      CAPTURE(i);
      const float original = values[i];
      values[i] = original + options.epsilon;
      const double element_plus = loss_at();
      values[i] = original - options.epsilon;
      const double element_minus = loss_at();
      values[i] = original;
      const double element_numeric = (element_plus - element_minus) / (2 * options.epsilon);
      CHECK(std::abs(element_numeric - grads[i]) <=
            rounding + options.relative_tolerance * std::max(std::abs(element_numeric), std::abs(double(grads[i]))) +
                1e-6);
    }
  }
}

}  // namespace tinylm::testing
