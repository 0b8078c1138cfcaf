// The thread pool and parallel_for: every element covered once, chunk boundaries that do not depend on the pool's
// size, exceptions from any worker reaching the caller with the pool still usable, nested and concurrent use; and
// the pooled kernels (parallel_kernels.hpp) equal to their serial kernels bit for bit at every pool size.
#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <cfloat>
#include <chrono>
#include <cmath>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "half.hpp"
#include "parallel/parallel_kernels.hpp"
#include "tinylm/error.hpp"
#include "tinylm/rng.hpp"

using namespace tinylm;

namespace {

std::vector<float> random_vector(size_t n, Rng& rng, float scale = 1.0f) {
  std::vector<float> v(n);
  for (float& x : v) x = (2.0f * rng.uniform() - 1.0f) * scale;
  return v;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("thread pool: sizes, resizing, and errors for impossible ones") {
  CHECK(ThreadPool::hardware_threads() >= 1);
  for (int threads : {1, 2, 3, 4}) CHECK(ThreadPool(threads).size() == threads);
  CHECK_THROWS_WITH_AS(ThreadPool(0), doctest::Contains("between 1 and"), Error);
  CHECK_THROWS_WITH_AS(ThreadPool(ThreadPool::kMaxThreads + 1), doctest::Contains("got 257"), Error);
  ThreadPool pool(2);
  for (int threads : {4, 1, 3}) {
    CAPTURE(threads);
    pool.resize(threads);
    CHECK(pool.size() == threads);
    std::vector<std::atomic<int>> ran(4);
    pool.run([&](int worker) { ++ran[size_t(worker)]; });
    for (int worker = 0; worker < 4; ++worker) CHECK(ran[size_t(worker)] == (worker < threads ? 1 : 0));
  }
  CHECK_THROWS_WITH_AS(pool.resize(0), doctest::Contains("got 0"), Error);
  CHECK(pool.size() == 3);  // a refused size leaves the pool as it was
}

TEST_CASE("parallel_for: every element once, in whole chunks, from each worker at most one call") {
  for (int threads : {1, 2, 3, 4}) {
    ThreadPool pool(threads);
    for (auto [range, grain] : {std::pair<int64_t, int64_t>{0, 4}, {1, 4}, {7, 3}, {64, 16}, {1000, 7}, {5, 100}}) {
      CAPTURE(threads);
      CAPTURE(range);
      CAPTURE(grain);
      std::vector<std::atomic<int>> visits(static_cast<size_t>(range));
      std::mutex mutex;
      std::vector<std::pair<int64_t, int64_t>> calls;
      parallel_for(&pool, range, grain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) ++visits[size_t(i)];
        std::lock_guard<std::mutex> lock(mutex);
        calls.emplace_back(begin, end);
      });
      for (const auto& count : visits) CHECK(count == 1);
      CHECK(int64_t(calls.size()) <= std::min<int64_t>(threads, chunk_count(range, grain)));
      for (auto [begin, end] : calls) {
        CHECK(begin % grain == 0);
        CHECK((end == range || end % grain == 0));
      }
    }
  }
}

TEST_CASE("parallel_for_chunks: the same chunks whatever the pool's size") {
  std::set<std::tuple<int64_t, int64_t, int64_t>> serial;
  parallel_for_chunks(nullptr, 1003, 10, [&](int64_t chunk, int64_t begin, int64_t end) {
    serial.emplace(chunk, begin, end);
  });
  CHECK(serial.size() == 101);
  CHECK(*serial.rbegin() == std::make_tuple(int64_t(100), int64_t(1000), int64_t(1003)));
  for (int threads : {1, 2, 3, 4}) {
    CAPTURE(threads);
    ThreadPool pool(threads);
    std::mutex mutex;
    std::set<std::tuple<int64_t, int64_t, int64_t>> chunks;
    parallel_for_chunks(&pool, 1003, 10, [&](int64_t chunk, int64_t begin, int64_t end) {
      std::lock_guard<std::mutex> lock(mutex);
      chunks.emplace(chunk, begin, end);
    });
    CHECK(chunks == serial);
  }
}

TEST_CASE("thread pool: an exception in any worker reaches the caller, and the pool stays usable") {
  for (int threads : {2, 3, 4}) {
    ThreadPool pool(threads);
    for (int thrower = 0; thrower < threads; ++thrower) {
      CAPTURE(threads);
      CAPTURE(thrower);
      std::atomic<int> finished{0};
      CHECK_THROWS_WITH_AS(pool.run([&](int worker) {
                             if (worker == thrower) fail("worker ", worker, " failed");
                             ++finished;
                           }),
                           doctest::Contains(("worker " + std::to_string(thrower) + " failed").c_str()), Error);
      CHECK(finished == threads - 1);  // the other parts ran to completion before run() returned
      std::vector<int64_t> squares(100);
      parallel_for(&pool, 100, 9, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) squares[size_t(i)] = i * i;
      });
      for (int64_t i = 0; i < 100; ++i) CHECK(squares[size_t(i)] == i * i);
    }
    // Several workers throwing: the lowest one's exception is the one reported.
    CHECK_THROWS_WITH_AS(pool.run([&](int worker) {
                           if (worker >= 1) fail("worker ", worker, " failed");
                         }),
                         "worker 1 failed", Error);
  }
}

TEST_CASE("thread pool: nested, repeated, idle and concurrent use") {
  ThreadPool pool(3);
  SUBCASE("a parallel_for inside a task runs on that task's thread, with the same result") {
    std::vector<std::atomic<int>> visits(64 * 64);
    parallel_for(&pool, 64, 4, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        parallel_for(&pool, 64, 8, [&](int64_t inner_begin, int64_t inner_end) {
          for (int64_t j = inner_begin; j < inner_end; ++j) ++visits[size_t(i * 64 + j)];
        });
      }
    });
    for (const auto& count : visits) CHECK(count == 1);
  }
  SUBCASE("thousands of small jobs back to back, and jobs after the workers fell asleep") {
    int64_t total = 0;
    for (int job = 0; job < 5000; ++job) {
      std::array<int64_t, 4> parts{};
      pool.run([&](int worker) { parts[size_t(worker)] = worker + job; });
      for (int64_t part : parts) total += part;
    }
    CHECK(total == 5000 * (0 + 1 + 2) + 3 * (int64_t(4999) * 5000 / 2));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // far past the spin: every worker sleeps
    std::atomic<int> ran{0};
    pool.run([&](int) { ++ran; });
    CHECK(ran == 3);
  }
  SUBCASE("two threads sharing one pool both get complete results") {
    auto sum_of_range = [&](int64_t n) {
      std::vector<int64_t> partials(size_t(chunk_count(n, 100)));
      parallel_for_chunks(&pool, n, 100, [&](int64_t chunk, int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) partials[size_t(chunk)] += i;
      });
      int64_t total = 0;
      for (int64_t partial : partials) total += partial;
      return total;
    };
    std::atomic<int> wrong{0};
    auto hammer = [&] {
      for (int round = 0; round < 300; ++round)
        if (sum_of_range(10000) != int64_t(9999) * 10000 / 2) ++wrong;
    };
    std::thread other(hammer);
    hammer();
    other.join();
    CHECK(wrong == 0);
  }
}

// ---- pooled kernels ----------------------------------------------------------------------------------------------

TEST_CASE("pooled matrix products equal the serial kernel bit for bit") {
  Rng rng(21);
  // Shapes that split by rows (M large), by columns (N large), and stay whole (small), with odd edges.
  for (auto [M, N, K] : {std::tuple{523, 37, 67}, std::tuple{29, 701, 131}, std::tuple{1100, 300, 5},
                         std::tuple{7, 9, 3}}) {
    CAPTURE(M);
    CAPTURE(N);
    CAPTURE(K);
    const std::vector<float> A = random_vector(size_t(M) * K, rng), B = random_vector(size_t(K) * N, rng),
                             bias = random_vector(size_t(N), rng), C0 = random_vector(size_t(M) * N, rng);
    // nn: A (M,K), B (K,N); nt: B read as (N,K); tn: A read as (K,M).
    std::vector<float> nn = C0, nt = C0, tn = C0, nt_bias(C0.size());
    sgemm_nn(nn.data(), N, A.data(), K, B.data(), N, M, N, K, 1.0f);
    sgemm_nt(nt.data(), N, A.data(), K, B.data(), K, M, N, K, 0.0f);
    sgemm_tn(tn.data(), N, A.data(), M, B.data(), N, M, N, K, 1.0f);
    sgemm_nt_bias(nt_bias.data(), N, A.data(), K, B.data(), K, bias.data(), M, N, K);
    for (int threads : {1, 2, 3, 4}) {
      CAPTURE(threads);
      ThreadPool pool(threads);
      std::vector<float> pooled_nn = C0, pooled_nt = C0, pooled_tn = C0, pooled_nt_bias(C0.size());
      sgemm_nn(&pool, pooled_nn.data(), N, A.data(), K, B.data(), N, M, N, K, 1.0f);
      sgemm_nt(&pool, pooled_nt.data(), N, A.data(), K, B.data(), K, M, N, K, 0.0f);
      sgemm_tn(&pool, pooled_tn.data(), N, A.data(), M, B.data(), N, M, N, K, 1.0f);
      sgemm_nt_bias(&pool, pooled_nt_bias.data(), N, A.data(), K, B.data(), K, bias.data(), M, N, K);
      CHECK(same_bits(pooled_nn, nn));
      CHECK(same_bits(pooled_nt, nt));
      CHECK(same_bits(pooled_tn, tn));
      CHECK(same_bits(pooled_nt_bias, nt_bias));
    }
  }
}

TEST_CASE("pooled packing of a recurrent weight gives the serial packing's products bit for bit") {
  Rng rng(23);
  // A partial last panel, more columns than one N block holds, and depths of one and of several K blocks.
  for (auto [N, K] : {std::pair{37, 19}, std::pair{1100, 64}, std::pair{200, 1500}, std::pair{1, 1}}) {
    CAPTURE(N);
    CAPTURE(K);
    const int M = 5;
    const std::vector<float> A = random_vector(size_t(M) * K, rng), B = random_vector(size_t(K) * N, rng);
    PackedMatrix serial_nt, serial_nn;
    serial_nt.pack_nt(B.data(), K, N, K);  // B read as (N,K)
    serial_nn.pack_nn(B.data(), N, K, N);  // B read as (K,N)
    std::vector<float> expected_nt(size_t(M) * N), expected_nn(size_t(M) * N);
    sgemm_packed(expected_nt.data(), N, A.data(), K, serial_nt, M, 0.0f);
    sgemm_packed(expected_nn.data(), N, A.data(), K, serial_nn, M, 0.0f);
    for (int threads : {1, 2, 3}) {
      CAPTURE(threads);
      ThreadPool pool(threads);
      PackedMatrix pooled_nt, pooled_nn;
      pack_nt(&pool, pooled_nt, B.data(), K, N, K);
      pack_nn(&pool, pooled_nn, B.data(), N, K, N);
      std::vector<float> nt(size_t(M) * N), nn(size_t(M) * N);
      sgemm_packed(nt.data(), N, A.data(), K, pooled_nt, M, 0.0f);
      sgemm_packed(nn.data(), N, A.data(), K, pooled_nn, M, 0.0f);
      CHECK(same_bits(nt, expected_nt));
      CHECK(same_bits(nn, expected_nn));
    }
  }
}

TEST_CASE("pooled matrix-vector products equal the serial kernel bit for bit") {
  Rng rng(22);
  for (auto [M, K] : {std::pair{1000, 300}, std::pair{3001, 77}, std::pair{40, 50}}) {
    for (int vectors : {1, 2}) {
      CAPTURE(M);
      CAPTURE(K);
      CAPTURE(vectors);
      const std::vector<float> A = random_vector(size_t(M) * K, rng), x = random_vector(size_t(vectors) * K, rng),
                               y0 = random_vector(size_t(vectors) * M, rng);
      std::vector<uint16_t> panels(size_t(half_panels_size(M, K)));
      REQUIRE(convert_to_half_panels(panels.data(), A.data(), M, K));
      std::vector<int8_t> q(size_t(M) * K);
      std::vector<float> scales(static_cast<size_t>(M));
      REQUIRE(quantize_rows_int8(q.data(), scales.data(), A.data(), M, K));
      std::vector<float> f32 = y0, f16 = y0, q8 = y0;
      sgemv(f32.data(), A.data(), K, x.data(), M, K, 1.0f, vectors);
      sgemv_f16(f16.data(), panels.data(), x.data(), M, K, 1.0f, vectors);
      sgemv_q8(q8.data(), q.data(), scales.data(), K, x.data(), M, K, 1.0f);
      for (int threads : {2, 3, 4}) {
        CAPTURE(threads);
        ThreadPool pool(threads);
        std::vector<float> pooled_f32 = y0, pooled_f16 = y0, pooled_q8 = y0;
        sgemv(&pool, pooled_f32.data(), A.data(), K, x.data(), M, K, 1.0f, vectors);
        sgemv_f16(&pool, pooled_f16.data(), panels.data(), x.data(), M, K, 1.0f, vectors);
        sgemv_q8(&pool, pooled_q8.data(), q.data(), scales.data(), K, x.data(), M, K, 1.0f);
        CHECK(same_bits(pooled_f32, f32));
        CHECK(same_bits(pooled_f16, f16));
        CHECK(same_bits(pooled_q8, q8));
      }
    }
  }
}

TEST_CASE("pooled row kernels and sums: the same bits at every pool size, close to the serial kernels") {
  Rng rng(23);
  const int N = 1537, C = 96, V = 61;
  const std::vector<float> x = random_vector(size_t(N) * C, rng, 3.0f), weight = random_vector(C, rng),
                           bias = random_vector(C, rng), dout = random_vector(size_t(N) * C, rng),
                           logits = random_vector(size_t(N) * V, rng, 4.0f);
  std::vector<int32_t> targets(N);
  for (int n = 0; n < N; ++n) targets[n] = n % 5 == 0 ? -1 : int32_t(rng.below(V));

  struct Results {
    std::vector<float> out, mean, rstd, dx, dweight, dbias, probs, losses, dlogits, column_sums, scattered;
    double loss_sum = 0, squares = 0;
  };
  std::vector<int32_t> ids(N);
  for (int n = 0; n < N; ++n) ids[n] = int32_t(rng.below(7));
  auto run = [&](ThreadPool* pool) {
    Results r;
    r.out.resize(x.size());
    r.mean.resize(N);
    r.rstd.resize(N);
    layernorm_rows_forward(pool, r.out.data(), r.mean.data(), r.rstd.data(), x.data(), weight.data(), bias.data(), N,
                           C);
    r.dx.assign(x.size(), 0.5f);
    r.dweight.assign(C, 0.25f);
    r.dbias.assign(C, -0.25f);
    std::vector<float> partials;
    layernorm_rows_backward(pool, r.dx.data(), r.dweight.data(), r.dbias.data(), dout.data(), x.data(),
                            weight.data(), r.mean.data(), r.rstd.data(), N, C, partials);
    r.probs.resize(logits.size());
    r.losses.resize(N);
    r.loss_sum = softmax_xent_forward(pool, r.probs.data(), r.losses.data(), logits.data(), targets.data(), N, V);
    r.dlogits.resize(logits.size());
    softmax_xent_backward(pool, r.dlogits.data(), r.probs.data(), targets.data(), 0.01f, N, V);
    r.column_sums.assign(C, 1.0f);
    column_sums_accumulate(pool, r.column_sums.data(), dout.data(), N, C);
    r.scattered.assign(size_t(7) * C, 0.0f);
    scatter_rows_accumulate(pool, r.scattered.data(), dout.data(), ids.data(), N, C);
    r.squares = sum_squares(pool, x.data(), int64_t(x.size()));
    return r;
  };
  const Results serial = run(nullptr);
  // Against the serial kernels: row-wise results and ordered sums are identical; LayerNorm's chunked weight and
  // bias sums agree to rounding.
  std::vector<float> out(x.size()), mean(N), rstd(N), dx(x.size(), 0.5f), dweight(C, 0.25f), dbias(C, -0.25f);
  layernorm_rows_forward(out.data(), mean.data(), rstd.data(), x.data(), weight.data(), bias.data(), N, C);
  layernorm_rows_backward(dx.data(), dweight.data(), dbias.data(), dout.data(), x.data(), weight.data(), mean.data(),
                          rstd.data(), N, C);
  CHECK(same_bits(serial.out, out));
  CHECK(same_bits(serial.dx, dx));
  for (int c = 0; c < C; ++c) {
    // A sum of N terms in another order: within 2·N·eps·Σ|term|, each term at most |dout|·√C (|x̂| ≤ √C).
    double magnitude = 0;
    for (int n = 0; n < N; ++n) magnitude += std::fabs(dout[size_t(n) * C + c]) * std::sqrt(double(C));
    const double bound = 2.0 * N * FLT_EPSILON * magnitude;
    CHECK(std::fabs(serial.dweight[c] - dweight[c]) <= bound);
    CHECK(std::fabs(serial.dbias[c] - dbias[c]) <= bound);
  }
  for (int c = 0; c < C; ++c) {
    // Column sums, added a chunk of rows at a time (10 chunks here): the row-order sum onto 1 to within
    // 2·N·eps·(1 + Σ|term|).
    double sum = 1.0, magnitude = 1.0;
    for (int n = 0; n < N; ++n) {
      sum += dout[size_t(n) * C + c];
      magnitude += std::fabs(dout[size_t(n) * C + c]);
    }
    CHECK(std::fabs(serial.column_sums[c] - sum) <= 2.0 * N * FLT_EPSILON * magnitude);
  }
  std::vector<float> probs(logits.size()), losses(N);
  CHECK(serial.loss_sum == softmax_xent_forward(probs.data(), losses.data(), logits.data(), targets.data(), N, V));
  CHECK(serial.squares == doctest::Approx(sum_squares(x.data(), int64_t(x.size()))).epsilon(1e-12));
  for (int threads : {2, 3, 4}) {
    CAPTURE(threads);
    ThreadPool pool(threads);
    const Results pooled = run(&pool);
    CHECK(same_bits(pooled.out, serial.out));
    CHECK(same_bits(pooled.mean, serial.mean));
    CHECK(same_bits(pooled.rstd, serial.rstd));
    CHECK(same_bits(pooled.dx, serial.dx));
    CHECK(same_bits(pooled.dweight, serial.dweight));
    CHECK(same_bits(pooled.dbias, serial.dbias));
    CHECK(same_bits(pooled.probs, serial.probs));
    CHECK(same_bits(pooled.losses, serial.losses));
    CHECK(same_bits(pooled.dlogits, serial.dlogits));
    CHECK(same_bits(pooled.column_sums, serial.column_sums));
    CHECK(same_bits(pooled.scattered, serial.scattered));
    CHECK(pooled.loss_sum == serial.loss_sum);
    CHECK(pooled.squares == serial.squares);
  }
}
