// bench_q8 — the int8 products of a prompt's batch and of a step over packed weight panels (sgemm_q8_panels), the
// chosen kernel against each register tile shape and each widened-panel tile, all in one process, alternated
// round by round so that a shared machine's load falls on every variant alike. Times are the process's CPU time, not
// the wall clock: on a machine shared with other work, the time a variant spends descheduled is not its own.
//
//   bench_q8 [tokens]   (default 64) one line per variant: the best total ms over the rounds for GPT-2-small's four
//                       and SmolLM2-135M's seven products with `tokens` rows, then the same for one row (a step)
//
// The wasm build (bench_q8_wasm, wasm/wasm.cmake) prints the same rows from Node.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "kernels/kernels.hpp"
#include "kernels/quantized_panels_tile.hpp"
#include "kernels/quantized_panels_widened.hpp"

#if defined(__EMSCRIPTEN__)
#include <emscripten.h>
EM_JS(double, process_cpu_ms, (), {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
});
#else
#include <ctime>
double process_cpu_ms() {
  timespec now;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return double(now.tv_sec) * 1e3 + double(now.tv_nsec) / 1e6;
}
#endif

namespace {

using namespace tinylm;

struct Product {
  int N, K;  // weights (N,K)
  std::vector<int8_t> rows, panels;
  std::vector<float> scales;
};

struct Variant {
  std::string name;
  std::function<void(const Product&, int M)> run;
  double best_ms = 1e30;
};

}  // namespace

int main(int argc, char** argv) {
  const int tokens = argc > 1 ? std::atoi(argv[1]) : 64;
  // GPT-2-small: qkv, attention out, MLP up, MLP down; SmolLM2-135M: q, k, v, o, gate, up, down.
  const int shapes[][2] = {{2304, 768}, {768, 768},  {3072, 768}, {768, 3072}, {576, 576}, {192, 576},
                           {192, 576},  {576, 576}, {1536, 576}, {1536, 576}, {576, 1536}};
  std::vector<Product> products;
  unsigned seed = 1;
  const auto next_byte = [&] {
    seed = seed * 1103515245u + 12345u;
    return int8_t(int((seed >> 16) % 255u) - 127);
  };
  int max_k = 0, max_n = 0;
  for (const auto& shape : shapes) {
    Product p{shape[0], shape[1], {}, {}, {}};
    p.rows.resize(size_t(p.N) * p.K);
    for (int8_t& b : p.rows) b = next_byte();
    p.panels.assign(size_t(q8_panels_size(p.N, p.K)), 0);
    pack_q8_panel_rows(p.panels.data(), p.rows.data(), 0, p.N, p.K);
    p.scales.assign(size_t(p.N), 0.01f);
    max_k = std::max(max_k, p.K);
    max_n = std::max(max_n, p.N);
    products.push_back(std::move(p));
  }
  std::vector<int8_t> a8(size_t(tokens) * max_k);
  for (int8_t& b : a8) b = next_byte();
  std::vector<float> a_scales(size_t(tokens), 0.02f), C(size_t(tokens) * max_n);
  std::vector<int16_t> a16(size_t(tokens) * (max_k + 1), 0);

  const auto widen = [&](const Product& p, int M) {  // the activations as QuantizedRows holds them
    const int lda = int(q8_panel_depth(p.K));
    for (int m = 0; m < M; ++m)
      for (int k = 0; k < p.K; ++k) a16[size_t(m) * lda + k] = a8[size_t(m) * p.K + k];
  };
  std::vector<Variant> variants;
  variants.push_back({"panels (chosen)", [&](const Product& p, int M) {
                        widen(p, M);
                        sgemm_q8_panels(C.data(), p.N, a16.data(), a_scales.data(), int(q8_panel_depth(p.K)),
                                        p.panels.data(), p.scales.data(), M, p.N, p.K, 0.0f);
                      }});
  // Each shape compared: T tokens × NP panels of 8 rows.
  const auto shape = [&](auto product, int T, int NP) {
    variants.push_back({"panels " + std::to_string(T) + "x" + std::to_string(NP * q8_panel_rows()),
                        [&, product](const Product& p, int M) {
                          widen(p, M);
                          product(C.data(), p.N, a16.data(), a_scales.data(), int(q8_panel_depth(p.K)),
                                  p.panels.data(), p.scales.data(), M, p.N, p.K, 0.0f);
                        }});
  };
  shape(q8_panels::product<1, 1>, 1, 1);
  shape(q8_panels::product<1, 2>, 1, 2);
  shape(q8_panels::product<1, 4>, 1, 4);
  shape(q8_panels::product<2, 2>, 2, 2);
  shape(q8_panels::product<3, 1>, 3, 1);
  shape(q8_panels::product<3, 2>, 3, 2);
  shape(q8_panels::product<4, 1>, 4, 1);
  shape(q8_panels::product<5, 1>, 5, 1);
  shape(q8_panels::product<6, 1>, 6, 1);
  shape(q8_panels::product<4, 2>, 4, 2);
  shape(q8_panels::product<6, 2>, 6, 2);
  // The widened-panel tiles (quantized_panels_widened.hpp), T tokens × one panel.
  static std::vector<int16_t> scratch;
  const auto widened = [&](auto product, int T) {
    variants.push_back({"widened " + std::to_string(T) + "x8", [&, product](const Product& p, int M) {
                          widen(p, M);
                          scratch.resize(q8_panels::widened_scratch(M, p.K));
                          product(C.data(), p.N, a16.data(), a_scales.data(), int(q8_panel_depth(p.K)),
                                  p.panels.data(), p.scales.data(), M, p.N, p.K, 0.0f, scratch.data());
                        }});
  };
  widened(q8_panels::widened_product<3>, 3);
  widened(q8_panels::widened_product<4>, 4);
  widened(q8_panels::widened_product<5>, 5);
  widened(q8_panels::widened_product<6>, 6);
  for (int M : {tokens, 1}) {  // (a step's products run 20 at a time: one is too short to time)
    for (Variant& v : variants) v.best_ms = 1e30;
    const int rounds = M == 1 ? 40 : 15;
    for (int round = 0; round < rounds; ++round) {
      for (Variant& v : variants) {
        const double start = process_cpu_ms();
        for (int repeat = 0; repeat < (M == 1 ? 20 : 1); ++repeat)
          for (const Product& p : products) v.run(p, M);
        const double ms = process_cpu_ms() - start;
        if (round > 0) v.best_ms = std::min(v.best_ms, ms);  // round 0 warms
      }
    }
    std::printf("M = %d (%s)\n", M, M == 1 ? "a step" : "a prompt's batch");
    for (const Variant& v : variants) std::printf("  %-18s %8.3f ms\n", v.name.c_str(), v.best_ms);
  }
  return 0;
}
