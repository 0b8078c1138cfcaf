// ThreadPool (contract in thread_pool.hpp). One job at a time: the caller publishes the task, bumps `generation`
// and runs worker 0's part; each worker sees the new generation, runs its part and counts `pending` down; the
// caller returns once `pending` reaches 0. Every shared variable is a sequentially consistent atomic, so a sleeper
// registers (sleepers) before it re-checks its condition, and a waker that finds no sleeper needs no lock.
//
// Workers are POSIX threads rather than std::thread: pthread_create reports a thread the platform will not start
// as an error code, where std::thread throws — and under Emscripten 3.1.6 (-fwasm-exceptions, pthreads) that throw
// reaches the caller as an exception of no C++ type, so a pool asked for more threads than the page's Workers
// could not tell it apart from a real failure.
#include "parallel/thread_pool.hpp"

#include "parallel/parallel_for.hpp"

#include "tinylm/error.hpp"

#if TINYLM_THREADS_AVAILABLE
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>
#endif

namespace tinylm {

namespace {
void check_thread_count(int threads) {
  check(threads >= 1 && threads <= ThreadPool::kMaxThreads, "thread count must be between 1 and ",
        ThreadPool::kMaxThreads, ", got ", threads);
}
}  // namespace

#if TINYLM_THREADS_AVAILABLE

struct ThreadPool::Shared {
  struct Start {  // what a worker thread starts from
    Shared* shared;
    int worker;     // 1 … size−1
    uint64_t seen;  // the generation it starts after
  };
  std::vector<Start> starts;        // (threads asked for) stable while the workers run
  std::vector<pthread_t> threads;   // workers 1 … size−1
  std::mutex mutex;                 // guards sleeping only
  std::condition_variable work_ready, work_done;
  std::atomic<uint64_t> generation{0};  // one more per job (and once more to stop)
  std::atomic<int> pending{0};          // workers still running the current job
  std::atomic<int> sleepers{0};         // threads blocked, or about to block, on a condition variable
  std::atomic<bool> busy{false};        // a job is in flight
  std::atomic<bool> stopping{false};
  ErasedTask task = nullptr;
  void* context = nullptr;
  std::vector<std::exception_ptr> errors;  // (size) what each worker's part threw in the current job
};

namespace {

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Spins until ready() for about kSpinMicroseconds (yielding the core to other threads after the first few
// hundred polls, so an oversubscribed machine still makes progress), then sleeps on `condition`.
template <typename Shared, typename Ready>
void wait_until(Shared& shared, std::condition_variable& condition, Ready ready) {
  using Clock = std::chrono::steady_clock;
  constexpr int kPauseRounds = 256;
  const auto deadline = Clock::now() + std::chrono::microseconds(ThreadPool::kSpinMicroseconds);
  for (int round = 0;; ++round) {
    if (ready()) return;
    if (round < kPauseRounds) {
      cpu_relax();
      continue;
    }
    if (Clock::now() > deadline) break;
    std::this_thread::yield();
  }
  std::unique_lock<std::mutex> lock(shared.mutex);
  shared.sleepers.fetch_add(1);
  condition.wait(lock, ready);
  shared.sleepers.fetch_sub(1);
}

template <typename Shared>
void wake(Shared& shared, std::condition_variable& condition) {
  if (shared.sleepers.load() == 0) return;
  { std::lock_guard<std::mutex> lock(shared.mutex); }  // a sleeper between its check and its wait holds the lock
  condition.notify_all();
}

// A worker: waits for each job after `seen` and runs its part of it, until the pool stops.
template <typename Shared>
void worker_loop(Shared& shared, int worker, uint64_t seen) {
  for (;;) {
    wait_until(shared, shared.work_ready, [&] { return shared.generation.load() != seen; });
    seen = shared.generation.load();
    if (shared.stopping.load()) return;
    try {
      shared.task(shared.context, worker);
    } catch (...) {
      shared.errors[worker] = std::current_exception();
    }
    if (shared.pending.fetch_sub(1) == 1) wake(shared, shared.work_done);
  }
}

template <typename Shared>
void* worker_main(void* start) {
  const auto& from = *static_cast<const typename Shared::Start*>(start);
  worker_loop(*from.shared, from.worker, from.seen);
  return nullptr;
}

}  // namespace

ThreadPool::ThreadPool(int threads) : shared_(std::make_unique<Shared>()) { start_workers(threads); }

ThreadPool::~ThreadPool() { stop_workers(); }

void ThreadPool::resize(int threads) {
  check_thread_count(threads);  // before stopping: a bad count leaves the pool as it was
  stop_workers();
  start_workers(threads);
}

void ThreadPool::start_workers(int threads) {
  check_thread_count(threads);
  shared_->errors.assign(threads, nullptr);
  const uint64_t current = shared_->generation.load();  // new workers wait for the next job, not this one
  shared_->starts.assign(threads, Shared::Start{shared_.get(), 0, current});
  for (int worker = 1; worker < threads; ++worker) {
    Shared::Start& start = shared_->starts[worker];
    start.worker = worker;
    pthread_t thread;
    // A platform with no more threads to give (EAGAIN): the pool runs with those that started.
    if (pthread_create(&thread, nullptr, worker_main<Shared>, &start) != 0) break;
    shared_->threads.push_back(thread);
  }
  size_ = 1 + int(shared_->threads.size());
}

void ThreadPool::stop_workers() {
  if (shared_->threads.empty()) return;
  shared_->stopping.store(true);
  shared_->generation.fetch_add(1);
  wake(*shared_, shared_->work_ready);
  for (pthread_t thread : shared_->threads) pthread_join(thread, nullptr);
  shared_->threads.clear();
  shared_->stopping.store(false);
  size_ = 1;
}

void ThreadPool::run_erased(ErasedTask task, void* context) {
  Shared& shared = *shared_;
  if (size_ == 1) return task(context, 0);
  if (shared.busy.exchange(true)) {  // nested, or another thread's job in flight: every part here, in order
    for (int worker = 0; worker < size_; ++worker) task(context, worker);
    return;
  }
  shared.task = task;
  shared.context = context;
  shared.pending.store(size_ - 1);
  shared.generation.fetch_add(1);
  wake(shared, shared.work_ready);
  try {
    task(context, 0);
  } catch (...) {
    shared.errors[0] = std::current_exception();
  }
  wait_until(shared, shared.work_done, [&] { return shared.pending.load() == 0; });
  std::exception_ptr first;
  for (std::exception_ptr& error : shared.errors) {
    if (error && !first) first = error;
    error = nullptr;
  }
  shared.busy.store(false);
  if (first) std::rethrow_exception(first);
}

int ThreadPool::hardware_threads() { return std::max(1, int(std::thread::hardware_concurrency())); }

namespace detail {
void run_parts(ThreadPool* pool, int parts, void (*task)(void* context, int worker), void* context) {
  if (!pool || parts <= 1) return task(context, 0);
  struct Parts {
    ThreadPool::ErasedTask task;
    void* context;
    int parts;
  } some{task, context, parts};
  pool->run([&some](int worker) {
    if (worker < some.parts) some.task(some.context, worker);
  });
}
}  // namespace detail

#else  // no threads: every run() is a plain call, and a pool needs no state

struct ThreadPool::Shared {};

ThreadPool::ThreadPool(int threads) { resize(threads); }

ThreadPool::~ThreadPool() = default;

void ThreadPool::resize(int threads) { check_thread_count(threads); }

void ThreadPool::run_erased(ErasedTask task, void* context) { task(context, 0); }

int ThreadPool::hardware_threads() { return 1; }

#endif

}  // namespace tinylm
