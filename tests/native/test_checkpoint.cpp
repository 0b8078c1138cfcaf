// Exact training resume (train/checkpoint.hpp): for each architecture — GPT with dropout, Llama, Llama through a LoRA
// adapter with dropout, a stateful LSTM — and each optimizer, a run interrupted after k steps, saved, and resumed in
// a freshly built trainer ends with the same parameters and optimizer moments, bit for bit, as a run that never
// stopped. Checkpoints refuse a run with other options or another model, naming the difference.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <memory>

#include "io/safetensors.hpp"
#include "layer_gradient_check.hpp"
#include "lora/lora_model.hpp"
#include "models/gpt.hpp"
#include "models/llama.hpp"
#include "models/recurrent_lm.hpp"
#include "tinylm/error.hpp"
#include "tinylm/tokenizer.hpp"
#include "train/checkpoint.hpp"
#include "train/fingerprint.hpp"

using namespace tinylm;
using namespace tinylm::testing;

namespace {

// A model to train, built the same way every time (its initialisation seeded).
struct Run {
  std::unique_ptr<TrainableModel> base;
  std::unique_ptr<LoraAdapter> adapter;
  std::unique_ptr<LoraModel> lora;
  TrainableModel& trained() { return lora ? *lora : *base; }
};

Run build(const std::string& arch) {
  Run run;
  Rng rng(3);
  if (arch == "gpt") {
    GptConfig config;
    config.vocab_size = 11;
    config.context_size = 8;
    config.embed_size = 8;
    config.num_layers = 2;
    config.num_heads = 2;
    config.dropout = 0.1f;
    auto model = std::make_unique<GptLM>(config);
    model->initialize(rng);
    run.base = std::move(model);
  } else if (arch == "lstm") {
    RecurrentConfig config;
    config.cell = CellKind::Lstm;
    config.vocab_size = 11;
    config.embed_size = 6;
    config.hidden_size = 8;
    config.num_layers = 2;
    auto model = std::make_unique<RecurrentLM>(config);
    model->initialize(rng);
    run.base = std::move(model);
  } else {
    LlamaConfig config;
    config.vocab_size = 11;
    config.context_size = 8;
    config.hidden_size = 12;
    config.intermediate_size = 20;
    config.num_layers = 2;
    config.num_heads = 4;
    config.num_kv_heads = 2;
    config.head_size = 4;
    auto model = std::make_unique<LlamaLM>(config);
    model->initialize(rng);
    run.base = std::move(model);
    if (arch == "llama+lora") {
      LoraConfig lora;
      lora.rank = 2;
      lora.alpha = 4;
      lora.dropout = 0.1f;
      lora.targets = {"q_proj", "v_proj", "down_proj"};
      const std::vector<LinearModule> modules = run.base->linear_modules();
      run.adapter = std::make_unique<LoraAdapter>(lora, modules, LoraAdapter::targeted_modules(lora, modules));
      run.adapter->initialize(rng);
      run.lora = std::make_unique<LoraModel>(*run.base, *run.adapter);
    }
  }
  return run;
}

TrainOptions options_for(const std::string& arch, OptimizerKind kind) {
  TrainOptions options;
  options.steps = 8;
  options.batch = 2;
  options.seq = 6;
  options.optimizer.kind = kind;
  options.optimizer.learning_rate = 1e-2f;
  options.optimizer.momentum = kind == OptimizerKind::Sgd ? 0.9f : 0.0f;
  options.optimizer.weight_decay = kind == OptimizerKind::AdamW ? 0.1f : 0.0f;
  options.warmup_steps = 2;
  options.cosine = true;
  options.clip = 1.0f;
  options.stateful = arch == "lstm";
  options.seed = 5;
  options.memory_cap = uint64_t(1) << 30;
  return options;
}

}  // namespace

TEST_CASE("checkpoint: an interrupted and resumed run is bit-identical to an uninterrupted one") {
  const std::vector<int32_t> text = random_ids(400, 11, 9);
  for (const std::string arch : {"gpt", "llama", "llama+lora", "lstm"}) {
    for (OptimizerKind kind : {OptimizerKind::Sgd, OptimizerKind::Rmsprop, OptimizerKind::Adam, OptimizerKind::AdamW}) {
      CAPTURE(arch);
      CAPTURE(optimizer_kind_name(kind));
      const TrainOptions options = options_for(arch, kind);
      Run whole = build(arch);
      Trainer straight(whole.trained(), text, {}, options);
      for (int i = 0; i < options.steps; ++i) straight.step();

      Run first = build(arch);
      std::vector<uint8_t> checkpoint;
      {
        Trainer interrupted(first.trained(), text, {}, options);
        for (int i = 0; i < 3; ++i) interrupted.step();
        checkpoint = serialize_checkpoint(interrupted);
        interrupted.step();  // work after the checkpoint is lost with the process
      }
      Run second = build(arch);
      Trainer resumed(second.trained(), text, {}, options);
      restore_checkpoint(resumed, checkpoint.data(), checkpoint.size());
      CHECK(resumed.steps_done() == 3);
      while (!resumed.should_stop()) resumed.step();

      CHECK(second.trained().parameters().values == whole.trained().parameters().values);
      CHECK(resumed.progress().first_moment == straight.progress().first_moment);
      CHECK(resumed.progress().second_moment == straight.progress().second_moment);
      if (whole.lora) CHECK(second.base->parameters().values == whole.base->parameters().values);
    }
  }
}

TEST_CASE("checkpoint: a run with other options, another model or a foreign file is refused, naming why") {
  const std::vector<int32_t> text = random_ids(400, 11, 9);
  Run run = build("gpt");
  TrainOptions options = options_for("gpt", OptimizerKind::Adam);
  Trainer trainer(run.trained(), text, {}, options);
  trainer.step();
  const std::vector<uint8_t> checkpoint = serialize_checkpoint(trainer);

  Run other = build("gpt");
  TrainOptions changed = options;
  changed.batch = 3;
  Trainer wrong_batch(other.trained(), text, {}, changed);
  CHECK_THROWS_WITH_AS(restore_checkpoint(wrong_batch, checkpoint.data(), checkpoint.size()),
                       doctest::Contains("trained with batch = 2, this run has 3"), Error);
  CHECK(wrong_batch.steps_done() == 0);

  Run llama = build("llama");
  Trainer wrong_model(llama.trained(), text, {}, options);
  CHECK_THROWS_WITH_AS(restore_checkpoint(wrong_model, checkpoint.data(), checkpoint.size()),
                       doctest::Contains("model config"), Error);

  const std::vector<uint8_t> model_file = serialize_safetensors(run.trained().tensors_to_save(), {});
  Trainer plain(other.trained(), text, {}, options);
  CHECK_THROWS_WITH_AS(restore_checkpoint(plain, model_file.data(), model_file.size()),
                       doctest::Contains("not a tinylm training checkpoint"), Error);
}

TEST_CASE("checkpoint: a caller's run record travels in the metadata, and resuming ignores it") {
  const std::vector<int32_t> text = random_ids(400, 11, 9);
  Run run = build("gpt");
  const TrainOptions options = options_for("gpt", OptimizerKind::Adam);
  Trainer trainer(run.trained(), text, {}, options);
  trainer.step();
  const std::vector<uint8_t> plain = serialize_checkpoint(trainer);
  const std::vector<uint8_t> recorded = serialize_checkpoint(trainer, R"({"figures":[1,2]})");
  CHECK(checkpoint_run(plain.data(), plain.size()).empty());
  CHECK(checkpoint_run(recorded.data(), recorded.size()) == R"({"figures":[1,2]})");
  Run other = build("gpt");
  Trainer resumed(other.trained(), text, {}, options);
  restore_checkpoint(resumed, recorded.data(), recorded.size());
  CHECK(resumed.steps_done() == 1);
  CHECK(other.trained().parameters().values == run.trained().parameters().values);
  // A truncated file, and a model file that is no checkpoint, are refused.
  CHECK_THROWS_AS(checkpoint_run(recorded.data(), recorded.size() - 16), Error);
  const std::vector<uint8_t> model_file = serialize_safetensors(run.trained().tensors_to_save(), {});
  CHECK_THROWS_WITH_AS(checkpoint_run(model_file.data(), model_file.size()),
                       doctest::Contains("not a tinylm training checkpoint"), Error);
}

TEST_CASE("fingerprint: the same weights, config and tokenizer agree; a changed weight, text byte or form differs") {
  CHECK(bytes_fingerprint("call me Ishmael", 15) == bytes_fingerprint("call me Ishmael", 15));
  CHECK(bytes_fingerprint("call me Ishmael", 15) != bytes_fingerprint("call me Ishmaem", 15));
  CHECK(bytes_fingerprint("ab", 2) != bytes_fingerprint("ab\0", 3));
  CHECK(bytes_fingerprint("", 0).size() == 16);
  Run first = build("gpt"), second = build("gpt");
  const CharTokenizerOptions tokenizer_options;
  const std::unique_ptr<Tokenizer> tokenizer = fit_char_tokenizer("abcdefghij", tokenizer_options);
  const std::string print = weights_fingerprint(first.trained(), *tokenizer);
  CHECK(print == weights_fingerprint(second.trained(), *tokenizer));
  second.trained().parameters().values[7] = std::nextafter(second.trained().parameters().values[7], 1.0f);
  CHECK(print != weights_fingerprint(second.trained(), *tokenizer));
  const std::unique_ptr<Tokenizer> other_tokenizer = fit_char_tokenizer("abcdefghik", tokenizer_options);
  CHECK(print != weights_fingerprint(first.trained(), *other_tokenizer));
}
