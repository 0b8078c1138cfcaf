// Batched prefill (LanguageModel::prefill; gpt_prefill.cpp, llama_prefill.cpp): a prompt fed in chunks of batched
// rows leaves a GPT or a Llama where the same tokens' steps leave it — the logits after every chunk and through the
// generation that follows within 1e-5 relative (int8 products without an adapter: the same bits), the same window and
// KV cache — with weights held as floats, as F16 or int8 (and float weights read through half or int8 step copies),
// with a LoRA adapter attached, in chunks of 1, 7
// and 64 tokens, across window slides; the same bits on 1 to 4 threads; and through Generator and a session's turns.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "generate/generator.hpp"
#include "generate/session.hpp"
#include "layer_gradient_check.hpp"
#include "lora/lora_adapter.hpp"
#include "models/gpt.hpp"
#include "models/llama.hpp"
#include "parallel/thread_pool.hpp"
#include "tinylm/error.hpp"
#include "tinylm/rng.hpp"

using namespace tinylm;
using namespace tinylm::testing;

namespace {

const char* kAlphabet = "abcdefghijklmnopqrstuvwxyz .,";

GptConfig gpt_config(int context, int width) {
  GptConfig config;
  config.context_size = context;
  config.embed_size = width;
  config.num_layers = 2;
  config.num_heads = 4;
  return config;
}

LlamaConfig llama_config(int context, int width) {
  LlamaConfig config;
  config.context_size = context;
  config.hidden_size = width;
  config.intermediate_size = 2 * width + 8;
  config.num_layers = 2;
  config.num_heads = 4;
  config.num_kv_heads = 2;
  config.head_size = width / 4;
  config.tie_embeddings = false;
  config.attention_bias = true;
  return config;
}

// A model file's bytes (weights perturbed so the logits spread), stored as `storage`.
template <typename Network, typename Config>
std::vector<uint8_t> model_bytes(const Config& config, WeightStorage storage, uint64_t seed) {
  Model model;
  model.tokenizer = fit_char_tokenizer(kAlphabet);
  Config sized = config;
  sized.vocab_size = model.tokenizer->vocab_size();
  auto network = std::make_unique<Network>(sized);
  Rng rng(seed);
  network->initialize(rng);
  for (float& v : network->parameters().values) v += 0.2f * rng.normal();
  model.network = std::move(network);
  return serialize_model(model, storage);
}

// Every linear adapted, B not zero, so the adapter changes every projection.
std::unique_ptr<LoraAdapter> random_adapter(const TrainableModel& model, uint64_t seed) {
  LoraConfig config;
  config.rank = 3;
  config.alpha = 6.0f;
  std::vector<int> all;
  const std::vector<LinearModule> modules = model.linear_modules();
  for (size_t i = 0; i < modules.size(); ++i) {
    all.push_back(int(i));
    config.targets.push_back(modules[i].path);
  }
  auto adapter = std::make_unique<LoraAdapter>(config, modules, all);
  Rng rng(seed);
  for (float& v : adapter->parameters().values) v = 0.3f * rng.normal();
  return adapter;
}

struct Trace {
  std::vector<float> logits;      // (positions, V): after each fed token (steps) or each chunk's last (prefill)
  std::vector<int32_t> window;    // the window after the prompt
  GenerationState state;          // the cache after the prompt
  std::vector<float> generated;   // (count, V): logits through greedy generation after the prompt
  std::vector<int32_t> tokens;    // the greedy tokens
};

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(float) * a.size()) == 0;
}

int32_t argmax(const float* logits, int V) { return int32_t(std::max_element(logits, logits + V) - logits); }

// Feeds the prompt by steps (chunk 0) or by prefill() calls of `chunk` tokens, then generates `count` tokens
// greedily by steps.
template <typename Network>
Trace feed(Network& model, const std::vector<int32_t>& prompt, int chunk, int count) {
  const int V = model.vocab_size();
  Trace trace;
  model.reset_state();
  const float* logits = nullptr;
  const int n = int(prompt.size());
  for (int i = 0; i < n;) {
    const int take = chunk == 0 ? 1 : std::min(chunk, n - i);
    logits = chunk == 0 ? model.step(prompt[i]) : model.prefill(prompt.data() + i, take);
    i += take;
    trace.logits.insert(trace.logits.end(), logits, logits + V);
  }
  trace.window = model.window_tokens();
  model.save_state(&trace.state);
  for (int t = 0; t < count; ++t) {
    const int32_t token = argmax(logits, V);
    trace.tokens.push_back(token);
    logits = model.step(token);
    trace.generated.insert(trace.generated.end(), logits, logits + V);
  }
  return trace;
}

// Prefill in chunks of 1, 7 and 64 against steps: logits after each chunk, window, cache, and generation after it.
// `exact`: int8 products without an adapter sum on integers (sgemm_q8_panels), so the batch must give the steps' bits.
template <typename Network>
void check_prefill_equals_steps(Network& model, const std::vector<int32_t>& prompt, bool exact = false) {
  const int V = model.vocab_size(), n = int(prompt.size());
  const Trace steps = feed(model, prompt, 0, 12);
  for (int chunk : {1, 7, 64}) {
    CAPTURE(chunk);
    const Trace batched = feed(model, prompt, chunk, 12);
    double worst = 0;
    for (int i = 0, c = 0; i < n; i += chunk, ++c) {
      const int last = std::min(i + chunk, n) - 1;  // the chunk's last token
      worst = std::max(worst, relative_error(batched.logits.data() + int64_t(c) * V,
                                             steps.logits.data() + int64_t(last) * V, V));
    }
    CHECK(worst <= (exact ? 0.0 : 1e-5));
    CHECK(batched.window == steps.window);
    CHECK(batched.state.ints == steps.state.ints);
    REQUIRE(batched.state.floats.size() == steps.state.floats.size());
    CHECK(relative_error(batched.state.floats.data(), steps.state.floats.data(), int(steps.state.floats.size())) <=
          1e-5);
    CHECK(batched.tokens == steps.tokens);
    CHECK(relative_error(batched.generated.data(), steps.generated.data(), int(steps.generated.size())) <= 1e-5);
  }
}

template <typename Network, typename Config>
void check_every_residency(const Config& config, uint64_t seed) {
  // Context 16: a 50-token prompt fills the window, slides it four times and runs shadow rows in most batches.
  const std::vector<int32_t> prompt = random_ids(50, int(std::string(kAlphabet).size()), seed + 1);
  const struct {
    WeightStorage storage;
    Residency residency;
    typename Network::StepPrecision precision;
    const char* name;
  } forms[] = {
      {WeightStorage::F32, Residency::Float, Network::StepPrecision::Float, "float"},
      {WeightStorage::F32, Residency::Float, Network::StepPrecision::Half, "float, half step copies"},
      {WeightStorage::F32, Residency::Float, Network::StepPrecision::Int8, "float, int8 step copies"},
      {WeightStorage::F16, Residency::F16, Network::StepPrecision::Float, "held as F16"},
      {WeightStorage::Int8, Residency::Int8, Network::StepPrecision::Float, "held as int8"},
  };
  for (const auto& form : forms) {
    CAPTURE(form.name);
    const std::vector<uint8_t> bytes = model_bytes<Network>(config, form.storage, seed);
    Model loaded = load_model_bytes(bytes.data(), bytes.size(), form.residency);
    auto& model = dynamic_cast<Network&>(*loaded.network);
    model.set_step_precision(form.precision);
    check_prefill_equals_steps(model, prompt,
                               form.residency == Residency::Int8 || form.precision == Network::StepPrecision::Int8);
    const std::unique_ptr<LoraAdapter> adapter = random_adapter(model, seed + 2);
    model.set_linear_adapter(adapter.get());
    check_prefill_equals_steps(model, prompt);
    model.set_linear_adapter(nullptr);
  }
}

}  // namespace

TEST_CASE("prefill: a GPT's batched prompt equals its steps, every residency, with LoRA, across window slides") {
  check_every_residency<GptLM>(gpt_config(16, 32), 11);
}

TEST_CASE("prefill: a Llama's batched prompt equals its steps, every residency, with LoRA, across window slides") {
  check_every_residency<LlamaLM>(llama_config(16, 32), 12);
}

TEST_CASE("prefill: long batches (64 rows and more) through matrices that split over threads") {
  // Context 160: the first batches run 64 rows, the ones past the midpoint 64 visible plus their shadow rows; widths
  // large enough that the products and the attention cut into several chunks.
  const std::vector<int32_t> prompt = random_ids(200, int(std::string(kAlphabet).size()), 3);
  for (WeightStorage storage : {WeightStorage::F32, WeightStorage::F16, WeightStorage::Int8}) {
    const Residency residency = storage == WeightStorage::F32 ? Residency::Float
                                : storage == WeightStorage::F16 ? Residency::F16
                                                                : Residency::Int8;
    CAPTURE(int(storage));
    const std::vector<uint8_t> gpt_bytes = model_bytes<GptLM>(gpt_config(160, 128), storage, 21);
    const std::vector<uint8_t> llama_bytes = model_bytes<LlamaLM>(llama_config(160, 128), storage, 22);
    Model gpt = load_model_bytes(gpt_bytes.data(), gpt_bytes.size(), residency);
    Model llama = load_model_bytes(llama_bytes.data(), llama_bytes.size(), residency);
    dynamic_cast<GptLM&>(*gpt.network).set_step_precision(GptLM::StepPrecision::Float);
    dynamic_cast<LlamaLM&>(*llama.network).set_step_precision(LlamaLM::StepPrecision::Float);
    for (LanguageModel* model : {gpt.network.get(), llama.network.get()}) {
      CAPTURE(model->arch());
      // Steps as the reference, then prefill on 1 … 4 threads: within 1e-5 of the steps, and the same bits on each.
      model->reset_state();
      const float* logits = nullptr;
      for (int32_t token : prompt) logits = model->step(token);
      const int V = model->vocab_size();
      const std::vector<float> stepped(logits, logits + V);
      std::vector<float> serial;
      GenerationState serial_state;
      for (int threads : {0, 1, 2, 3, 4}) {
        CAPTURE(threads);
        std::unique_ptr<ThreadPool> pool = threads ? std::make_unique<ThreadPool>(threads) : nullptr;
        model->set_thread_pool(pool.get());
        model->reset_state();
        for (size_t i = 0; i < prompt.size(); i += 100) logits = model->prefill(prompt.data() + i, 100);
        GenerationState state;
        model->save_state(&state);
        model->set_thread_pool(nullptr);
        CHECK(relative_error(logits, stepped.data(), V) <= 1e-5);
        if (threads == 0) {
          serial.assign(logits, logits + V);
          serial_state = state;
        } else {
          CHECK(same_bits(std::vector<float>(logits, logits + V), serial));
          CHECK(same_bits(state.floats, serial_state.floats));
          CHECK(state.ints == serial_state.ints);
        }
      }
    }
  }
}

TEST_CASE("prefill: token ids are checked before anything is fed") {
  const std::vector<uint8_t> bytes = model_bytes<GptLM>(gpt_config(16, 32), WeightStorage::F32, 5);
  Model loaded = load_model_bytes(bytes.data(), bytes.size());
  LanguageModel& model = *loaded.network;
  model.reset_state();
  const std::vector<int32_t> bad = {1, 2, model.vocab_size()};
  CHECK_THROWS_WITH_AS(model.prefill(bad.data(), 3), doctest::Contains("prefill token"), Error);
  CHECK_THROWS_AS(model.prefill(bad.data(), 0), Error);
  GenerationState state;
  model.save_state(&state);
  CHECK(state.ints[0] == 0);  // nothing was fed
}

TEST_CASE("prefill: Generator's chunks and a session's second turn generate as by steps") {
  const std::vector<uint8_t> bytes = model_bytes<LlamaLM>(llama_config(24, 32), WeightStorage::F32, 9);
  Model loaded = load_model_bytes(bytes.data(), bytes.size());
  LanguageModel& model = *loaded.network;
  GenerateOptions options;
  options.max_tokens = 20;
  options.sampling.temperature = 0;
  const std::string first = "call me ishmael. some years ago", second = " never mind how long precisely,";

  // The reference: every token stepped, the whole text at once.
  auto stepped = [&](const std::string& text) {
    model.reset_state();
    std::vector<int32_t> ids = encode_prompt(*loaded.tokenizer, text);
    const float* logits = nullptr;
    for (int32_t id : ids) logits = model.step(id);
    std::string out;
    for (int t = 0; t < options.max_tokens; ++t) {
      const int32_t token = argmax(logits, model.vocab_size());
      append_token_text(*loaded.tokenizer, ids.back(), token, &out);
      ids.push_back(token);
      if (t + 1 < options.max_tokens) logits = model.step(token);
    }
    return out;
  };

  Generator generator(model, *loaded.tokenizer, options);
  generator.begin(first);
  int calls = 0;
  while (!generator.prefill(7)) ++calls;
  CHECK(calls == int(generator.prompt_tokens() - 1) / 7);
  CHECK(generator.tokens_read() == generator.prompt_tokens());
  std::string text, piece;
  while (generator.next(&piece)) text += piece;
  text += piece;
  CHECK(text == stepped(first));

  Session session(model, *loaded.tokenizer);
  Generator& turn1 = session.begin_turn(first, options);
  while (!turn1.prefill(5)) {}
  std::string one;
  while (turn1.next(&piece)) one += piece;
  one += piece;
  session.end_turn();
  CHECK(one == stepped(first));
  Generator& turn2 = session.begin_turn(second, options);
  while (!turn2.prefill(64)) {}
  std::string two;
  while (turn2.next(&piece)) two += piece;
  two += piece;
  session.end_turn();
  CHECK(two == stepped(first + one + second));
}
