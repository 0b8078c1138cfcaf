// One training step of every architecture at odd sizes (batch 3, sequence 5, widths off the SIMD tiles), with
// dropout: forward, backward, clipping and the optimizer each run once. Cheap enough for the sanitizer job
// (tests/sanitize.sh), which runs it to cover every model's buffers under ASan/UBSan.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>

#include "models/gpt.hpp"
#include "models/recurrent_lm.hpp"
#include "tinylm/rng.hpp"
#include "train/trainer.hpp"

using namespace tinylm;

TEST_CASE("one training step of every architecture changes the weights and keeps the loss finite") {
  std::vector<int32_t> tokens(300);
  Rng data_rng(2);
  for (int32_t& token : tokens) token = int32_t(data_rng.uniform() * 7) % 7;
  std::vector<std::unique_ptr<TrainableModel>> models;
  for (CellKind cell : {CellKind::Lstm, CellKind::Gru, CellKind::RnnTanh, CellKind::RnnRelu}) {
    RecurrentConfig config;
    config.cell = cell;
    config.vocab_size = 7;
    config.embed_size = 5;
    config.hidden_size = 9;
    config.num_layers = 2;
    config.dropout = 0.25f;
    models.push_back(std::make_unique<RecurrentLM>(config));
  }
  for (bool bias : {true, false}) {
    GptConfig config;
    config.vocab_size = 7;
    config.context_size = 6;
    config.embed_size = 6;
    config.num_heads = 2;
    config.num_layers = 2;
    config.bias = bias;
    config.dropout = 0.25f;
    models.push_back(std::make_unique<GptLM>(config));
  }
  for (auto& model : models) {
    CAPTURE(model->arch());
    Rng init_rng(5);
    if (auto* recurrent = dynamic_cast<RecurrentLM*>(model.get())) recurrent->initialize(init_rng);
    if (auto* gpt = dynamic_cast<GptLM*>(model.get())) gpt->initialize(init_rng);
    TrainOptions options;
    options.steps = 2;
    options.batch = 3;
    options.seq = 5;
    options.clip = 1.0f;
    options.optimizer.kind = OptimizerKind::AdamW;
    options.optimizer.weight_decay = 0.1f;
    Trainer trainer(*model, tokens, tokens, options);
    const std::vector<float> before = model->parameters().values;
    for (int step = 0; step < 2; ++step) CHECK(std::isfinite(trainer.step().loss));
    CHECK(model->parameters().values != before);
    CHECK(std::isfinite(trainer.validate().loss));
  }
}
