// Sizes from configs, files and options: computed in saturating 64-bit arithmetic and checked against what the
// engine may allocate before any buffer is sized from them; a model file's tensors are checked against the file
// and the config before the model allocates; a diverged run keeps the last weights whose loss was finite.
#include <doctest/doctest.h>

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "io/safetensors.hpp"
#include "load_error.hpp"
#include "memory_limits.hpp"
#include "models/gpt.hpp"
#include "models/llama.hpp"
#include "models/recurrent_lm.hpp"
#include "tinylm/error.hpp"
#include "tinylm/model.hpp"
#include "train/trainer.hpp"

using namespace tinylm;
using tinylm::testing::load_error;

namespace {

// A tinylm file holding `config` and a tokenizer of `vocab` characters but only one small tensor.
std::vector<uint8_t> file_declaring(const nlohmann::json& config, const std::string& alphabet) {
  std::vector<float> values(4, 0.5f);
  const std::map<std::string, std::string> metadata = {{"format", "tinylm"},
                                                       {"format_version", "1"},
                                                       {"config", config.dump()},
                                                       {"tokenizer", fit_char_tokenizer(alphabet)->to_json().dump()}};
  return serialize_safetensors({{"head.bias", {4}, values.data()}}, metadata);
}

long peak_resident_kb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

LimitKind limit_kind_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const LimitError& error) {
    CHECK(error.bytes_needed > error.cap);
    return error.kind;
  }
  FAIL("no LimitError");
  return LimitKind::OutOfMemory;
}

}  // namespace

TEST_CASE("saturating size arithmetic never wraps") {
  CHECK(saturating_mul(uint64_t(1) << 32, uint64_t(1) << 31) == uint64_t(1) << 63);
  CHECK(saturating_mul(uint64_t(1) << 32, uint64_t(1) << 32) == kSaturated);
  CHECK(saturating_add(kSaturated - 1, 2) == kSaturated);
  CHECK(saturating_product(40, 7372, 7372, 2) == uint64_t(40) * 7372 * 7372 * 2);
  CHECK(saturating_product(int64_t(1) << 40, int64_t(1) << 40) == kSaturated);
  CHECK(saturating_product(3, -1) == kSaturated);
  CHECK_THROWS_WITH_AS(check_memory(3u << 30, 1u << 30, LimitKind::OutOfMemory, "training", "use a smaller batch"),
                       doctest::Contains("training needs 3.0 GiB (3221225472 bytes), more than the 1.0 GiB"),
                       LimitError);
}

TEST_CASE("a parameter table whose size overflows is refused as too large, never wrapped") {
  ParameterTable table;
  table.add("small", {4, 4}, true);
  CHECK(limit_kind_of([&] { table.add("huge", {int64_t(1) << 40, int64_t(1) << 40}, true); }) ==
        LimitKind::ModelTooLarge);
  CHECK(table.size() == 16);  // the refused tensor left the table as it was
}

TEST_CASE("a file whose config declares a huge model is refused before the model allocates") {
  // 64 layers of LSTM(16384): 1.4e11 parameters. Before the fix the loader allocated for them (std::bad_alloc,
  // or an allocation-size-too-big report under ASan) before it looked at the file's tensors.
  nlohmann::json recurrent = {{"arch", "lstm"}, {"vocab_size", 4},    {"embed_size", 16384},
                              {"hidden_size", 16384}, {"num_layers", 64}, {"dropout", 0}};
  const std::string message = load_error(file_declaring(recurrent, "abcd"));
  CHECK(message.find("(loaded without error)") == std::string::npos);
  INFO(message);
  CHECK((message.find("missing tensor") != std::string::npos || message.find("needs") != std::string::npos));

  nlohmann::json gpt = {{"arch", "gpt"},       {"vocab_size", 4}, {"context_size", 65536}, {"embed_size", 16384},
                        {"num_layers", 64},    {"num_heads", 16}, {"bias", true},          {"dropout", 0},
                        {"gelu", "exact"}};
  const std::string gpt_message = load_error(file_declaring(gpt, "abcd"));
  INFO(gpt_message);
  CHECK((gpt_message.find("missing tensor") != std::string::npos || gpt_message.find("needs") != std::string::npos));
}

TEST_CASE("tensors are checked against the config before allocation: a 2 GB config with one tensor") {
  // Under the engine's cap natively, so only the order of the checks keeps this from allocating (and zeroing)
  // 2 GB of weights and gradients before it names the first missing tensor. Each test case runs in a process of
  // its own (CTest), so the peak resident size before the load is the suite's start-up.
  nlohmann::json config = {{"arch", "rnn_tanh"}, {"vocab_size", 4},  {"embed_size", 8},
                           {"hidden_size", 8192}, {"num_layers", 2}, {"dropout", 0}};
  const long peak_before_kb = peak_resident_kb();
  const std::string message = load_error(file_declaring(config, "abcd"));
  CHECK(message.find("missing tensor 'embed.weight'") != std::string::npos);
  CHECK(peak_resident_kb() - peak_before_kb < 256 * 1024);
}

TEST_CASE("training refuses a batch that does not fit, before touching a buffer") {
  std::vector<int32_t> tokens(3000);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = int32_t(i % 5);
  RecurrentConfig config;
  config.vocab_size = 5;
  config.embed_size = 8;
  config.hidden_size = 64;
  config.num_layers = 2;
  RecurrentLM model(config);
  TrainOptions options;
  options.batch = 4096;
  options.seq = 512;
  const uint64_t needed = training_step_bytes(model, options);
  // At least the gate activations of both layers: (B·T, 4H) floats each.
  CHECK(needed >= 2 * uint64_t(4096) * 512 * 4 * 64 * sizeof(float));
  options.memory_cap = 64ull << 20;
  try {
    Trainer trainer(model, tokens, {}, options);
    FAIL("the trainer accepted a step larger than its memory cap");
  } catch (const LimitError& error) {
    CHECK(error.kind == LimitKind::OutOfMemory);
    CHECK(error.bytes_needed == needed);
    CHECK(std::string(error.what()).find("64.0 MiB") != std::string::npos);
  }
  // A GPT's attention probabilities grow with B·NH·T²: counted too.
  GptConfig gpt_config;
  gpt_config.vocab_size = 5;
  gpt_config.context_size = 512;
  gpt_config.embed_size = 16;
  gpt_config.num_heads = 4;
  gpt_config.num_layers = 2;
  GptLM gpt(gpt_config);
  options.batch = 64;
  CHECK(training_step_bytes(gpt, options) >= 2 * uint64_t(64) * 4 * 512 * 512 * sizeof(float));
}

TEST_CASE("a Llama's forward counts every activation buffer and refuses a batch past the cap before any") {
  LlamaConfig config;
  config.vocab_size = 7;
  config.context_size = 16;
  config.hidden_size = 12;
  config.intermediate_size = 20;
  config.num_layers = 2;
  config.num_heads = 4;
  config.num_kv_heads = 2;
  config.head_size = 4;
  LlamaLM model(config);
  // Counted by hand from the buffers forward() and backward() size, for B = 3, T = 5 (N = 15), QKV = (4 + 2·2)·4
  // = 32, NH·D = 16: per block row 4·12 + 32 + 16 + 6·20 + 2 = 218; per row above the blocks 5·12 + 16 + 32 +
  // 3·7 + 4 = 133; attention probabilities, dropout mask and dropped copy 3·L·B·NH·T² = 3·2·3·4·25, and a T² scratch.
  const uint64_t rows = 15 * (2 * 218 + 133);
  const uint64_t attention = 3 * 2 * 3 * 4 * 25 + 25;
  CHECK(model.forward_bytes(3, 5) == (rows + attention) * sizeof(float));
  // The attention term grows with B·NH·T² as GPT's does.
  TrainOptions options;
  options.batch = 64;
  options.seq = 16;
  CHECK(training_step_bytes(model, options) >= 2 * uint64_t(64) * 4 * 16 * 16 * sizeof(float));
  // 2^28 × 16 rows need terabytes: refused as OutOfMemory before a buffer (or the 4-token inputs) is read.
  const std::vector<int32_t> tokens(4, 1);
  CHECK(limit_kind_of([&] { model.forward(tokens.data(), tokens.data(), 1 << 28, 16, false, nullptr); }) ==
        LimitKind::OutOfMemory);
  CHECK(model.forward_bytes(1 << 30, 1 << 16) == kSaturated);
  // The model stays usable.
  const std::vector<int32_t> window = {1, 2, 3, 4}, next = {2, 3, 4, 5};
  CHECK(std::isfinite(model.forward(window.data(), next.data(), 1, 4, false, nullptr)));
}

TEST_CASE("a file whose config declares a huge Llama is refused before the model allocates") {
  LlamaConfig config;
  config.vocab_size = 4;
  config.context_size = 65536;
  config.hidden_size = 16384;
  config.intermediate_size = 16384;
  config.num_layers = 64;
  config.num_heads = 16;
  config.num_kv_heads = 16;
  config.head_size = 1024;
  const std::string message = load_error(file_declaring(config.to_json(), "abcd"));
  INFO(message);
  CHECK(message.find("needs") != std::string::npos);

  // Under the cap natively: only the order of the checks keeps this from allocating 1.3 GB of weights and
  // gradients before it names the first missing tensor.
  config.context_size = 64;
  config.hidden_size = 2048;  // 168M parameters: 4 layers of qkv 6144×2048, o 2048², gate/up/down 3 × 4096×2048
  config.intermediate_size = 4096;
  config.num_layers = 4;
  config.num_heads = 8;
  config.num_kv_heads = 8;
  config.head_size = 256;
  const long peak_before_kb = peak_resident_kb();
  const std::string missing = load_error(file_declaring(config.to_json(), "abcd"));
  INFO(missing);
  CHECK(missing.find("missing tensor 'model.embed_tokens.weight'") != std::string::npos);
  CHECK(peak_resident_kb() - peak_before_kb < 256 * 1024);
}

TEST_CASE("after divergence the parameters are the last ones whose loss was finite") {
  // SGD at lr 1e30: step 1's loss is finite but its update blows the weights up, so step 2's loss is not. The
  // weights kept must be step 1's inputs (finite, and a finite loss), not the blown-up ones.
  std::vector<int32_t> tokens(400);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = int32_t(i % 5);
  for (CellKind cell : {CellKind::RnnRelu}) {  // tanh and the gated cells saturate instead of diverging
    RecurrentConfig config;
    config.vocab_size = 5;
    config.embed_size = 4;
    config.hidden_size = 8;
    config.num_layers = 1;
    config.cell = cell;
    RecurrentLM model(config);
    Rng rng(1);
    model.initialize(rng);
    TrainOptions options;
    options.steps = 10;
    options.batch = 2;
    options.seq = 8;
    options.optimizer.kind = OptimizerKind::Sgd;
    options.optimizer.learning_rate = 1e30f;
    Trainer trainer(model, tokens, {}, options);
    bool diverged = false;
    for (int i = 0; i < 5 && !diverged; ++i) {
      try {
        trainer.step();
      } catch (const Error&) {
        diverged = true;
      }
    }
    REQUIRE(diverged);
    const std::vector<float>& values = model.parameters().values;
    CHECK(std::all_of(values.begin(), values.end(), [](float value) { return std::isfinite(value); }));
    std::vector<int32_t> inputs(tokens.begin(), tokens.begin() + 16), targets(tokens.begin() + 1, tokens.begin() + 17);
    model.reset_train_state();
    CHECK(std::isfinite(model.forward(inputs.data(), targets.data(), 2, 8, false, nullptr)));
  }
}
