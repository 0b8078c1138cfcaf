// bench_kernels — single-core throughput of the matrix kernels against this machine's measured FMA peak.
//
//   bench_kernels          a human table
//   bench_kernels --json   one JSON object per line:
//                          {"name":"sgemm_nn_512","gflops":…,"peak_gflops":…,"fraction_of_peak":…}
//
// Peak: independent FMA chains on the widest xsimd::batch<float> of this build, enough chains to cover FMA
// latency × ports, so the loop is throughput-bound (mul+add chains in the wasm build, bench_kernels_wasm). Every figure is the best of several repetitions (the
// machine is shared), each repetition long enough (≥ 20 ms) for the clock to be meaningful; the peak is
// measured before and after the kernels and the higher figure kept.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "kernels/kernels.hpp"
#include "kernels/simd.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
constexpr int repetitions = 7;
constexpr double min_repetition_seconds = 0.02;

// Best seconds per call of `work` over `repetitions`, each repetition calling it enough times to last.
double best_seconds_per_call(const std::function<void()>& work) {
  work();  // warm caches and grow pack buffers
  int calls = 1;
  for (;;) {
    auto start = clock_type::now();
    for (int c = 0; c < calls; ++c) work();
    double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    if (seconds >= min_repetition_seconds) break;
    calls *= 2;
  }
  double best = 1e30;
  for (int r = 0; r < repetitions; ++r) {
    auto start = clock_type::now();
    for (int c = 0; c < calls; ++c) work();
    best = std::min(best, std::chrono::duration<double>(clock_type::now() - start).count() / calls);
  }
  return best;
}

// GFLOP/s of `Chains` independent FMA dependency chains on fbatch (2 flops per lane per FMA). Under Emscripten
// there is no FMA: xsimd emits a mul then an add, so each chain is a mul+add pair and the figure is the WASM SIMD
// mul/add peak.
template <int Chains>
double measure_fma_chains() {
  using tinylm::simd::fbatch;
  constexpr int iterations = 1 << 16;
  float sink = 0.0f;
  auto work = [&] {
    fbatch acc[Chains];
    tinylm::simd::unroll<Chains>([&](auto c) { acc[c] = fbatch(1.0f + 0.001f * c); });
    const fbatch scale(0.999999f), offset(1e-6f);  // a fixed point near 1: no overflow, no denormals
    for (int it = 0; it < iterations; ++it)
      tinylm::simd::unroll<Chains>([&](auto c) { acc[c] = xsimd::fma(acc[c], scale, offset); });
    fbatch total(0.0f);
    tinylm::simd::unroll<Chains>([&](auto c) { total += acc[c]; });
    sink += tinylm::simd::reduce_add(total);
  };
  double seconds = best_seconds_per_call(work);
  if (sink == 42.0f) std::puts("");  // keeps the chains observable
  return 2.0 * tinylm::simd::fwidth * Chains * double(iterations) / seconds * 1e-9;
}

// Enough chains to cover FMA latency (4) × ports (2) with room to spare, yet few enough to stay in registers:
// 24 of the 32 zmm on AVX-512; on 16-register ISAs (AVX2, SSE, and wasm as V8 maps it onto xmm) 24 accumulators
// spill, so the best of 8 and 12 chains is the peak there.
double measure_fma_peak() {
  if constexpr (tinylm::simd::fwidth >= 16) {
    return measure_fma_chains<24>();
  } else {
    return std::max(measure_fma_chains<8>(), measure_fma_chains<12>());
  }
}

struct Row {
  std::string name, shape;
  double seconds, gflops;
};

void fill(std::vector<float>& v, unsigned seed) {
  for (auto& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = float(seed >> 8) / float(1 << 24) - 0.5f;
  }
}

using Gemm = void (*)(float*, int, const float*, int, const float*, int, int, int, int, float);

// Shapes are C (M,N) += op(A)·op(B) over K; storage follows the variant (nt: B (N,K); tn: A (K,M)).
Row bench_gemm(const char* variant, Gemm gemm, int M, int N, int K, const std::string& name) {
  const bool a_transposed = std::strcmp(variant, "tn") == 0, b_transposed = std::strcmp(variant, "nt") == 0;
  std::vector<float> A(std::size_t(M) * K), B(std::size_t(K) * N), C(std::size_t(M) * N);
  fill(A, 1);
  fill(B, 2);
  const int lda = a_transposed ? M : K, ldb = b_transposed ? K : N;
  double seconds = best_seconds_per_call([&] { gemm(C.data(), N, A.data(), lda, B.data(), ldb, M, N, K, 0.0f); });
  char shape[64];
  std::snprintf(shape, sizeof shape, "M=%d N=%d K=%d", M, N, K);
  return {name, shape, seconds, 2.0 * M * N * K / seconds * 1e-9};
}

Row bench_gemv(int M, int K) {
  std::vector<float> A(std::size_t(M) * K), x(K), y(M);
  fill(A, 3);
  fill(x, 4);
  double seconds = best_seconds_per_call([&] { tinylm::sgemv(y.data(), A.data(), K, x.data(), M, K, 0.0f); });
  char shape[64];
  std::snprintf(shape, sizeof shape, "M=%d K=%d", M, K);
  return {"sgemv_" + std::to_string(M) + "x" + std::to_string(K), shape, seconds, 2.0 * M * K / seconds * 1e-9};
}

}  // namespace

int main(int argc, char** argv) {
  const bool json = argc > 1 && std::strcmp(argv[1], "--json") == 0;
  double peak = measure_fma_peak();

  std::vector<Row> rows;
  struct Variant {
    const char* tag;
    Gemm fn;
  };
  const Variant variants[] = {{"nn", tinylm::sgemm_nn}, {"nt", tinylm::sgemm_nt}, {"tn", tinylm::sgemm_tn}};
  struct Shape {
    int M, N, K;
    const char* label;
  };
  // 256³ and 512³, then the recurrent-layer shapes: one time step (M = batch 32, N = 4H, K = H) and a whole
  // window at once (M = B·T = 2048) with K = embedding 64 or hidden 256; then a prompt's batch of 64 tokens through
  // GPT-2-small's attention input (N = 3C, K = C) and MLP output (N = C, K = 4C), whose nt rows are a prefill's.
  const Shape shapes[] = {{256, 256, 256, "256"},        {512, 512, 512, "512"},
                          {32, 1024, 256, "32x1024x256"}, {2048, 1024, 64, "2048x1024x64"},
                          {2048, 1024, 256, "2048x1024x256"}, {64, 2304, 768, "64x2304x768"},
                          {64, 768, 3072, "64x768x3072"}};
  for (const Shape& s : shapes)
    for (const Variant& v : variants)
      rows.push_back(bench_gemm(v.tag, v.fn, s.M, s.N, s.K, std::string("sgemm_") + v.tag + "_" + s.label));
  rows.push_back(bench_gemv(1024, 256));
  rows.push_back(bench_gemv(100, 256));
  peak = std::max(peak, measure_fma_peak());  // measured again: a neighbour's burst must not deflate the peak

  if (json) {
    std::printf("{\"name\":\"fma_peak\",\"gflops\":%.2f,\"peak_gflops\":%.2f,\"fraction_of_peak\":1.000,"
                "\"simd_width\":%d}\n", peak, peak, tinylm::simd::fwidth);
    for (const Row& r : rows)
      std::printf("{\"name\":\"%s\",\"gflops\":%.2f,\"peak_gflops\":%.2f,\"fraction_of_peak\":%.3f}\n",
                  r.name.c_str(), r.gflops, peak, r.gflops / peak);
    return 0;
  }
  std::printf("single-core FMA peak: %.1f GFLOP/s (batch<float> width %d)\n\n", peak, tinylm::simd::fwidth);
  std::printf("%-22s %-22s %10s %10s %8s\n", "kernel", "shape", "time us", "GFLOP/s", "of peak");
  for (const Row& r : rows)
    std::printf("%-22s %-22s %10.1f %10.1f %7.1f%%\n", r.name.c_str(), r.shape.c_str(), r.seconds * 1e6, r.gflops,
                100.0 * r.gflops / peak);
  return 0;
}
