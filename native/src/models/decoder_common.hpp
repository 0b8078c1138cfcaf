// What GptLM and LlamaLM share besides their KV cache (decoder_cache.hpp): the weight matrices a generation step
// reads, and evaluation in overlapping windows (an Evaluation, advanced in chunks).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "compact_matrices.hpp"
#include "tensor.hpp"
#include "tinylm/model.hpp"

namespace tinylm {

class ThreadPool;

// buffer.size() ≥ floats; grow-only, so steady-state steps allocate nothing.
inline void grow(std::vector<float>& buffer, int64_t floats) {
  if (buffer.size() < size_t(floats)) buffer.resize(size_t(floats));
}

// Prompt tokens a decoder's prefill runs as one batch (its rows, with their shadow rows, at most twice this): enough
// rows for the products to run at GEMM speed, few enough that a batch's activations stay small (GPT-2's hidden layer:
// 128 × 3072 floats).
constexpr int kPrefillBatch = 64;

// ---- the matrices of a generation step --------------------------------------------------------------------
// Batch-1 generation reads every weight matrix once per token, so it runs at memory speed. A step reads each matrix
// through project(), from float weights (views into the parameter block), from half-precision panel copies or int8
// row copies taken here (a half or a quarter of the traffic), or from a model's own compact matrices (a model that
// holds no floats for them: compact_matrices.hpp).
class StepMatrices {
 public:
  enum class Copy { None, Half, Int8 };
  // The matrices, indexed in the order given; copies are made now (again after the weights change) of the float
  // views only. A weight a copy cannot hold (|w| > 65504 for Half, not finite) leaves every matrix read as given.
  void build(std::vector<MatrixView> matrices, Copy copy);
  // out (N,rows) = in (N,cols) · matrix(index)ᵀ + bias (rows, may be null), for N ≤ 2 rows that share each weight load;
  // the output rows split over `pool` (null: serial) when the matrix is large enough to gain.
  void project(ThreadPool* pool, float* out, const float* in, size_t index, const float* bias, int N) const;
  // The same for a prompt's batch of N rows: up to 2 rows as project() (the step's arithmetic), more through
  // matrix_rows, which reads each weight once for all of them.
  void project_rows(ThreadPool* pool, float* out, const float* in, size_t index, const float* bias, int N) const;

 private:
  std::vector<MatrixView> views_;
  CompactMatrices copies_;
  mutable QuantizedRows activations_;  // scratch of the int8 products: a step quantises its inputs here
};

// A batched forward over a model's compact matrices: each matrix converted to floats when a layer needs it, and
// released after, so evaluation holds one layer's matrices as floats (and the embedding, or the head, alone).
// The conversion splits its rows over `pool` (null: serial); the floats are the same for any thread count.
class ForwardWeights {
 public:
  // The tensor at `offset` as floats: a view into `params` when it is in the float block, else converted.
  const float* get(ThreadPool* pool, const Parameters& params, size_t offset, bool compact);
  void release() { converted_.clear(); }

 private:
  // Uninitialised storage: every element is written by the conversion, so zero-filling would be wasted work.
  std::vector<std::pair<size_t, std::unique_ptr<float[]>>> converted_;
};

// ---- evaluation in windows --------------------------------------------------------------------------------
// Teacher-forced scoring of tokens[1..n) by a decoder that sees at most `window` tokens: windows of
// W = min(window, n−1) inputs, starting every S = ⌈W/2⌉ tokens (the last one moved back to end at the stream's end).
// The first window scores all its predictions; every later window scores only those the previous window did not
// reach, which sit at offsets ≥ W − S in it. So each of the n−1 predictions is scored exactly once, and every one
// after the first window sees at least ⌊W/2⌋ tokens of context. Up to windows_per_batch windows run side by side in
// one batched forward — forward(inputs, targets, windows, W) (targets −1 where not scored) returns the per-row
// losses (windows·W) and logits (windows·W, V) —, and one advance() runs such batches until its budget of
// predictions is spent.
struct WindowScores {
  const float* losses;
  const float* logits;
};
using WindowForward = std::function<WindowScores(const int32_t* inputs, const int32_t* targets, int windows, int W)>;

// The window and batch a model of context T_max evaluates with: W ≤ 512 — a training forward keeps every layer's
// (W, W) attention weights, which at GPT-2's 1024 or SmolLM2's 8192 positions would need gigabytes —, and as many
// windows (1 … 16) as keep forward_bytes(windows, W) within 256 MiB.
struct EvalBatching {
  int window, windows_per_batch;
};
EvalBatching eval_batching(int context, const std::function<uint64_t(int B, int T)>& forward_bytes);

// A decoder's start_evaluation: windows of eval_batching(model.context_size(), model.forward_bytes), each batch
// scored by model.forward(…, training = false), which leaves the per-row losses in `losses` (the model's own
// buffer, read after each forward) and the logits in model.logits().
std::unique_ptr<Evaluation> start_windowed_evaluation(TrainableModel& model, std::vector<int32_t> tokens,
                                                      const std::vector<float>& losses);

class WindowedEvaluation : public Evaluation {
 public:
  WindowedEvaluation(std::vector<int32_t> tokens, EvalBatching batching, int vocab_size, WindowForward forward);
  bool advance(int64_t budget) override;
  EvalStats stats() const override { return tally_.stats(); }
  double progress() const override;

 private:
  std::vector<int32_t> tokens_;
  int64_t predictions_;
  int window_ = 0, windows_per_batch_, vocab_size_;
  WindowForward forward_;
  std::vector<int64_t> starts_;            // first input of each window
  size_t next_window_ = 0;
  int64_t scored_until_ = 0;               // predictions [0, scored_until_) are counted
  std::vector<int32_t> inputs_, targets_;  // (windows_per_batch, window_)
  EvalTally tally_;
};

}  // namespace tinylm
