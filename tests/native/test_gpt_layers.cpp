// GPT's layers: every backward against central finite differences (LayerNorm and the MLP with and without biases,
// GELU, causal attention), and causal attention equal to a direct evaluation. The whole model is tested in
// test_gpt.cpp.
#include <doctest/doctest.h>

#include <cmath>

#include "layer_gradient_check.hpp"
#include "layers/attention.hpp"
#include "layers/layernorm.hpp"
#include "layers/mlp.hpp"

using namespace tinylm;
using namespace tinylm::testing;

TEST_CASE("gpt layers: layernorm backward matches finite differences") {
  for (bool bias : {true, false}) {
    CAPTURE(bias);
    const int N = 5, C = 7;
    Rng rng(1);
    std::vector<float> x = random_values(N * C, rng), weight = random_values(C, rng), beta = random_values(C, rng);
    std::vector<float> dx(x.size()), dweight(C), dbeta(C);
    LayerNormCache cache;
    auto forward = [&](std::vector<float>& out) {
      out.assign(N * C, 0.0f);
      layernorm_forward(nullptr, out.data(), cache, x.data(), weight.data(), bias ? beta.data() : nullptr, N, C);
    };
    auto backward = [&](const std::vector<float>& dout) {
      layernorm_backward(nullptr, dx.data(), dweight.data(), bias ? dbeta.data() : nullptr, dout.data(), x.data(),
                         weight.data(), cache, N, C);
    };
    std::vector<LayerInput> inputs = {{"x", &x, &dx}, {"weight", &weight, &dweight}};
    if (bias) inputs.push_back({"bias", &beta, &dbeta});
    check_layer_gradients(forward, backward, inputs);
  }
}

TEST_CASE("gpt layers: gelu backward matches finite differences") {
  for (GeluKind kind : {GeluKind::Tanh, GeluKind::Exact}) {
    const std::string name = gelu_kind_name(kind);
    CAPTURE(name);
    Rng rng(2);
    std::vector<float> x = random_values(41, rng, 2.0f), dx(x.size());
    auto forward = [&](std::vector<float>& out) {
      out.resize(x.size());
      gelu_forward(nullptr, out.data(), x.data(), int64_t(x.size()), kind);
    };
    auto backward = [&](const std::vector<float>& dout) {
      gelu_backward(nullptr, dx.data(), dout.data(), x.data(), int64_t(x.size()), kind);
    };
    check_layer_gradients(forward, backward, {{"x", &x, &dx}}, 1e-3f);
  }
}

TEST_CASE("gpt layers: attention backward matches finite differences") {
  // T = 37 spans two query blocks and a partial third; dropout runs with the same mask in every forward.
  const int B = 2, T = 37, C = 8, NH = 2;
  for (float dropout : {0.0f, 0.3f}) {
    CAPTURE(dropout);
    Rng rng(3);
    std::vector<float> qkv = random_values(int64_t(B) * T * 3 * C, rng), dqkv(qkv.size());
    AttentionCache cache;
    auto forward = [&](std::vector<float>& out) {
      out.assign(int64_t(B) * T * C, 0.0f);
      Rng mask_rng(99);
      attention_forward(nullptr, out.data(), cache, qkv.data(), dropout, &mask_rng, B, T, C, NH);
    };
    auto backward = [&](const std::vector<float>& dout) {
      attention_backward(nullptr, dqkv.data(), dout.data(), qkv.data(), cache, B, T, C, NH);
    };
    check_layer_gradients(forward, backward, {{"qkv", &qkv, &dqkv}});
  }
}

TEST_CASE("gpt layers: causal attention equals a direct evaluation") {
  const int B = 1, T = 35, C = 6, NH = 3, D = 2;
  Rng rng(4);
  const std::vector<float> qkv = random_values(int64_t(B) * T * 3 * C, rng);
  std::vector<float> out(int64_t(T) * C);
  AttentionCache cache;
  attention_forward(nullptr, out.data(), cache, qkv.data(), 0.0f, nullptr, B, T, C, NH);
  for (int t = 0; t < T; ++t) {
    for (int h = 0; h < NH; ++h) {
      std::vector<double> weights(t + 1);
      double max = -1e300, total = 0;
      for (int j = 0; j <= t; ++j) {
        double dot = 0;
        for (int d = 0; d < D; ++d) dot += double(qkv[t * 3 * C + h * D + d]) * qkv[j * 3 * C + C + h * D + d];
        weights[j] = dot / std::sqrt(double(D));
        max = std::max(max, weights[j]);
      }
      for (double& w : weights) total += (w = std::exp(w - max));
      for (int d = 0; d < D; ++d) {
        double expected = 0;
        for (int j = 0; j <= t; ++j) expected += weights[j] / total * qkv[j * 3 * C + 2 * C + h * D + d];
        CHECK(out[t * C + h * D + d] == doctest::Approx(expected).epsilon(1e-5));
      }
    }
  }
}

TEST_CASE("gpt layers: mlp backward matches finite differences") {
  for (bool bias : {true, false}) {
    for (GeluKind kind : {GeluKind::Tanh, GeluKind::Exact}) {
      CAPTURE(bias);
      const std::string gelu = gelu_kind_name(kind);
      CAPTURE(gelu);
      const int N = 4, C = 5;
      Rng rng(5);
      std::vector<float> in = random_values(N * C, rng), fc_weight = random_values(4 * C * C, rng, 0.5f),
                         fc_bias = random_values(4 * C, rng, 0.5f), proj_weight = random_values(4 * C * C, rng, 0.5f),
                         proj_bias = random_values(C, rng);
      std::vector<float> din(in.size()), dfc_weight(fc_weight.size()), dfc_bias(fc_bias.size()),
          dproj_weight(proj_weight.size()), dproj_bias(proj_bias.size());
      MlpCache cache;
      const MlpWeights weights = {fc_weight.data(), bias ? fc_bias.data() : nullptr, proj_weight.data(),
                                  bias ? proj_bias.data() : nullptr};
      const MlpGrads grads = {dfc_weight.data(), bias ? dfc_bias.data() : nullptr, dproj_weight.data(),
                              bias ? dproj_bias.data() : nullptr};
      auto forward = [&](std::vector<float>& out) {
        out.assign(N * C, 0.0f);
        mlp_forward(nullptr, out.data(), cache, in.data(), weights, kind, N, C);
      };
      auto backward = [&](const std::vector<float>& dout) {
        mlp_backward(nullptr, din.data(), grads, dout.data(), in.data(), cache, weights, kind, N, C);
      };
      std::vector<LayerInput> inputs = {
          {"in", &in, &din}, {"c_fc.weight", &fc_weight, &dfc_weight}, {"c_proj.weight", &proj_weight, &dproj_weight}};
      if (bias) {
        inputs.push_back({"c_fc.bias", &fc_bias, &dfc_bias});
        inputs.push_back({"c_proj.bias", &proj_bias, &dproj_bias});
      }
      check_layer_gradients(forward, backward, inputs, 1e-3f);
    }
  }
}
