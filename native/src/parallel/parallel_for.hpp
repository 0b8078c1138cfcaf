// parallel_for: work over [0, range) split across a pool with a STATIC partition, so results never depend on the
// number of threads.
//
// The range is cut into chunks of `grain` (the last one may be shorter): chunk c is [c·grain, min((c+1)·grain,
// range)). The boundaries depend on range and grain only. Worker w of P takes the contiguous run of chunks
// [w·n/P, (w+1)·n/P) of the n chunks.
//
//   parallel_for(pool, range, grain, fn)         fn(begin, end) once per worker, over the union of its chunks: for
//                                                work where no element's arithmetic depends on where a call's range
//                                                begins or ends (rows of a matrix; SIMD element-wise passes with a
//                                                grain that is a multiple of the vector width, so the vector body and
//                                                the scalar tail split where they would in one serial call).
//   parallel_for_chunks(pool, range, grain, fn)  fn(chunk, begin, end) once per chunk, chunks in order on each
//                                                worker: for reductions, which keep one partial per chunk and
//                                                combine the partials in chunk order afterwards.
//
// pool may be null (serial). A region with a single chunk, or a pool of one thread, runs on the caller with no
// synchronisation at all; grains should give each chunk enough work to pay for waking a thread (a few µs).
#pragma once
#include <algorithm>
#include <cstdint>

#include "parallel/thread_pool.hpp"

namespace tinylm {

inline int64_t chunk_count(int64_t range, int64_t grain) { return range <= 0 ? 0 : (range + grain - 1) / grain; }

namespace detail {
// task(context, worker) for worker 0 … parts−1 on the pool (parts ≤ its size), or task(context, 0) alone on the
// calling thread when parts is 1 or there is no pool. Out of line and type-erased, so each region's body is
// compiled once, not once for the serial path and once more for the pooled one.
void run_parts(ThreadPool* pool, int parts, void (*task)(void* context, int worker), void* context);

template <typename Part>
void invoke_part(void* part, int worker) {
  (*static_cast<Part*>(part))(worker);
}

// The workers that take part: no more than there are chunks.
inline int parallel_parts(const ThreadPool* pool, int64_t chunks) {
  return pool ? int(std::min<int64_t>(pool->size(), chunks)) : 1;
}
}  // namespace detail

template <typename Fn>
void parallel_for(ThreadPool* pool, int64_t range, int64_t grain, Fn&& fn) {
  if constexpr (!kThreadsAvailable) {  // a build without threads: one plain call
    if (range > 0) fn(int64_t(0), range);
  } else {
    const int64_t chunks = chunk_count(range, grain);
    if (chunks == 0) return;
    const int parts = detail::parallel_parts(pool, chunks);
    auto part = [&](int worker) {
      const int64_t first = chunks * worker / parts, last = chunks * (worker + 1) / parts;
      if (first < last) fn(first * grain, std::min(last * grain, range));
    };
    detail::run_parts(pool, parts, &detail::invoke_part<decltype(part)>, &part);
  }
}

template <typename Fn>
void parallel_for_chunks(ThreadPool* pool, int64_t range, int64_t grain, Fn&& fn) {
  const int64_t chunks = chunk_count(range, grain);
  auto run_chunks = [&](int64_t first, int64_t last) {
    for (int64_t chunk = first; chunk < last; ++chunk) fn(chunk, chunk * grain, std::min((chunk + 1) * grain, range));
  };
  if constexpr (!kThreadsAvailable) {  // a build without threads: a plain loop
    run_chunks(0, chunks);
  } else {
    if (chunks == 0) return;
    const int parts = detail::parallel_parts(pool, chunks);
    auto part = [&](int worker) { run_chunks(chunks * worker / parts, chunks * (worker + 1) / parts); };
    detail::run_parts(pool, parts, &detail::invoke_part<decltype(part)>, &part);
  }
}

}  // namespace tinylm
