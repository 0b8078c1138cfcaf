// bench_threads — what a thread pool costs and where splitting a kernel starts to pay, on this machine.
//
//   bench_threads [--threads N] [--json]
//   node --no-experimental-fetch build-wasm/wasm/threads/bench_threads_wasm.cjs [...]   the same on WebAssembly
//                            threads (Atomics.wait/notify underneath; target in wasm/wasm.cmake)
//
// Rows, each the best of several repetitions (the machine may be shared), for a pool of 1 thread and of N:
//   pool_round_trip          µs for one empty parallel region (publish, every worker runs, join) while the
//                            workers spin, and after they fell asleep
//   sgemv_MxK, sgemv_f16_MxK batch-1 generation's matrix-vector products, rows split (parallel_kernels.hpp): the
//                            crossover below which parallel_kernels keeps a product on the caller
//   sgemm_nt_MxNxK           a training product, C split
// Each kernel row reports µs per call with 1 and N threads and their ratio.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "parallel/parallel_kernels.hpp"

using namespace tinylm;

namespace {

using Clock = std::chrono::steady_clock;

// Best µs per call of `work` over 9 repetitions of at least 20 ms each.
double best_microseconds(const std::function<void()>& work) {
  work();
  int calls = 1;
  for (;;) {
    const auto start = Clock::now();
    for (int c = 0; c < calls; ++c) work();
    if (std::chrono::duration<double>(Clock::now() - start).count() >= 0.02) break;
    calls *= 2;
  }
  double best = 1e30;
  for (int r = 0; r < 9; ++r) {
    const auto start = Clock::now();
    for (int c = 0; c < calls; ++c) work();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - start).count() * 1e6 / calls);
  }
  return best;
}

void fill(std::vector<float>& v, unsigned seed) {
  for (auto& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = float(seed >> 8) / float(1 << 24) - 0.5f;
  }
}

struct Row {
  std::string name;
  double one, many;  // µs per call with 1 thread and with N
};

// The same call timed on a pool of one thread and on a pool of N.
Row compare(const std::string& name, ThreadPool& one, ThreadPool& many, const std::function<void(ThreadPool*)>& call) {
  Row row{name, 0, 0};
  row.one = best_microseconds([&] { call(&one); });
  row.many = best_microseconds([&] { call(&many); });
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--json")) json = true;
  }
  ThreadPool one(1), many(threads);
  std::vector<Row> rows;

  // An empty region: back to back (workers spinning), then each after a pause that outlasts the spin.
  const double spinning = best_microseconds([&] { many.run([](int) {}); });
  double asleep = 1e30;
  for (int r = 0; r < 20; ++r) {
    std::this_thread::sleep_for(std::chrono::microseconds(std::max(2000, 2 * ThreadPool::kSpinMicroseconds)));
    const auto start = Clock::now();
    many.run([](int) {});
    asleep = std::min(asleep, std::chrono::duration<double>(Clock::now() - start).count() * 1e6);
  }
  rows.push_back({"pool_round_trip_spinning", 0, spinning});
  rows.push_back({"pool_round_trip_asleep", 0, asleep});

  // Matrices of generation: C3 (C 128), C1 (H 256: W_hh (1024, 256)), GPT-2 small (C 768, V 50257).
  const int shapes[][2] = {{384, 128}, {512, 256}, {1024, 256}, {1024, 512},
                           {2304, 768}, {768, 3072}, {3072, 768}, {50257, 768}};
  for (const auto& shape : shapes) {
    const int M = shape[0], K = shape[1];
    std::vector<float> A(size_t(M) * K), x(static_cast<size_t>(K)), y(static_cast<size_t>(M));
    fill(A, 1);
    fill(x, 2);
    std::vector<uint16_t> panels(size_t(half_panels_size(M, K)));
    convert_to_half_panels(panels.data(), A.data(), M, K);
    const std::string size = std::to_string(M) + "x" + std::to_string(K);
    rows.push_back(compare("sgemv_" + size, one, many, [&](ThreadPool* pool) {
      sgemv(pool, y.data(), A.data(), K, x.data(), M, K, 0.0f);
    }));
    if (half_weights_are_fast()) {
      rows.push_back(compare("sgemv_f16_" + size, one, many, [&](ThreadPool* pool) {
        sgemv_f16(pool, y.data(), panels.data(), x.data(), M, K, 0.0f);
      }));
    }
  }
  // Training products: C3's c_attn over B·T = 2048 rows, C1's input side and weight gradient.
  const int products[][3] = {{2048, 384, 128}, {2048, 1024, 64}, {1024, 256, 2048}, {128, 128, 128}};
  for (const auto& p : products) {
    const int M = p[0], N = p[1], K = p[2];
    std::vector<float> A(size_t(M) * K), B(size_t(N) * K), C(size_t(M) * N);
    fill(A, 3);
    fill(B, 4);
    rows.push_back(compare("sgemm_nt_" + std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K), one,
                           many, [&](ThreadPool* pool) {
                             sgemm_nt(pool, C.data(), N, A.data(), K, B.data(), K, M, N, K, 0.0f);
                           }));
  }

  for (const Row& row : rows) {
    if (json) {
      std::printf("{\"name\":\"%s\",\"threads\":%d,\"us_1\":%.2f,\"us_n\":%.2f,\"speedup\":%.3f}\n", row.name.c_str(),
                  many.size(), row.one, row.many, row.one > 0 ? row.one / row.many : 0.0);
    } else if (row.one == 0) {
      std::printf("%-28s %d threads: %8.2f us\n", row.name.c_str(), many.size(), row.many);
    } else {
      std::printf("%-28s 1 thread %9.2f us, %d threads %9.2f us: %5.2fx\n", row.name.c_str(), row.one, many.size(),
                  row.many, row.one / row.many);
    }
  }
  return 0;
}
