// LoRA (lora/): the term's backward against finite differences (with dropout, and inside a wider fused row); GPT and
// Llama fine-tuned through adapters — adapter gradients against finite differences with the base frozen (no base
// gradients, base weights untouched by training), step() equal to the batched forward, a zero B equal to the bare
// base, merge/unmerge; several adapters resident, one active; targets matched as PEFT matches them. Adapter files
// are tested in test_lora_files.cpp.
#include <doctest/doctest.h>

#include <cmath>

#include "gradient_check.hpp"
#include "layer_gradient_check.hpp"
#include "lora/adapter_set.hpp"
#include "lora/lora_linear.hpp"
#include "lora/lora_model.hpp"
#include "lora_test_support.hpp"
#include "models/gpt.hpp"
#include "models/llama.hpp"
#include "tinylm/error.hpp"
#include "train/trainer.hpp"

using namespace tinylm;
using namespace tinylm::testing;

namespace {

double max_abs_difference(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(double(a[i]) - b[i]));
  return worst;
}

}  // namespace

// ---- the term -------------------------------------------------------------------------------------------

TEST_CASE("lora term: backward matches finite differences, alone and as a column range of a wider row, with dropout") {
  const int N = 5, I = 7, O = 4, r = 3, ldo = 11, column = 2;
  for (float dropout : {0.0f, 0.4f}) {
    CAPTURE(dropout);
    Rng rng(3);
    std::vector<float> in = random_values(size_t(N) * I, rng), A = random_values(size_t(r) * I, rng),
                       B = random_values(size_t(O) * r, rng);
    std::vector<float> din(in.size()), dA(A.size()), dB(B.size());
    LoraCache cache;
    auto weights = [&] { return LoraWeights{A.data(), B.data(), r, I, O, 0.7f}; };
    // The layer's output is the whole (N, ldo) block: columns outside [column, column+O) must stay as they were.
    std::vector<float> base = random_values(size_t(N) * ldo, rng);
    auto forward = [&](std::vector<float>& out) {
      out = base;
      Rng mask_rng(99);  // the same dropout mask at every evaluation
      lora_forward(nullptr, out.data() + column, ldo, cache, in.data(), weights(), N, dropout,
                   dropout > 0 ? &mask_rng : nullptr);
    };
    auto backward = [&](const std::vector<float>& dout) {
      lora_backward(nullptr, din.data(), {dA.data(), dB.data()}, dout.data() + column, ldo, in.data(), cache,
                    weights(), N);
    };
    check_layer_gradients(forward, backward, {{"in", &in, &din}, {"A", &A, &dA}, {"B", &B, &dB}}, 1e-2f);

    std::vector<float> out;
    forward(out);
    for (int n = 0; n < N; ++n)
      for (int j = 0; j < ldo; ++j)
        if (j < column || j >= column + O) CHECK(out[n * ldo + j] == base[n * ldo + j]);
  }
}

TEST_CASE("lora term: dropout keeps about 1−p of the inputs, scaled by 1/(1−p)") {
  const int N = 200, I = 50, O = 1, r = 1;
  std::vector<float> in(size_t(N) * I, 1.0f), A(I, 1.0f), B(1, 1.0f), out(N, 0.0f);
  LoraCache cache;
  Rng rng(5);
  lora_forward(nullptr, out.data(), 1, cache, in.data(), {A.data(), B.data(), r, I, O, 1.0f}, N, 0.25f, &rng);
  // Each row's output is Σ_i kept_i / 0.75: its mean over rows is I within sampling noise.
  double total = 0;
  for (float v : out) total += v;
  CHECK(std::abs(total / N - I) < 0.05 * I);
  CHECK(cache.keep_scale == doctest::Approx(1.0f / 0.75f));
}

// ---- models through adapters ------------------------------------------------------------------------------

TEST_CASE("lora gpt: adapter gradients match finite differences on every linear; the base stays frozen") {
  GptLM base(gpt_config());
  perturb(base, 4, 0.2f);
  const std::vector<float> base_weights = base.parameters().values;
  auto adapter = random_adapter(base, lora_config({"c_attn", "c_proj", "c_fc"}), 8);
  CHECK(adapter->terms().size() == 8);  // c_proj names both the attention's and the MLP's
  LoraModel model(base, *adapter);
  CHECK(base.frozen());
  CHECK(base.parameters().grads.empty());
  const int B = 2, T = 6;
  std::vector<int32_t> inputs = random_ids(B * T, 11, 1), targets = random_ids(B * T, 11, 2);
  targets[3] = -1;
  GradientCheckOptions options;
  options.epsilon = 3e-3f;
  check_gradients(model, inputs, targets, B, T, options);

  // A few optimizer steps move the adapter and leave every base weight bit for bit as it was.
  std::vector<int32_t> text = random_ids(200, 11, 3);
  TrainOptions train;
  train.steps = 3;
  train.batch = 2;
  train.seq = 6;
  train.memory_cap = uint64_t(1) << 30;
  const std::vector<float> adapter_before = adapter->parameters().values;
  Trainer trainer(model, text, {}, train);
  for (int i = 0; i < 3; ++i) trainer.step();
  CHECK(base.parameters().values == base_weights);
  CHECK(adapter->parameters().values != adapter_before);
}

TEST_CASE("lora llama: adapter gradients match finite differences on q/k/v/o and gate/up/down (grouped heads)") {
  LlamaLM base(llama_config());
  perturb(base, 5, 0.3f);
  auto adapter =
      random_adapter(base, lora_config({"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}), 9);
  CHECK(adapter->terms().size() == 14);
  LoraModel model(base, *adapter);
  const int B = 2, T = 6;
  std::vector<int32_t> inputs = random_ids(B * T, 13, 4), targets = random_ids(B * T, 13, 5);
  GradientCheckOptions options;
  options.epsilon = 3e-3f;
  check_gradients(model, inputs, targets, B, T, options);
}

TEST_CASE("lora: with dropout the gradient is that of the same masks (finite differences with a fixed draw)") {
  LlamaLM base(llama_config());
  perturb(base, 5, 0.3f);
  LoraConfig config = lora_config({"q_proj", "down_proj"});
  config.dropout = 0.3f;
  auto adapter = random_adapter(base, config, 10);
  LoraModel model(base, *adapter);
  const int B = 1, T = 5;
  const std::vector<int32_t> inputs = random_ids(B * T, 13, 6), targets = random_ids(B * T, 13, 7);
  Parameters& params = model.parameters();
  auto loss_at = [&] {
    Rng rng(21);
    return double(model.forward(inputs.data(), targets.data(), B, T, true, &rng));
  };
  loss_at();
  params.zero_grad();
  model.backward();
  const std::vector<float> analytic = params.grads;
  const float epsilon = 3e-3f;
  Rng pick(2);
  for (int sample = 0; sample < 24; ++sample) {
    const size_t i = pick.below(uint32_t(params.values.size()));
    const float original = params.values[i];
    params.values[i] = original + epsilon;
    const double plus = loss_at();
    params.values[i] = original - epsilon;
    const double minus = loss_at();
    params.values[i] = original;
    const double numeric = (plus - minus) / (2 * epsilon);
    CAPTURE(i);
    CHECK(std::abs(numeric - analytic[i]) <= 2e-3 + 2e-2 * std::abs(numeric));
  }
  // Dropout draws only when training: evaluation is deterministic and equals a dropout-free adapter's.
  const std::vector<float> eval_a = forward_logits(model, inputs, B, T), eval_b = forward_logits(model, inputs, B, T);
  CHECK(eval_a == eval_b);
}

TEST_CASE("lora: a fresh adapter (B = 0) leaves the logits unchanged; A is Kaiming-uniform within ±1/√in") {
  GptLM base(gpt_config());
  perturb(base, 4, 0.2f);
  const std::vector<int32_t> ids = random_ids(12, 11, 1);
  const std::vector<float> bare = forward_logits(base, ids, 2, 6);
  const std::vector<LinearModule> modules = base.linear_modules();
  LoraConfig config = lora_config({"c_attn", "c_fc"}, 4, 8.0f);
  LoraAdapter adapter(config, modules, LoraAdapter::targeted_modules(config, modules));
  Rng rng(1);
  adapter.initialize(rng);
  for (const LoraAdapter::Term& term : adapter.terms()) {
    const LoraWeights w = adapter.weights(term);
    float largest = 0;
    for (int64_t i = 0; i < int64_t(w.rank) * w.in; ++i) largest = std::max(largest, std::abs(w.A[i]));
    CHECK(largest <= 1.0f / std::sqrt(float(w.in)));
    CHECK(largest > 0.5f / std::sqrt(float(w.in)));
    for (int64_t i = 0; i < int64_t(w.out) * w.rank; ++i) CHECK(w.B[i] == 0.0f);
  }
  LoraModel model(base, adapter);
  CHECK(forward_logits(model, ids, 2, 6) == bare);
}

TEST_CASE("lora: step() with an adapter reproduces the batched forward (GPT and Llama)") {
  GptLM gpt(gpt_config());
  perturb(gpt, 4, 0.2f);
  gpt.set_step_precision(GptLM::StepPrecision::Float);
  LlamaLM llama(llama_config());
  perturb(llama, 5, 0.3f);
  llama.set_step_precision(LlamaLM::StepPrecision::Float);
  auto gpt_adapter = random_adapter(gpt, lora_config({"c_attn", "c_proj", "c_fc"}), 1);
  auto llama_adapter = random_adapter(
      llama, lora_config({"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}), 2);
  std::vector<std::pair<TrainableModel*, LoraAdapter*>> cases = {{&gpt, gpt_adapter.get()},
                                                                 {&llama, llama_adapter.get()}};
  for (const auto& entry : cases) {
    TrainableModel* base = entry.first;
    LoraAdapter* adapter = entry.second;
    CAPTURE(base->arch());
    LoraModel model(*base, *adapter);
    const int T = 7, V = model.vocab_size();
    const std::vector<int32_t> ids = random_ids(T, V, 3);
    const std::vector<float> batched = forward_logits(model, ids, 1, T);
    const std::vector<float> bare = forward_logits(*base, ids, 1, T);  // attached: the same as through the wrapper
    CHECK(bare == batched);
    model.reset_state();
    for (int t = 0; t < T; ++t) {
      const float* row = model.step(ids[t]);
      for (int v = 0; v < V; ++v) CHECK(row[v] == doctest::Approx(batched[t * V + v]).epsilon(1e-4));
    }
  }
}

TEST_CASE("lora: merging folds the adapter into the weights (same logits); unmerging restores them") {
  LlamaLM base(llama_config());
  perturb(base, 5, 0.3f);
  const std::vector<float> original = base.parameters().values;
  AdapterSet set(base);
  set.add("alice", random_adapter(base, lora_config({"q_proj", "v_proj", "down_proj"}), 3));
  const std::vector<int32_t> ids = random_ids(12, 13, 4);
  set.activate("alice");
  const std::vector<float> adapted = forward_logits(base, ids, 2, 6);
  set.merge("alice");
  CHECK(set.active().empty());
  CHECK(max_abs_difference(forward_logits(base, ids, 2, 6), adapted) < 1e-5);
  CHECK_THROWS_WITH_AS(set.activate("alice"), doctest::Contains("merged into the weights already"), Error);
  CHECK_THROWS_WITH_AS(set.remove("alice"), doctest::Contains("unmerge it"), Error);
  set.unmerge();
  CHECK(max_abs_difference(base.parameters().values, original) < 1e-6);
}

TEST_CASE("lora: several adapters resident, one active per call or none") {
  GptLM base(gpt_config());
  perturb(base, 4, 0.2f);
  const std::vector<int32_t> ids = random_ids(6, 11, 5);
  const std::vector<float> bare = forward_logits(base, ids, 1, 6);
  AdapterSet set(base);
  set.add("alice", random_adapter(base, lora_config({"c_attn"}), 1));
  set.add("bob", random_adapter(base, lora_config({"c_fc"}, 2), 2));
  CHECK(set.names() == std::vector<std::string>{"alice", "bob"});
  set.activate("alice");
  const std::vector<float> alice = forward_logits(base, ids, 1, 6);
  set.activate("bob");
  const std::vector<float> bob = forward_logits(base, ids, 1, 6);
  CHECK(max_abs_difference(alice, bare) > 1e-3);
  CHECK(max_abs_difference(bob, alice) > 1e-3);
  set.activate("alice");
  CHECK(forward_logits(base, ids, 1, 6) == alice);
  set.activate("");
  CHECK(forward_logits(base, ids, 1, 6) == bare);
  set.activate("bob");
  set.remove("bob");
  CHECK(set.active().empty());
  CHECK(forward_logits(base, ids, 1, 6) == bare);
  CHECK_THROWS_WITH_AS(set.activate("carol"), doctest::Contains("resident: alice"), Error);
  LlamaLM other(llama_config());
  auto foreign = random_adapter(other, lora_config({"q_proj"}), 3);
  CHECK_THROWS_WITH_AS(set.add("foreign", std::move(foreign)), doctest::Contains("linear layers"), Error);
}

TEST_CASE("lora: targets follow PEFT's suffix matching; a target matching nothing lists the model's linears") {
  GptLM gpt(gpt_config());
  LlamaLM llama(llama_config());
  const std::vector<LinearModule> gpt_modules = gpt.linear_modules(), llama_modules = llama.linear_modules();
  CHECK(LoraAdapter::targeted_modules(lora_config({"attn.c_proj"}), gpt_modules) == std::vector<int>{1, 5});
  CHECK(LoraAdapter::targeted_modules(lora_config({"q_proj", "v_proj"}), llama_modules) ==
        std::vector<int>{0, 2, 7, 9});
  CHECK(LoraAdapter::targeted_modules(lora_config({"model.layers.1.mlp.up_proj"}), llama_modules) ==
        std::vector<int>{12});
  CHECK_THROWS_WITH_AS(LoraAdapter::targeted_modules(lora_config({"proj"}), llama_modules),
                       doctest::Contains("q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj"), Error);
  CHECK_THROWS_WITH_AS(LoraAdapter::targeted_modules(lora_config({"q_proj"}), gpt_modules),
                       doctest::Contains("c_attn, c_proj, c_fc"), Error);
  LoraConfig bad = lora_config({"q_proj"}, 0);
  CHECK_THROWS_WITH_AS(bad.validate(), doctest::Contains("rank must be in [1, 4096], got 0"), Error);
  bad = lora_config({"q_proj"});
  bad.dropout = 1.0f;
  CHECK_THROWS_WITH_AS(bad.validate(), doctest::Contains("dropout must be in [0, 1), got 1"), Error);
}
