// Results do not depend on the thread count: for every architecture, training (losses, gradient norms, weights,
// validation), evaluation and generation (each step's logits and the sampled tokens) are bit-identical with no pool
// and with pools of 1, 2, 3 and 4 threads. The models are sized so that the parallel regions really split: several
// batch rows per recurrence, products and element-wise passes of several chunks, matrices big enough for the
// matrix-vector products of generation to split their rows; dropout and clipping are on. LoRA fine-tuning (a frozen
// base, the adapter's products on the base's pool) is held to the same.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "generate/sampler.hpp"
#include "lora/lora_model.hpp"
#include "models/gpt.hpp"
#include "models/llama.hpp"
#include "models/recurrent_lm.hpp"
#include "parallel/thread_pool.hpp"
#include "tensor.hpp"
#include "tinylm/model.hpp"
#include "tinylm/tokenizer.hpp"
#include "train/trainer.hpp"

using namespace tinylm;

namespace {

constexpr int kVocab = 97;

std::vector<int32_t> random_tokens(int count, uint64_t seed) {
  Rng rng(seed);
  std::vector<int32_t> tokens(count);
  // A repeating pattern with noise, so training has something to learn and losses move.
  for (int i = 0; i < count; ++i)
    tokens[i] = rng.uniform() < 0.7f ? int32_t((i * 7) % kVocab) : int32_t(rng.below(kVocab));
  return tokens;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct TrainingRun {
  std::vector<float> losses, grad_norms, weights;
  EvalStats validation, evaluation;
};

TrainingRun train(TrainableModel& model, ThreadPool* pool, const TrainOptions& options) {
  static const std::vector<int32_t> train_tokens = random_tokens(6000, 1), validation_tokens = random_tokens(1500, 2);
  model.set_thread_pool(pool);
  Trainer trainer(model, train_tokens, validation_tokens, options);
  TrainingRun run;
  for (int step = 0; step < options.steps; ++step) {
    const StepReport report = trainer.step();
    run.losses.push_back(report.loss);
    run.grad_norms.push_back(report.grad_norm);
  }
  run.validation = trainer.validate();
  run.evaluation = model.evaluate(validation_tokens);
  run.weights = model.parameters().values;
  return run;
}

void check_same(const TrainingRun& run, const TrainingRun& serial) {
  CHECK(same_bits(run.losses, serial.losses));
  CHECK(same_bits(run.grad_norms, serial.grad_norms));
  CHECK(same_bits(run.weights, serial.weights));
  CHECK(run.validation.loss == serial.validation.loss);
  CHECK(run.validation.accuracy == serial.validation.accuracy);
  CHECK(run.evaluation.loss == serial.evaluation.loss);
  CHECK(run.evaluation.accuracy == serial.evaluation.accuracy);
}

// Trains a fresh model (from the same seed) with no pool, then with 1 … 4 threads, and compares.
void check_training(const std::function<std::unique_ptr<TrainableModel>()>& make_model, const TrainOptions& options) {
  auto serial_model = make_model();
  const TrainingRun serial = train(*serial_model, nullptr, options);
  REQUIRE(serial.losses.size() == size_t(options.steps));
  for (float loss : serial.losses) REQUIRE(std::isfinite(loss));
  // It trained: the weights moved, so the comparison is not between idle runs.
  CHECK(!same_bits(serial.weights, make_model()->parameters().values));
  for (int threads : {1, 2, 3, 4}) {
    CAPTURE(threads);
    ThreadPool pool(threads);
    auto model = make_model();
    check_same(train(*model, &pool, options), serial);
  }
}

struct GenerationRun {
  std::vector<float> logits;  // every step's, back to back
  std::vector<int32_t> tokens;
};

// Feeds a prompt, then samples `count` tokens (temperature 1, seeded), keeping every step's logits.
GenerationRun generate(LanguageModel& model, ThreadPool* pool, const std::vector<int32_t>& prompt, int count) {
  model.set_thread_pool(pool);
  model.reset_state();
  SamplingOptions sampling;
  sampling.seed = 5;
  Sampler sampler(sampling, model.vocab_size());
  GenerationRun run;
  std::vector<int32_t> history;
  const float* logits = nullptr;
  auto feed = [&](int32_t token) {
    history.push_back(token);
    logits = model.step(token);
    run.logits.insert(run.logits.end(), logits, logits + model.vocab_size());
  };
  for (int32_t token : prompt) feed(token);
  for (int i = 0; i < count; ++i) {
    const int32_t token = sampler.sample(logits, history);
    run.tokens.push_back(token);
    feed(token);
  }
  return run;
}

void check_generation(LanguageModel& model, const std::vector<int32_t>& prompt, int count) {
  const GenerationRun serial = generate(model, nullptr, prompt, count);
  for (int threads : {1, 2, 3, 4}) {
    CAPTURE(threads);
    ThreadPool pool(threads);
    const GenerationRun run = generate(model, &pool, prompt, count);
    CHECK(same_bits(run.logits, serial.logits));
    CHECK(run.tokens == serial.tokens);
  }
}

std::unique_ptr<RecurrentLM> recurrent_model(CellKind cell, int embed, int hidden, int layers, float dropout) {
  RecurrentConfig config;
  config.cell = cell;
  config.vocab_size = kVocab;
  config.embed_size = embed;
  config.hidden_size = hidden;
  config.num_layers = layers;
  config.dropout = dropout;
  auto model = std::make_unique<RecurrentLM>(config);
  Rng rng(3);
  model->initialize(rng);
  return model;
}

std::unique_ptr<GptLM> gpt_model(int embed, int heads, int layers, int context, float dropout) {
  GptConfig config;
  config.vocab_size = kVocab;
  config.embed_size = embed;
  config.num_heads = heads;
  config.num_layers = layers;
  config.context_size = context;
  config.dropout = dropout;
  auto model = std::make_unique<GptLM>(config);
  Rng rng(4);
  model->initialize(rng);
  model->reset_state();  // the generation copies of the initialised weights
  return model;
}

// `network` saved with a character tokenizer of kVocab symbols and loaded back with its matrices held as `residency`.
std::unique_ptr<LanguageModel> held_as(std::unique_ptr<TrainableModel> network, Residency residency) {
  std::string symbols;
  for (int c = 0; symbols.size() < size_t(kVocab); ++c) symbols += char(33 + c);
  Model model;
  model.tokenizer = fit_char_tokenizer(symbols);
  REQUIRE(model.tokenizer->vocab_size() == kVocab);
  model.network = std::move(network);
  const std::vector<uint8_t> bytes = serialize_model(model);
  return std::move(load_model_bytes(bytes.data(), bytes.size(), residency).network);
}

// Grouped-query attention (8 query heads reading 2 key/value heads): the backward pass's split by key/value head
// is what keeps each group's sum in head order.
std::unique_ptr<LlamaLM> llama_model(int hidden, int layers, int context) {
  LlamaConfig config;
  config.vocab_size = kVocab;
  config.context_size = context;
  config.hidden_size = hidden;
  config.intermediate_size = 3 * hidden;
  config.num_layers = layers;
  config.num_heads = 8;
  config.num_kv_heads = 2;
  config.head_size = hidden / 8;
  config.rms_norm_eps = 1e-5f;
  auto model = std::make_unique<LlamaLM>(config);
  Rng rng(6);
  model->initialize(rng);
  model->reset_state();
  return model;
}

// A base model and a LoRA adapter on it, owned together so check_training can make fresh ones. LoraParts comes first
// among the bases: it is built before LoraModel attaches to its members.
struct LoraParts {
  std::unique_ptr<TrainableModel> owned_base;
  std::unique_ptr<LoraAdapter> owned_adapter;
};

class OwnedLoraModel : private LoraParts, public LoraModel {
 public:
  explicit OwnedLoraModel(LoraParts parts) : LoraParts(std::move(parts)), LoraModel(*owned_base, *owned_adapter) {}
};

// Rank 4 on every linear of the base (Kaiming A, zero B), with dropout on the adapter's inputs.
std::unique_ptr<TrainableModel> with_lora(std::unique_ptr<TrainableModel> base, std::vector<std::string> targets) {
  LoraConfig config;
  config.rank = 4;
  config.alpha = 8.0f;
  config.dropout = 0.1f;
  config.targets = std::move(targets);
  const std::vector<LinearModule> modules = base->linear_modules();
  auto adapter = std::make_unique<LoraAdapter>(config, modules, LoraAdapter::targeted_modules(config, modules));
  Rng rng(10);
  adapter->initialize(rng);
  return std::make_unique<OwnedLoraModel>(LoraParts{std::move(base), std::move(adapter)});
}

TrainOptions training_options(int batch, int seq, OptimizerKind optimizer) {
  TrainOptions options;
  options.steps = 3;
  options.batch = batch;
  options.seq = seq;
  options.optimizer.kind = optimizer;
  options.optimizer.learning_rate = 3e-3f;
  options.optimizer.weight_decay = optimizer == OptimizerKind::AdamW ? 0.1f : 0.0f;
  options.clip = 0.5f;
  options.eval_batches = 2;
  options.seed = 9;
  return options;
}

}  // namespace

TEST_CASE("thread count independence: recurrent training, validation and evaluation") {
  // 12×20 positions ≥ 2V: the first layer projects the embedding table (RecurrentLM::forward); 5×16 < 2V: it
  // multiplies every position, and 5 batch rows split unevenly over 2, 3 and 4 threads.
  struct Case {
    CellKind cell;
    int batch, seq;
    OptimizerKind optimizer;
  };
  const Case cases[] = {
      {CellKind::RnnTanh, 12, 20, OptimizerKind::Sgd}, {CellKind::RnnRelu, 5, 16, OptimizerKind::Rmsprop},
      {CellKind::Lstm, 12, 20, OptimizerKind::Adam},   {CellKind::Lstm, 5, 16, OptimizerKind::Adam},
      {CellKind::Gru, 12, 20, OptimizerKind::AdamW},   {CellKind::Gru, 5, 16, OptimizerKind::Adam}};
  for (const Case& c : cases) {
    const std::string cell = cell_kind_name(c.cell);
    CAPTURE(cell);
    CAPTURE(c.batch);
    TrainOptions options = training_options(c.batch, c.seq, c.optimizer);
    if (c.optimizer == OptimizerKind::Sgd) options.optimizer.momentum = 0.9f;
    check_training([&] { return recurrent_model(c.cell, 16, 96, 2, 0.1f); }, options);
  }
}

TEST_CASE("thread count independence: GPT training, validation and evaluation") {
  check_training([] { return gpt_model(64, 4, 2, 64, 0.1f); }, training_options(8, 64, OptimizerKind::AdamW));
}

TEST_CASE("thread count independence: sampling from a large vocabulary sorts over the pool, the same draws") {
  // 50257 candidates (GPT-2's vocabulary): above the size where the sampler sorts over its pool; ties included.
  const int V = 50257;
  Rng rng(29);
  std::vector<float> logits(V);
  for (float& logit : logits) logit = std::round(8.0f * rng.normal()) / 4.0f;  // many equal scores
  auto draws = [&](ThreadPool* pool, int top_k, float top_p) {
    SamplingOptions options;
    options.seed = 5;
    options.top_k = top_k;
    options.top_p = top_p;
    Sampler sampler(options, V);
    sampler.set_thread_pool(pool);
    std::vector<float> seen;
    for (int i = 0; i < 20; ++i) {
      seen.push_back(float(sampler.sample(logits.data(), {})));
      const std::vector<float>& probabilities = sampler.last_probabilities();
      seen.insert(seen.end(), probabilities.begin(), probabilities.end());
    }
    return seen;
  };
  for (auto [top_k, top_p] : {std::pair{0, 1.0f}, std::pair{0, 0.9f}, std::pair{30000, 1.0f}, std::pair{40, 1.0f}}) {
    CAPTURE(top_k);
    CAPTURE(top_p);
    const std::vector<float> serial = draws(nullptr, top_k, top_p);
    for (int threads : {1, 2, 3}) {
      CAPTURE(threads);
      ThreadPool pool(threads);
      CHECK(draws(&pool, top_k, top_p) == serial);
    }
  }
}

TEST_CASE("thread count independence: recurrent generation at every step precision") {
  for (CellKind cell : {CellKind::RnnTanh, CellKind::Lstm, CellKind::Gru}) {
    const std::string cell_name = cell_kind_name(cell);
    CAPTURE(cell_name);
    auto model = recurrent_model(cell, 64, 256, 2, 0.0f);  // W_hh up to (1024, 256): rows split
    for (auto precision : {RecurrentLM::StepPrecision::Float, RecurrentLM::StepPrecision::Half,
                           RecurrentLM::StepPrecision::Int8}) {
      CAPTURE(int(precision));
      model->set_step_precision(precision);
      check_generation(*model, random_tokens(6, 7), 24);
    }
  }
}

TEST_CASE("thread count independence: GPT generation, through the shadow window and a slide") {
  // C = 256 (c_attn (768, 256), c_fc (1024, 256)): rows split; a window of up to 160 positions of 8 heads splits
  // the cached attention. 150 tokens into a context of 160: the shadow row runs from position 80, and the cache
  // slides at 160.
  auto model = gpt_model(256, 8, 2, 160, 0.0f);
  for (auto precision : {GptLM::StepPrecision::Float, GptLM::StepPrecision::Half}) {
    CAPTURE(int(precision));
    model->set_step_precision(precision);
    check_generation(*model, random_tokens(150, 8), 20);
  }
}

TEST_CASE("thread count independence: Llama (grouped-query) training, validation, evaluation and generation") {
  check_training([] { return llama_model(64, 2, 64); }, training_options(8, 64, OptimizerKind::AdamW));
  auto model = llama_model(256, 2, 160);
  check_generation(*model, random_tokens(150, 8), 20);
}

TEST_CASE("thread count independence: LoRA fine-tuning of GPT and Llama, and generation with the adapter") {
  // check_training compares the adapter's parameters (the trained ones); B starts at zero, so after 3 steps the
  // adapter's terms shape the losses, the evaluation and the sampled tokens.
  const std::vector<std::string> gpt_targets = {"c_attn", "c_proj", "c_fc"};
  const std::vector<std::string> llama_targets = {"q_proj", "k_proj", "v_proj", "o_proj",
                                                  "gate_proj", "up_proj", "down_proj"};
  const TrainOptions options = training_options(8, 64, OptimizerKind::Adam);
  check_training([&] { return with_lora(gpt_model(64, 4, 2, 64, 0.1f), gpt_targets); }, options);
  check_training([&] { return with_lora(llama_model(64, 2, 64), llama_targets); }, options);

  // Generation at C = 256 (rows split) with a trained adapter attached.
  for (bool llama : {false, true}) {
    CAPTURE(llama);
    std::unique_ptr<TrainableModel> base;
    if (llama) base = llama_model(256, 2, 160);
    else base = gpt_model(256, 8, 2, 160, 0.0f);
    auto model = with_lora(std::move(base), llama ? llama_targets : gpt_targets);
    train(*model, nullptr, training_options(2, 32, OptimizerKind::Adam));
    model->reset_state();
    check_generation(*model, random_tokens(150, 8), 20);
  }
}

TEST_CASE("thread count independence: GPT and Llama held as F16 or int8 generate and evaluate alike") {
  const std::vector<int32_t> prompt = random_tokens(150, 8), text = random_tokens(400, 9);
  for (Residency residency : {Residency::F16, Residency::Int8}) {
    CAPTURE(int(residency));
    std::vector<std::unique_ptr<LanguageModel>> models;
    models.push_back(held_as(gpt_model(256, 8, 2, 160, 0.0f), residency));
    models.push_back(held_as(llama_model(256, 2, 160), residency));
    for (const std::unique_ptr<LanguageModel>& model : models) {
      check_generation(*model, prompt, 20);
      // evaluate() converts one layer's matrices at a time back to floats and runs the batched forward on them.
      model->set_thread_pool(nullptr);
      const EvalStats serial = model->evaluate(text);
      for (int threads : {2, 3}) {
        ThreadPool pool(threads);
        model->set_thread_pool(&pool);
        const EvalStats run = model->evaluate(text);
        CHECK(run.loss == serial.loss);
        CHECK(run.accuracy == serial.accuracy);
      }
      model->set_thread_pool(nullptr);
    }
  }
}

TEST_CASE("thread count independence: GPT and Llama generation from int8 step copies") {
  auto gpt = gpt_model(256, 8, 2, 160, 0.0f);
  gpt->set_step_precision(GptLM::StepPrecision::Int8);
  check_generation(*gpt, random_tokens(150, 8), 20);
  auto llama = llama_model(256, 2, 160);
  llama->set_step_precision(LlamaLM::StepPrecision::Int8);
  check_generation(*llama, random_tokens(150, 8), 20);
}
