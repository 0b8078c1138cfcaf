// Compact residency (compact_matrices.hpp): matrices held only as F16 panels or int8 rows with per-row scales.
// The store against half rounding and the int8 rule row by row (stacked tensors at rows that split a panel), its
// products against float products of the same values, and whole GPT and Llama models loaded compact against the
// same files loaded as floats: every step while the window slides and evaluate(), with the float block holding
// only the 1-D tensors, and training and saving refused with the reason.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "compact_matrices.hpp"
#include "half.hpp"
#include "io/safetensors.hpp"
#include "kernels/kernels.hpp"
#include "layer_gradient_check.hpp"
#include "models/gpt.hpp"
#include "models/llama.hpp"
#include "tinylm/error.hpp"
#include "tinylm/model.hpp"
#include "tinylm/rng.hpp"

using namespace tinylm;
using namespace tinylm::testing;

namespace {

// What the store should give back for one value of row `row`: half rounding, or the int8 rule (kernels.hpp).
std::vector<float> expected_rows(CompactKind kind, const std::vector<float>& values, int rows, int cols) {
  std::vector<float> expected(values.size());
  if (kind == CompactKind::F16) {
    for (size_t i = 0; i < values.size(); ++i) expected[i] = half_to_float(float_to_half(values[i]));
    return expected;
  }
  std::vector<int8_t> q(values.size());
  std::vector<float> scales(static_cast<size_t>(rows));
  REQUIRE(quantize_rows_int8(q.data(), scales.data(), values.data(), rows, cols));
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) expected[size_t(r) * cols + c] = scales[r] * float(q[size_t(r) * cols + c]);
  return expected;
}

// A model file's bytes with the matrices stored as `storage`, so loading it as floats gives exactly the values a
// compact load holds.
template <typename Network, typename Config>
std::vector<uint8_t> model_bytes(const Config& config, WeightStorage storage, uint64_t seed) {
  Model model;
  model.tokenizer = fit_char_tokenizer("abcdefghijklm");
  Config sized = config;
  sized.vocab_size = model.tokenizer->vocab_size();
  auto network = std::make_unique<Network>(sized);
  Rng rng(seed);
  network->initialize(rng);
  for (float& v : network->parameters().values) v += 0.3f * rng.normal();
  model.network = std::move(network);
  return serialize_model(model, storage);
}

template <typename Network>
void check_compact_against_float(const std::vector<uint8_t>& bytes, Residency residency) {
  Model floats = load_model_bytes(bytes.data(), bytes.size());
  Model compact = load_model_bytes(bytes.data(), bytes.size(), residency);
  auto& reference = dynamic_cast<Network&>(*floats.network);
  auto& held = dynamic_cast<Network&>(*compact.network);
  reference.set_step_precision(Network::StepPrecision::Float);
  held.set_step_precision(Network::StepPrecision::Float);  // read as held: precision does not apply

  // The float block keeps the 1-D tensors only; the matrices take a half or a quarter of their float bytes.
  uint64_t vector_floats = 0, matrix_floats = 0;
  for (const TensorSpec& spec : reference.parameters().table.tensors())
    (spec.shape.size() == 2 ? matrix_floats : vector_floats) += uint64_t(shape_numel(spec.shape));
  CHECK(held.parameters().values.size() == vector_floats);
  CHECK(held.parameters().table.count() == vector_floats + matrix_floats);
  const uint64_t compact_bytes = held.parameters().table.compact_bytes();
  if (residency == Residency::Int8) CHECK(compact_bytes < matrix_floats * 2);
  else CHECK(compact_bytes < matrix_floats * 3);
  CHECK(held.parameters().grads.empty());

  // Steps while the window slides (context 8), and evaluation. Int8 steps multiply their inputs quantised per token
  // (kernels.hpp: sgemm_q8_panels), which the float steps do not: that moves the logits by up to 6.4e-2 (GPT) and 4.1e-2
  // (Llama) of their largest here (each product's inputs rounded to 1/254 of their row's largest, compounded through
  // two layers of small noisy matrices), hence 1.5e-1 against floats; the float model stepping through int8 copies
  // (the same bytes) must agree to float rounding.
  Model same_product = load_model_bytes(bytes.data(), bytes.size());
  auto& int8_steps = dynamic_cast<Network&>(*same_product.network);
  int8_steps.set_step_precision(Network::StepPrecision::Int8);
  const int V = reference.vocab_size();
  const std::vector<int32_t> stream = random_ids(30, V, 5);
  double worst = 0, worst_same_product = 0;
  for (int32_t token : stream) {
    const float* a = reference.step(token);
    const std::vector<float> want(a, a + V);
    const float* c = int8_steps.step(token);
    const std::vector<float> want_int8(c, c + V);
    const float* got = held.step(token);
    worst = std::max(worst, relative_error(got, want.data(), V));
    worst_same_product = std::max(worst_same_product, relative_error(got, want_int8.data(), V));
  }
  CHECK(worst <= (residency == Residency::Int8 ? 1.5e-1 : 1e-5));
  if (residency == Residency::Int8) CHECK(worst_same_product <= 1e-5);
  const EvalStats a = reference.evaluate(stream), b = held.evaluate(stream);
  CHECK(b.tokens == a.tokens);
  CHECK(std::abs(b.loss - a.loss) <= 1e-5 * a.loss);

  // Training and saving need the floats.
  const std::vector<int32_t> inputs(stream.begin(), stream.begin() + 8), targets(stream.begin() + 1, stream.begin() + 9);
  Rng rng(1);
  CHECK_THROWS_WITH_AS(held.forward(inputs.data(), targets.data(), 1, 8, true, &rng),
                       doctest::Contains("load it with float weights to train it"), Error);
  CHECK_THROWS_WITH_AS(serialize_model(compact), doctest::Contains(compact_kind_name(compact_kind_of(residency))),
                       Error);
  // The refused calls left the model usable.
  CHECK(std::isfinite(held.forward(inputs.data(), targets.data(), 1, 8, false, nullptr)));
}

}  // namespace

TEST_CASE("compact matrices: rows stored at any offset read back rounded, and products match float products") {
  for (CompactKind kind : {CompactKind::F16, CompactKind::Int8}) {
    CAPTURE(compact_kind_name(kind));
    // Two tensors stacked into one slot (rows 0–12 and 13–29: the second starts inside a panel) and a third slot.
    const int cols = 19;
    CompactMatrices store(kind);
    REQUIRE(store.add(30, cols) == 0);
    REQUIRE(store.add(5, cols) == 1);
    store.allocate();
    CHECK(store.bytes() == CompactMatrices::bytes_for(kind, 30, cols) + CompactMatrices::bytes_for(kind, 5, cols));
    Rng rng(7);
    const std::vector<float> top = random_values(13 * cols, rng, 0.5f), bottom = random_values(17 * cols, rng, 2.0f);
    const std::vector<float> other = random_values(5 * cols, rng);
    REQUIRE(store.set_rows(0, 13, 17, bottom.data()));
    REQUIRE(store.set_rows(0, 0, 13, top.data()));
    REQUIRE(store.set(1, other.data()));
    std::vector<float> whole(top);
    whole.insert(whole.end(), bottom.begin(), bottom.end());
    std::vector<float> expected = expected_rows(kind, top, 13, cols);
    const std::vector<float> expected_bottom = expected_rows(kind, bottom, 17, cols);
    expected.insert(expected.end(), expected_bottom.begin(), expected_bottom.end());
    std::vector<float> read(30 * cols);
    store.to_float(0, read.data());
    CHECK(read == expected);
    std::vector<float> row(cols);
    store.row(1, 4, row.data());
    const std::vector<float> other_expected = expected_rows(kind, other, 5, cols);
    CHECK(std::equal(row.begin(), row.end(), other_expected.begin() + 4 * cols));

    // Two vectors through the stored matrix, against sgemv on the values it holds. Int8 weights multiply the
    // vectors quantised per row (kernels.hpp: sgemm_q8_panels): each input moves by at most half its row's step s/2, so
    // an output moves by at most Σ_k |w_k| · s/2 beyond float rounding — and the batch's rows (matrix_rows) give
    // the steps' bits.
    const std::vector<float> x = random_values(2 * cols, rng);
    std::vector<float> y(2 * 30, 1.0f), reference(2 * 30, 1.0f);
    matrix_vector(nullptr, y.data(), store.view(0), x.data(), 1.0f, 2);
    sgemv(reference.data(), expected.data(), cols, x.data(), 30, cols, 1.0f, 2);
    if (kind == CompactKind::F16) {
      CHECK(relative_error(y.data(), reference.data(), 60) <= 1e-6);
    } else {
      for (int n = 0; n < 2; ++n) {
        float max_x = 0.0f;
        for (int k = 0; k < cols; ++k) max_x = std::max(max_x, std::fabs(x[n * cols + k]));
        const double step = max_x / 127.0;
        for (int i = 0; i < 30; ++i) {
          double weight_sum = 0.0;
          for (int k = 0; k < cols; ++k) weight_sum += std::fabs(expected[size_t(i) * cols + k]);
          CHECK(std::fabs(y[n * 30 + i] - reference[n * 30 + i]) <= weight_sum * step / 2 + 1e-5);
        }
      }
      std::vector<float> batch(3 * 30);
      const std::vector<float> bias = random_values(30, rng);
      std::vector<float> three(x);
      three.insert(three.end(), x.begin(), x.begin() + cols);  // a third row: the first again
      matrix_rows(nullptr, batch.data(), store.view(0), three.data(), bias.data(), 3);
      std::vector<float> steps(3 * 30);
      for (int n = 0; n < 3; ++n) {
        std::copy(bias.begin(), bias.end(), steps.begin() + n * 30);
        matrix_vector(nullptr, steps.data() + n * 30, store.view(0), three.data() + n * cols, 1.0f, 1);
      }
      CHECK(std::memcmp(batch.data(), steps.data(), batch.size() * sizeof(float)) == 0);
    }
    // A value the form cannot hold is refused.
    std::vector<float> bad(5 * cols, 0.0f);
    bad[3] = kind == CompactKind::F16 ? 1e6f : NAN;
    CHECK_FALSE(store.set(1, bad.data()));
  }
}

TEST_CASE("compact matrices: rows converted in any split give the bytes of the whole conversion") {
  // The batched forward converts a layer's matrices over the thread pool in row ranges (ForwardWeights): ranges that
  // keep F16 panel groups whole, and ragged ones, must give what one conversion of the whole matrix gives.
  const int group = CompactMatrices::conversion_rows();
  for (CompactKind kind : {CompactKind::F16, CompactKind::Int8}) {
    CAPTURE(compact_kind_name(kind));
    const int rows = 5 * group + 3, cols = 21;
    CompactMatrices store(kind);
    store.add(rows, cols);
    store.allocate();
    Rng rng(11);
    REQUIRE(store.set(0, random_values(size_t(rows) * cols, rng).data()));
    std::vector<float> whole(size_t(rows) * cols);
    store.to_float(0, whole.data());
    for (const std::vector<int> cuts : {std::vector<int>{0, group, 3 * group, rows}, std::vector<int>{0, 1, group + 2, rows - 1, rows}}) {
      std::vector<float> split(whole.size(), -1.0f);
      for (size_t i = 0; i + 1 < cuts.size(); ++i)
        store.to_float_rows(0, cuts[i], cuts[i + 1] - cuts[i], split.data() + size_t(cuts[i]) * cols);
      CHECK(std::memcmp(split.data(), whole.data(), whole.size() * sizeof(float)) == 0);
    }
  }
}

TEST_CASE("compact matrices: every finite F16 value converts back to the float half_to_float gives, bit for bit") {
  // The panel conversion has its own path for normal numbers; zeros of both signs and subnormals take the general one.
  std::vector<float> values;
  for (uint32_t bits = 0; bits < 0x10000u; ++bits)
    if ((bits & 0x7c00u) != 0x7c00u) values.push_back(half_to_float(uint16_t(bits)));
  const int cols = 64, rows = int((values.size() + cols - 1) / cols);
  values.resize(size_t(rows) * cols, 0.0f);
  CompactMatrices store(CompactKind::F16);
  store.add(rows, cols);
  store.allocate();
  REQUIRE(store.set(0, values.data()));
  std::vector<float> read(values.size());
  store.to_float(0, read.data());
  CHECK(std::memcmp(read.data(), values.data(), values.size() * sizeof(float)) == 0);
}

TEST_CASE("compact residency: a GPT held as F16 or int8 steps and evaluates as the same weights held as floats") {
  GptConfig config;
  config.context_size = 8;
  config.embed_size = 24;
  config.num_layers = 2;
  config.num_heads = 3;
  config.bias = true;
  const std::vector<uint8_t> f16 = model_bytes<GptLM>(config, WeightStorage::F16, 3);
  const std::vector<uint8_t> int8 = model_bytes<GptLM>(config, WeightStorage::Int8, 3);
  check_compact_against_float<GptLM>(f16, Residency::F16);
  check_compact_against_float<GptLM>(int8, Residency::Int8);
}

TEST_CASE("compact residency: a Llama (q, k, v and gate, up stacked) held as F16 or int8 matches its floats") {
  LlamaConfig config;
  config.context_size = 8;
  config.hidden_size = 20;
  config.intermediate_size = 36;
  config.num_layers = 2;
  config.num_heads = 4;
  config.num_kv_heads = 2;
  config.head_size = 6;  // QD 24, KD 12: k and v start inside a half panel
  config.tie_embeddings = false;
  config.attention_bias = true;
  const std::vector<uint8_t> f16 = model_bytes<LlamaLM>(config, WeightStorage::F16, 4);
  const std::vector<uint8_t> int8 = model_bytes<LlamaLM>(config, WeightStorage::Int8, 4);
  check_compact_against_float<LlamaLM>(f16, Residency::F16);
  check_compact_against_float<LlamaLM>(int8, Residency::Int8);
  config.tie_embeddings = true;
  check_compact_against_float<LlamaLM>(model_bytes<LlamaLM>(config, WeightStorage::F16, 5), Residency::F16);
}
