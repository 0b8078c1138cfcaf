// Llama's layers: every backward against central finite differences (RMSNorm, rotary rows, the SwiGLU MLP with and
// without biases, grouped-query attention with and without dropout), q·k after rotation depending on relative
// positions only, rotary frequencies for each rope_scaling variant, and grouped-query attention equal to multi-head
// attention over repeated key/value heads, batched and cached. The whole model is tested in test_llama.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <numeric>

#include "kernels/llama_kernels.hpp"
#include "layer_gradient_check.hpp"
#include "layers/attention.hpp"
#include "layers/rmsnorm.hpp"
#include "layers/rotary.hpp"
#include "layers/swiglu_mlp.hpp"

using namespace tinylm;
using namespace tinylm::testing;

TEST_CASE("llama layers: rmsnorm backward matches finite differences") {
  const int N = 5, C = 7;
  Rng rng(1);
  std::vector<float> x = random_values(N * C, rng), weight = random_values(C, rng);
  std::vector<float> dx(x.size()), dweight(C);
  RmsNormCache cache;
  auto forward = [&](std::vector<float>& out) {
    out.assign(N * C, 0.0f);
    rmsnorm_forward(out.data(), cache, x.data(), weight.data(), 1e-5f, N, C);
  };
  auto backward = [&](const std::vector<float>& dout) {
    rmsnorm_backward(dx.data(), dweight.data(), dout.data(), x.data(), weight.data(), cache, N, C);
  };
  check_layer_gradients(forward, backward, {{"x", &x, &dx}, {"weight", &weight, &dweight}});
}

TEST_CASE("llama layers: rotary rows backward matches finite differences; scores depend on relative positions") {
  const int B = 2, T = 5, heads = 3, D = 6, ld = heads * D + 2;  // two trailing floats per row stay untouched
  RotaryTable table;
  RopeConfig rope;
  rope.theta = 50.0f;
  table.build(rope, D, T);
  Rng rng(2);
  std::vector<float> x = random_values(int64_t(B) * T * ld, rng), dx(x.size());
  auto forward = [&](std::vector<float>& out) {
    out = x;
    rotary_rows_forward(out.data(), ld, table, heads, D, B, T);
  };
  auto backward = [&](const std::vector<float>& dout) {
    std::vector<float> gradient = dout;
    rotary_rows_backward(gradient.data(), ld, table, heads, D, B, T);
    for (size_t i = 0; i < dx.size(); ++i) dx[i] += gradient[i];
  };
  check_layer_gradients(forward, backward, {{"x", &x, &dx}});

  // q·k of two rotated vectors depends on their positions' difference only: RoPE's point.
  std::vector<float> q = random_values(D, rng), k = random_values(D, rng);
  RotaryTable long_table;
  long_table.build(rope, D, 12);
  auto rotated_dot = [&](int q_position, int k_position) {
    std::vector<float> rq = q, rk = k;
    rotary_forward(rq.data(), long_table.cos_at(q_position), long_table.sin_at(q_position), 1, D);
    rotary_forward(rk.data(), long_table.cos_at(k_position), long_table.sin_at(k_position), 1, D);
    return std::inner_product(rq.begin(), rq.end(), rk.begin(), 0.0);
  };
  CHECK(rotated_dot(7, 3) == doctest::Approx(rotated_dot(4, 0)).epsilon(1e-5));
  CHECK(rotated_dot(11, 9) == doctest::Approx(rotated_dot(2, 0)).epsilon(1e-5));
  CHECK(rotated_dot(0, 0) == doctest::Approx(std::inner_product(q.begin(), q.end(), k.begin(), 0.0)).epsilon(1e-6));
}

TEST_CASE("llama layers: rope inverse frequencies follow Hugging Face's rules for each rope_scaling") {
  const int D = 64;
  RopeConfig rope;
  rope.theta = 500000.0f;
  const std::vector<float> plain = rope_inverse_frequencies(rope, D);
  REQUIRE(plain.size() == 32);
  for (int i = 0; i < 32; ++i) CHECK(plain[i] == doctest::Approx(std::pow(500000.0, -2.0 * i / D)).epsilon(1e-6));
  CHECK(plain[0] == 1.0f);

  rope.scaling = RopeScaling::Dynamic;  // within max_position_embeddings: the unscaled rule
  rope.factor = 2.0f;
  CHECK(rope_inverse_frequencies(rope, D) == plain);

  rope.scaling = RopeScaling::Linear;
  rope.factor = 4.0f;
  const std::vector<float> linear = rope_inverse_frequencies(rope, D);
  for (int i = 0; i < 32; ++i) CHECK(linear[i] == plain[i] / 4.0f);

  // Llama 3.1/3.2: factor 32, low 1, high 4, original context 8192 — wavelengths over 8192 divided by 32, under
  // 2048 kept, and blended between by smooth = (8192/wavelength − 1)/(4 − 1).
  rope.scaling = RopeScaling::Llama3;
  rope.factor = 32.0f;
  rope.low_freq_factor = 1.0f;
  rope.high_freq_factor = 4.0f;
  rope.original_context = 8192;
  const std::vector<float> llama3 = rope_inverse_frequencies(rope, D);
  int kept = 0, divided = 0, blended = 0;
  for (int i = 0; i < 32; ++i) {
    const double wavelength = 2 * M_PI / plain[i];
    CAPTURE(i);
    if (wavelength < 2048) {
      CHECK(llama3[i] == plain[i]);
      ++kept;
    } else if (wavelength > 8192) {
      CHECK(llama3[i] == doctest::Approx(plain[i] / 32.0).epsilon(1e-6));
      ++divided;
    } else {
      const double smooth = (8192 / wavelength - 1) / 3;
      CHECK(llama3[i] == doctest::Approx((1 - smooth) * plain[i] / 32 + smooth * plain[i]).epsilon(1e-6));
      ++blended;
    }
  }
  CHECK(kept > 0);
  CHECK(divided > 0);
  CHECK(blended > 0);

  // The table: angles p·inv_freq rounded to float, so position 0 is the identity.
  RotaryTable table;
  table.build(RopeConfig{}, 8, 3);
  for (int i = 0; i < 4; ++i) {
    CHECK(table.cos_at(0)[i] == 1.0f);
    CHECK(table.sin_at(0)[i] == 0.0f);
    const float inv_freq = rope_inverse_frequencies(RopeConfig{}, 8)[i];
    CHECK(table.cos_at(2)[i] == float(std::cos(double(2.0f * inv_freq))));
  }
}

TEST_CASE("llama layers: swiglu mlp backward matches finite differences, with and without biases") {
  for (bool bias : {true, false}) {
    CAPTURE(bias);
    const int N = 4, C = 5, H = 7;
    Rng rng(5);
    std::vector<float> in = random_values(N * C, rng), gate_up = random_values(2 * H * C, rng, 0.5f),
                       gate_up_bias = random_values(2 * H, rng, 0.5f), down = random_values(C * H, rng, 0.5f),
                       down_bias = random_values(C, rng);
    std::vector<float> din(in.size()), dgate_up(gate_up.size()), dgate_up_bias(gate_up_bias.size()),
        ddown(down.size()), ddown_bias(down_bias.size());
    SwigluCache cache;
    const SwigluWeights weights = {gate_up.data(), bias ? gate_up_bias.data() : nullptr, down.data(),
                                   bias ? down_bias.data() : nullptr};
    const SwigluGrads grads = {dgate_up.data(), bias ? dgate_up_bias.data() : nullptr, ddown.data(),
                               bias ? ddown_bias.data() : nullptr};
    auto forward = [&](std::vector<float>& out) {
      out.assign(N * C, 0.0f);
      swiglu_mlp_forward(nullptr, out.data(), cache, in.data(), weights, N, C, H);
    };
    auto backward = [&](const std::vector<float>& dout) {
      swiglu_mlp_backward(nullptr, din.data(), grads, dout.data(), in.data(), cache, weights, N, C, H);
    };
    std::vector<LayerInput> inputs = {{"in", &in, &din}, {"gate_up", &gate_up, &dgate_up}, {"down", &down, &ddown}};
    if (bias) {
      inputs.push_back({"gate_up_bias", &gate_up_bias, &dgate_up_bias});
      inputs.push_back({"down_bias", &down_bias, &ddown_bias});
    }
    check_layer_gradients(forward, backward, inputs, 1e-3f);
  }
}

TEST_CASE("llama layers: grouped-query attention backward matches finite differences") {
  // T = 37 spans two query blocks and a partial third; NH 4 query heads over 4 (multi-head), 2 and 1 (multi-query).
  const int B = 2, T = 37, NH = 4, D = 3;
  for (int KVH : {4, 2, 1}) {
    for (float dropout : {0.0f, 0.3f}) {
      CAPTURE(KVH);
      CAPTURE(dropout);
      const AttentionHeads heads{NH, KVH, D};
      const int QKV = (NH + 2 * KVH) * D;
      Rng rng(3);
      std::vector<float> qkv = random_values(int64_t(B) * T * QKV, rng), dqkv(qkv.size());
      AttentionCache cache;
      auto forward = [&](std::vector<float>& out) {
        out.assign(int64_t(B) * T * NH * D, 0.0f);
        Rng mask_rng(99);
        attention_forward(nullptr, out.data(), cache, qkv.data(), heads, dropout, &mask_rng, B, T);
      };
      auto backward = [&](const std::vector<float>& dout) {
        attention_backward(nullptr, dqkv.data(), dout.data(), qkv.data(), cache, heads, B, T);
      };
      check_layer_gradients(forward, backward, {{"qkv", &qkv, &dqkv}});
    }
  }
}

TEST_CASE("llama layers: grouped-query attention equals multi-head attention over repeated key/value heads") {
  // Hugging Face's repeat_kv: query head h reads key/value head h / (NH/KVH).
  const int B = 2, T = 11, NH = 6, KVH = 2, D = 5, group = NH / KVH;
  Rng rng(4);
  const std::vector<float> grouped = random_values(int64_t(B) * T * (NH + 2 * KVH) * D, rng);
  std::vector<float> repeated(int64_t(B) * T * 3 * NH * D);
  for (int64_t row = 0; row < int64_t(B) * T; ++row) {
    const float* in = grouped.data() + row * (NH + 2 * KVH) * D;
    float* out = repeated.data() + row * 3 * NH * D;
    for (int h = 0; h < NH; ++h) {
      for (int d = 0; d < D; ++d) {
        out[h * D + d] = in[h * D + d];
        out[(NH + h) * D + d] = in[(NH + h / group) * D + d];
        out[(2 * NH + h) * D + d] = in[(NH + KVH + h / group) * D + d];
      }
    }
  }
  std::vector<float> out_grouped(int64_t(B) * T * NH * D), out_repeated(out_grouped.size());
  AttentionCache cache;
  attention_forward(nullptr, out_grouped.data(), cache, grouped.data(), AttentionHeads{NH, KVH, D}, 0.0f, nullptr, B, T);
  attention_forward(nullptr, out_repeated.data(), cache, repeated.data(), 0.0f, nullptr, B, T, NH * D, NH);
  CHECK(out_grouped == out_repeated);

  // The cached (generation) path over the same keys: the last position of batch row 1.
  std::vector<float> keys(int64_t(KVH) * T * D), values(keys.size());
  for (int t = 0; t < T; ++t) {
    const float* row = grouped.data() + (int64_t(T) + t) * (NH + 2 * KVH) * D;
    for (int g = 0; g < KVH; ++g) {
      for (int d = 0; d < D; ++d) {
        keys[(int64_t(g) * T + t) * D + d] = row[(NH + g) * D + d];
        values[(int64_t(g) * T + t) * D + d] = row[(NH + KVH + g) * D + d];
      }
    }
  }
  std::vector<float> out_cached(NH * D), probs(NH * T);
  const float* last_query = grouped.data() + (2 * int64_t(T) - 1) * (NH + 2 * KVH) * D;
  attention_cached_forward(nullptr, out_cached.data(), probs.data(), last_query, keys.data(), values.data(), T, T,
                           AttentionHeads{NH, KVH, D});
  CHECK(relative_error(out_cached.data(), out_grouped.data() + (2 * int64_t(T) - 1) * NH * D, NH * D) <= 1e-5);
}
