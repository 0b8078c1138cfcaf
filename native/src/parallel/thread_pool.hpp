// ThreadPool: a fixed set of worker threads that run one task at a time together with the calling thread.
//
//   ThreadPool pool(4);      // 3 worker threads + the caller; ThreadPool(1) starts no thread at all
//   pool.run(task);          // task(worker) for worker = 0 … size()−1, worker 0 on the calling thread; returns
//                            // when all have returned, then rethrows the exception of the lowest worker that threw
//
// Code rarely calls run() itself: parallel_for (parallel_for.hpp) cuts work into chunks whose boundaries depend on
// the work alone, so results are the same whatever size() is. A pool is owned by whoever drives the engine (the
// CLI, the wasm bindings, a test) and handed to models (LanguageModel::set_thread_pool); nothing reaches a pool
// through global state.
//
// Waiting: an idle worker (and a caller waiting for the workers) spins for about kSpinMicroseconds — the next
// parallel region of a training step or a generated token usually follows within that — then sleeps on a condition
// variable, so a pool between calls burns no core. A run() issued while the pool is busy (from inside a task, or
// from another thread) runs every part on the calling thread: the same results, no deadlock.
//
// Builds without threads (the single-thread WebAssembly engine) compile a pool whose size() is the constant 1:
// parallel_for then reduces to a plain call at compile time.
#pragma once
#include <cstdint>
#include <memory>
#include <type_traits>

namespace tinylm {

#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
#define TINYLM_THREADS_AVAILABLE 0
#else
#define TINYLM_THREADS_AVAILABLE 1
#endif
inline constexpr bool kThreadsAvailable = TINYLM_THREADS_AVAILABLE;

class ThreadPool {
 public:
  static constexpr int kMaxThreads = 256;
  static constexpr int kSpinMicroseconds = 100;

  // threads: 1 … kMaxThreads (Error otherwise). Where the platform refuses to start a thread (a WebAssembly
  // engine whose worker pool is smaller), the pool keeps the threads that did start: size() tells.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return kThreadsAvailable ? size_ : 1; }
  // Stops the workers and starts `threads` − 1 new ones (same rules as the constructor), keeping the pool's
  // address, so models that hold it compute on the new size. Not while a run() is in flight.
  void resize(int threads);

  template <typename Task>
  void run(Task&& task) {
    run_erased(&invoke<std::remove_reference_t<Task>>, &task);
  }

  // The machine's hardware threads (at least 1), the CLI's default pool size.
  static int hardware_threads();

  using ErasedTask = void (*)(void* task, int worker);
  // run() without a template: task(context, worker) for every worker.
  void run_erased(ErasedTask task, void* context);

 private:
  template <typename Task>
  static void invoke(void* task, int worker) {
    (*static_cast<Task*>(task))(worker);
  }
  void start_workers(int threads);
  void stop_workers();

  struct Shared;  // the workers' synchronisation state (thread_pool.cpp)
  int size_ = 1;
  std::unique_ptr<Shared> shared_;
};

}  // namespace tinylm
