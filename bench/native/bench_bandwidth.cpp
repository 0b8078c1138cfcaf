// bench_bandwidth — how much memory bandwidth one thread and a pool of N draw on this machine: the ceiling for
// batch-1 generation of a model whose weights do not fit in cache (G2 in bench_models reads every weight once per
// token), so its thread scaling can be read against what the memory system allows.
//
//   bench_bandwidth [--megabytes M] [--threads N] [--rounds R] [--json]
//
// Sums a buffer of M MB of floats (default 512: far beyond any cache), split over a pool of 1 thread and of N
// (each worker its contiguous share, parallel_for_chunks), alternating 1 and N in each round so a shared machine's
// load falls on both alike. Reports GB/s per round, the median of each and the ratio of the medians; and beside
// them GB per CPU-second of the slowest worker ("cpu"), which time the machine gave to other processes does not
// lower (a worker that ran while the other was descheduled still had the memory system to itself, though).
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "parallel/parallel_kernels.hpp"

using namespace tinylm;

namespace {

using Clock = std::chrono::steady_clock;

double thread_cpu_seconds() {
  timespec now;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return double(now.tv_sec) + 1e-9 * double(now.tv_nsec);
}

struct Bandwidth {
  double wall_gbps;  // bytes over the pass's wall time
  double cpu_gbps;   // bytes over the CPU time of the slowest worker
};

// Σ x over [begin, end) in 64 independent float lanes: GCC vectorises the inner loop into whole-register adds
// with no chain longer than one lane, so the loop waits on memory, not on adds (a single double accumulator, as
// sum_squares keeps, tops out below what a core can read).
double lane_sum(const float* x, int64_t n) {
  constexpr int kLanes = 64;
  float lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int lane = 0; lane < kLanes; ++lane) lanes[lane] += x[i + lane];
  double total = 0;
  for (; i < n; ++i) total += x[i];
  for (float lane : lanes) total += lane;
  return total;
}

// One pass summing `data` over `pool` (the sums are kept so the reads cannot be optimised away).
Bandwidth read_bandwidth(ThreadPool& pool, const std::vector<float>& data, double* sink) {
  const int64_t n = int64_t(data.size());
  std::vector<double> partials(size_t(pool.size()), 0.0), cpu_seconds(size_t(pool.size()), 0.0);
  const int64_t grain = (n + pool.size() - 1) / pool.size();  // one chunk per worker
  const auto start = Clock::now();
  parallel_for_chunks(&pool, n, grain, [&](int64_t chunk, int64_t begin, int64_t end) {
    const double cpu_start = thread_cpu_seconds();
    partials[size_t(chunk)] = lane_sum(data.data() + begin, end - begin);
    cpu_seconds[size_t(chunk)] = thread_cpu_seconds() - cpu_start;
  });
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (double partial : partials) *sink += partial;
  const double bytes = double(n) * sizeof(float);
  return {bytes / seconds / 1e9, bytes / *std::max_element(cpu_seconds.begin(), cpu_seconds.end()) / 1e9};
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t middle = values.size() / 2;
  return values.size() % 2 ? values[middle] : 0.5 * (values[middle - 1] + values[middle]);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t megabytes = 512;
  int threads = 2, rounds = 7;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--json")) json = true;
    else if (i + 1 < argc && !std::strcmp(argv[i], "--megabytes")) megabytes = std::atoll(argv[++i]);
    else if (i + 1 < argc && !std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[++i]);
    else if (i + 1 < argc && !std::strcmp(argv[i], "--rounds")) rounds = std::atoi(argv[++i]);
  }
  std::vector<float> data(size_t(megabytes) * (1 << 20) / sizeof(float));
  for (size_t i = 0; i < data.size(); ++i) data[i] = float(i % 7) * 0.25f;  // every page touched before timing
  ThreadPool one(1), many(threads);
  double sink = 0;
  read_bandwidth(one, data, &sink);  // warm
  read_bandwidth(many, data, &sink);
  std::vector<double> single, pooled, single_cpu, pooled_cpu;
  for (int round = 0; round < rounds; ++round) {
    const Bandwidth alone = read_bandwidth(one, data, &sink), together = read_bandwidth(many, data, &sink);
    single.push_back(alone.wall_gbps);
    pooled.push_back(together.wall_gbps);
    single_cpu.push_back(alone.cpu_gbps);
    pooled_cpu.push_back(together.cpu_gbps);
    if (!json)
      std::printf("round %d: 1 thread %.2f GB/s (cpu %.2f), %d threads %.2f GB/s (cpu %.2f)\n", round, alone.wall_gbps,
                  alone.cpu_gbps, threads, together.wall_gbps, together.cpu_gbps);
  }
  const double one_median = median(single), many_median = median(pooled);
  const double one_cpu = median(single_cpu), many_cpu = median(pooled_cpu);
  if (json) {
    std::printf("{\"name\":\"read_bandwidth\",\"megabytes\":%lld,\"threads\":%d,\"single_gbps\":%.2f,"
                "\"pooled_gbps\":%.2f,\"ratio\":%.3f,\"single_cpu_gbps\":%.2f,\"pooled_cpu_gbps\":%.2f,"
                "\"cpu_ratio\":%.3f,\"rounds\":%d,\"checksum\":%.6g}\n",
                (long long)megabytes, threads, one_median, many_median, many_median / one_median, one_cpu, many_cpu,
                many_cpu / one_cpu, rounds, sink);
  } else {
    std::printf("median: 1 thread %.2f GB/s, %d threads %.2f GB/s, ratio %.2f; per CPU-second %.2f and %.2f, "
                "ratio %.2f (checksum %.6g)\n",
                one_median, threads, many_median, many_median / one_median, one_cpu, many_cpu, many_cpu / one_cpu,
                sink);
  }
  return 0;
}
