// The `tinylm` command line on bad input: every numeric flag is range-checked with a usage message (exit 2),
// failures name the file and the problem (exit 1), a model file's header is checked before its data is read,
// quantize never writes what it cannot load back, and a model that scores NaN fails `eval`.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <utility>

#include "io/safetensors.hpp"
#include "models/ngram.hpp"
#include "models/recurrent_lm.hpp"
#include "tinylm/model.hpp"
#include "tinylm/rng.hpp"

using namespace tinylm;

namespace {

struct Run {
  int exit_code;
  std::string output;  // stdout and stderr
};

Run run_command(const std::string& command_line) {
  const std::string command = command_line + " 2>&1";
  std::FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[4096];
  size_t got;
  while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, got);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), output};
}

Run run_cli(const std::string& arguments) { return run_command(std::string(TINYLM_CLI_PATH) + " " + arguments); }

std::string temp_path(const std::string& name) { return "/tmp/tinylm_cli_" + std::to_string(getpid()) + "_" + name; }

std::string write_text(const std::string& name, const std::string& text) {
  const std::string path = temp_path(name);
  std::ofstream(path) << text;
  return path;
}

const std::string kCorpus = "call me ishmael. some years ago, never mind how long precisely, having little money. ";

std::string repeated_corpus() {
  std::string text;
  for (int i = 0; i < 20; ++i) text += kCorpus;
  return write_text("corpus.txt", text);
}

// A small LSTM file for the commands that read one; `poison` writes a NaN into its head bias.
std::string small_model_file(const std::string& name, bool poison) {
  Model model;
  model.tokenizer = fit_char_tokenizer(kCorpus);
  RecurrentConfig config;
  config.vocab_size = model.tokenizer->vocab_size();
  config.embed_size = 4;
  config.hidden_size = 8;
  config.num_layers = 1;
  auto network = std::make_unique<RecurrentLM>(config);
  Rng rng(3);
  network->initialize(rng);
  if (poison) network->parameters().value("head.bias")[0] = NAN;
  model.network = std::move(network);
  const std::string path = temp_path(name);
  save_model(model, path);
  return path;
}

// The CLI's run and its own peak resident set in KiB. getrusage(RUSAGE_CHILDREN) here would not do: a child's
// ru_maxrss counts the memory map it replaced at exec, this test process's when popen starts it, so the figure would
// be at least this process's peak (over 300 MB under the sanitizers). tests/peak_rss/peak_rss.cpp starts the CLI
// from a small process of its own and reports the CLI's figure alone.
std::pair<Run, long> run_cli_peak_kib(const std::string& arguments, const std::string& report) {
  const Run run =
      run_command(std::string(TINYLM_PEAK_RSS_PATH) + " " + report + " " + TINYLM_CLI_PATH + " " + arguments);
  long peak_kib = -1;
  std::ifstream(report) >> peak_kib;
  std::remove(report.c_str());
  return {run, peak_kib};
}

const std::string kSmallTrain = " --hidden 8 --embed 4 --layers 1 --batch 2 --seq 8 --quiet";

}  // namespace

TEST_CASE("cli: numeric flags out of range are usage errors naming the flag") {
  const std::string data = " --data " + repeated_corpus() + kSmallTrain;
  for (const std::string flag : {"--eval-every 0", "--warmup -5", "--steps 0", "--batch 0", "--seq -1",
                                 "--eval-batches 0", "--patience -1", "--lr -1", "--clip -2", "--dropout 1.5",
                                 "--val-fraction 2", "--time-limit -3", "--vocab -4", "--samples -1", "--order 0"}) {
    CAPTURE(flag);
    const Run run = run_cli("train" + data + " --steps 2 " + flag);
    CHECK(run.exit_code == 2);
    CHECK(run.output.find(flag.substr(0, flag.find(' '))) != std::string::npos);
    CHECK(run.output.find("usage:") != std::string::npos);
  }
  const Run generate = run_cli("generate --model " + small_model_file("gen.safetensors", false) + " --max-tokens -1");
  CHECK(generate.exit_code == 2);
  CHECK(generate.output.find("--max-tokens") != std::string::npos);
}

TEST_CASE("cli: --data naming a directory says so; a --log that cannot be written fails") {
  const Run directory = run_cli("train --data /tmp" + kSmallTrain);
  CHECK(directory.exit_code == 1);
  CHECK(directory.output.find("is a directory") != std::string::npos);
  const Run log = run_cli("train --data " + repeated_corpus() + kSmallTrain + " --steps 2 --log /nonexistent/dir/log.jsonl");
  CHECK(log.exit_code == 1);
  CHECK(log.output.find("/nonexistent/dir/log.jsonl") != std::string::npos);
}

TEST_CASE("cli: a model file's header is checked before its data is read") {
  // A valid model followed by 2 GiB of (sparse) zeros: refused as trailing bytes without reading them.
  const std::string path = small_model_file("sparse.safetensors", false);
  REQUIRE(truncate(path.c_str(), 2LL << 30) == 0);
  const auto [sparse, peak_kib] =
      run_cli_peak_kib("eval --model " + path + " --data " + repeated_corpus(), temp_path("peak_rss.txt"));
  CHECK(sparse.exit_code == 1);
  CHECK(sparse.output.find("trailing") != std::string::npos);
  CHECK(peak_kib > 0);
  CHECK(peak_kib < 256 * 1024);  // the CLI did not read the 2 GiB
  std::remove(path.c_str());

  const Run device = run_cli("eval --model /dev/zero");
  CHECK(device.exit_code == 1);
  CHECK(device.output.find("/dev/zero") != std::string::npos);
}

TEST_CASE("cli: quantize refuses what it cannot quantize and never replaces its input") {
  const std::string corpus = repeated_corpus();
  const std::string ngram = temp_path("ngram.safetensors");
  REQUIRE(run_cli("train --arch ngram --order 3 --data " + corpus + " --out " + ngram).exit_code == 0);
  const std::string out = temp_path("ngram_int8.safetensors");
  const Run refused = run_cli("quantize --model " + ngram + " --out " + out + " --dtype f16 --data " + corpus);
  CHECK(refused.exit_code == 1);
  CHECK(refused.output.find("ngram") != std::string::npos);
  CHECK_FALSE(std::ifstream(out).good());

  const std::string model = small_model_file("inplace.safetensors", false);
  const std::vector<uint8_t> before = read_file_bytes(model);
  const Run in_place = run_cli("quantize --model " + model + " --out " + model + " --dtype int8 --data " + corpus);
  CHECK(in_place.exit_code == 2);
  CHECK(in_place.output.find("--out") != std::string::npos);
  CHECK(read_file_bytes(model) == before);
  for (const std::string& path : {ngram, model}) std::remove(path.c_str());
}

TEST_CASE("cli: eval of a model that scores NaN exits non-zero and says why") {
  const Run run = run_cli("eval --model " + small_model_file("nan.safetensors", true) + " --data " + repeated_corpus());
  CHECK(run.exit_code == 1);
  CHECK(run.output.find("not finite") != std::string::npos);
}

TEST_CASE("atomic writes remove the temp files that killed writers left behind") {
  const std::string path = temp_path("stale.safetensors");
  // A pid no process has: the highest possible one is above /proc/sys/kernel/pid_max's default.
  const std::string stale = path + ".tmp-2147483646";
  std::ofstream(stale) << "half a file";
  const std::string live = path + ".tmp-" + std::to_string(getppid());  // a running process's: kept
  std::ofstream(live) << "being written";
  write_file_atomic(path, {1, 2, 3});
  CHECK_FALSE(std::ifstream(stale).good());
  CHECK(std::ifstream(live).good());
  CHECK(read_file_bytes(path) == std::vector<uint8_t>{1, 2, 3});
  for (const std::string& file : {path, live}) std::remove(file.c_str());
}

TEST_CASE("cli: generate --beams prints beam search's best text; one beam is greedy; sampling flags are refused") {
  const std::string model = small_model_file("beams.safetensors", false);
  const std::string common = "generate --model " + model + " --prompt 'call me' --max-tokens 12 --step-precision float";
  const Run greedy = run_cli(common + " --temperature 0");
  const Run one_beam = run_cli(common + " --beams 1");
  CHECK(one_beam.exit_code == 0);
  CHECK(one_beam.output == greedy.output);
  const Run beams = run_cli(common + " --beams 3 --length-penalty 0.5");
  CHECK(beams.exit_code == 0);
  CHECK(beams.output.rfind("call me", 0) == 0);
  const Run mixed = run_cli(common + " --beams 3 --temperature 0.7");
  CHECK(mixed.exit_code == 2);
  CHECK(mixed.output.find("--temperature samples; --beams searches deterministically") != std::string::npos);
  const Run zero = run_cli(common + " --beams 0");
  CHECK(zero.exit_code == 2);
  CHECK(zero.output.find("--beams") != std::string::npos);
}
