// Layer-level backward checks against central finite differences in isolation (the model tests check the
// layers composed): embedding, linear (input, weight and bias gradients), and one recurrent layer of each kind
// (input, weight and bias gradients through T steps). The scalar loss is a fixed random projection of the
// layer's output, L = Σ r ⊙ y, so dL/dy = r.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "layers/linear.hpp"
#include "layers/recurrent.hpp"
#include "tinylm/rng.hpp"

using namespace tinylm;

namespace {

std::vector<float> random_vector(size_t size, Rng& rng, float scale = 1.0f) {
  std::vector<float> values(size);
  for (float& v : values) v = scale * (2 * rng.uniform() - 1);
  return values;
}

double project(const float* y, const std::vector<float>& r) {
  double sum = 0;
  for (size_t i = 0; i < r.size(); ++i) sum += double(y[i]) * r[i];
  return sum;
}

// Checks analytic[i] against the central difference of loss() w.r.t. values[i], for every element.
void check_against_finite_differences(const std::string& what, std::vector<float>& values,
                                      const std::vector<float>& analytic, const std::function<double()>& loss,
                                      float epsilon = 1e-2f) {
  CAPTURE(what);
  for (size_t i = 0; i < values.size(); ++i) {
    CAPTURE(i);
    const float original = values[i];
    values[i] = original + epsilon;
    const double plus = loss();
    values[i] = original - epsilon;
    const double minus = loss();
    values[i] = original;
    const double numeric = (plus - minus) / (2 * epsilon);
    // float32 forward: rounding of a sum of ~n terms of size ~1, divided by 2ε; plus a relative share.
    CHECK(std::abs(numeric - analytic[i]) <= 2e-6 / epsilon + 1e-2 * std::abs(numeric));
  }
}

}  // namespace

TEST_CASE("linear and embedding layers: backward matches finite differences") {
  Rng rng(1);
  const int N = 5, I = 7, O = 6, V = 4;
  std::vector<float> input = random_vector(N * I, rng), weight = random_vector(O * I, rng),
                     bias = random_vector(O, rng), r = random_vector(N * O, rng);
  std::vector<float> out(N * O);
  auto loss = [&]() {
    linear_forward(nullptr, out.data(), input.data(), weight.data(), bias.data(), N, I, O);
    return project(out.data(), r);
  };
  std::vector<float> dinput(N * I, 0.0f), dweight(O * I, 0.0f), dbias(O, 0.0f);
  linear_backward(nullptr, dinput.data(), dweight.data(), dbias.data(), r.data(), input.data(), weight.data(), N, I,
                  O);
  check_against_finite_differences("linear input", input, dinput, loss);
  check_against_finite_differences("linear weight", weight, dweight, loss);
  check_against_finite_differences("linear bias", bias, dbias, loss);

  SUBCASE("backward accumulates") {
    std::vector<float> twice(O, 0.0f);
    bias_backward(nullptr, twice.data(), r.data(), N, O);
    bias_backward(nullptr, twice.data(), r.data(), N, O);
    for (int o = 0; o < O; ++o) CHECK(twice[o] == doctest::Approx(2 * dbias[o]));
  }
  SUBCASE("din_beta 0 overwrites the input gradient, 1 accumulates onto it") {
    std::vector<float> overwritten(N * I, std::nanf("")), accumulated(N * I, 1.0f), scratch_w(O * I), scratch_b(O);
    linear_backward(nullptr, overwritten.data(), scratch_w.data(), scratch_b.data(), r.data(), input.data(),
                    weight.data(), N, I, O, 0.0f);
    linear_backward(nullptr, accumulated.data(), scratch_w.data(), scratch_b.data(), r.data(), input.data(),
                    weight.data(), N, I, O);
    for (int i = 0; i < N * I; ++i) {
      CHECK(overwritten[i] == doctest::Approx(dinput[i]));
      CHECK(accumulated[i] == doctest::Approx(1.0f + dinput[i]));
    }
  }

  const std::vector<int32_t> ids = {3, 0, 3, 1, 2};
  std::vector<float> table = random_vector(V * I, rng), gathered(N * I), rr = random_vector(N * I, rng);
  std::vector<float> dtable(V * I, 0.0f);
  embedding_backward(nullptr, dtable.data(), rr.data(), ids.data(), N, I);
  check_against_finite_differences("embedding", table, dtable, [&]() {
    embedding_forward(nullptr, gathered.data(), ids.data(), table.data(), N, I);
    return project(gathered.data(), rr);
  });
}

TEST_CASE("recurrent layers: backward matches finite differences") {
  for (CellKind kind : {CellKind::RnnTanh, CellKind::RnnRelu, CellKind::Lstm, CellKind::Gru}) {
    const std::string kind_name = cell_kind_name(kind);
    CAPTURE(kind_name);
    Rng rng(11);
    const int T = 4, B = 2, I = 3, H = 5, GH = gate_count(kind) * H;
    std::vector<float> input = random_vector(T * B * I, rng), weight_ih = random_vector(GH * I, rng, 0.7f),
                       weight_hh = random_vector(GH * H, rng, 0.7f), bias_ih = random_vector(GH, rng, 0.5f),
                       bias_hh = random_vector(GH, rng, 0.5f), h0 = random_vector(B * H, rng),
                       c0 = random_vector(B * H, rng), r = random_vector(T * B * H, rng);
    // ReLU's kink: a step that carries a pre-activation across 0 measures a different slope; a small one rarely does.
    const float epsilon = kind == CellKind::RnnRelu ? 1e-3f : 1e-2f;
    RecurrentCache cache;
    auto weights = [&]() {
      return RecurrentWeights{weight_ih.data(), weight_hh.data(), bias_ih.data(), bias_hh.data()};
    };
    auto loss = [&]() {
      recurrent_forward(nullptr, cache, input.data(), h0.data(), c0.data(), weights(), kind, T, B, I, H);
      return project(cache.h.data(), r);
    };
    loss();
    std::vector<float> dinput(T * B * I, 0.0f), dweight_ih(GH * I, 0.0f), dweight_hh(GH * H, 0.0f),
                       dbias_ih(GH, 0.0f), dbias_hh(GH, 0.0f), dh = r;
    recurrent_backward(nullptr, dinput.data(),
                       {dweight_ih.data(), dweight_hh.data(), dbias_ih.data(), dbias_hh.data()}, dh.data(),
                       input.data(), cache, weights(), kind, T, B, I, H);
    check_against_finite_differences("input", input, dinput, loss, epsilon);
    check_against_finite_differences("weight_ih", weight_ih, dweight_ih, loss, epsilon);
    check_against_finite_differences("weight_hh", weight_hh, dweight_hh, loss, epsilon);
    check_against_finite_differences("bias_ih", bias_ih, dbias_ih, loss, epsilon);
    check_against_finite_differences("bias_hh", bias_hh, dbias_hh, loss, epsilon);
  }
}
