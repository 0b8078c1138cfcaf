#include "models/decoder_common.hpp"

#include <algorithm>
#include <cstring>

#include "kernels/kernels.hpp"
#include "parallel/parallel_for.hpp"
#include "parallel/parallel_kernels.hpp"

namespace tinylm {

// ---- the matrices of a generation step --------------------------------------------------------------------

void StepMatrices::build(std::vector<MatrixView> matrices, Copy copy) {
  views_ = std::move(matrices);
  copies_ = CompactMatrices(copy == Copy::Int8 ? CompactKind::Int8 : CompactKind::F16);
  if (copy == Copy::None) return;
  std::vector<size_t> slots(views_.size(), size_t(-1));
  for (size_t i = 0; i < views_.size(); ++i)
    if (views_[i].f32) slots[i] = copies_.add(views_[i].rows, views_[i].cols);
  copies_.allocate();
  for (size_t i = 0; i < views_.size(); ++i) {
    if (slots[i] != size_t(-1) && !copies_.set(slots[i], views_[i].f32)) {
      copies_ = CompactMatrices();
      return;  // read every matrix as given
    }
  }
  for (size_t i = 0; i < views_.size(); ++i)
    if (slots[i] != size_t(-1)) views_[i] = copies_.view(slots[i]);
}

void StepMatrices::project(ThreadPool* pool, float* out, const float* in, size_t index, const float* bias, int N) const {
  const MatrixView& matrix = views_[index];
  const int O = matrix.rows;
  if (bias) {
    for (int row = 0; row < N; ++row) std::memcpy(out + int64_t(row) * O, bias, sizeof(float) * O);
  }
  matrix_vector(pool, out, matrix, in, bias ? 1.0f : 0.0f, N, &activations_);
}

void StepMatrices::project_rows(ThreadPool* pool, float* out, const float* in, size_t index, const float* bias,
                                int N) const {
  if (N <= 2) return project(pool, out, in, index, bias, N);
  matrix_rows(pool, out, views_[index], in, bias, N, &activations_);
}

const float* ForwardWeights::get(ThreadPool* pool, const Parameters& params, size_t offset, bool compact) {
  if (!compact) return params.values.data() + offset;
  for (const auto& [slot, values] : converted_)
    if (slot == offset) return values.get();
  const MatrixView view = params.compact.view(offset);
  std::unique_ptr<float[]> values(new float[size_t(view.rows) * size_t(view.cols)]);
  // Chunks of whole F16 panel groups, about 64 K weights each (enough work to pay for waking a thread).
  const int64_t group = CompactMatrices::conversion_rows();
  const int64_t grain = group * std::max<int64_t>(1, (int64_t(1) << 16) / (group * std::max(1, view.cols)));
  float* out = values.get();
  parallel_for(pool, view.rows, grain, [&](int64_t begin, int64_t end) {
    params.compact.to_float_rows(offset, int(begin), int(end - begin), out + begin * view.cols);
  });
  converted_.emplace_back(offset, std::move(values));
  return converted_.back().second.get();
}

// ---- evaluation in windows --------------------------------------------------------------------------------

EvalBatching eval_batching(int context, const std::function<uint64_t(int B, int T)>& forward_bytes) {
  constexpr int kMaxWindow = 512, kMaxWindowsPerBatch = 16;
  constexpr uint64_t kBudget = uint64_t(256) << 20;
  const int window = std::min(context, kMaxWindow);
  int windows = kMaxWindowsPerBatch;
  while (windows > 1 && forward_bytes(windows, window) > kBudget) windows /= 2;
  return {window, windows};
}

std::unique_ptr<Evaluation> start_windowed_evaluation(TrainableModel& model, std::vector<int32_t> tokens,
                                                      const std::vector<float>& losses) {
  const EvalBatching batching =
      eval_batching(model.context_size(), [&model](int B, int T) { return model.forward_bytes(B, T); });
  return std::make_unique<WindowedEvaluation>(
      std::move(tokens), batching, model.vocab_size(),
      [&model, &losses](const int32_t* inputs, const int32_t* targets, int windows, int W) {
        model.forward(inputs, targets, windows, W, false, nullptr);
        return WindowScores{losses.data(), model.logits()};
      });
}

WindowedEvaluation::WindowedEvaluation(std::vector<int32_t> tokens, EvalBatching batching, int vocab_size,
                                       WindowForward forward)
    : tokens_(std::move(tokens)),
      predictions_(int64_t(tokens_.size()) - 1),
      windows_per_batch_(batching.windows_per_batch),
      vocab_size_(vocab_size),
      forward_(std::move(forward)) {
  if (predictions_ <= 0) return;
  window_ = int(std::min<int64_t>(batching.window, predictions_));
  const int stride = (window_ + 1) / 2;
  for (int64_t start = 0;; start = std::min<int64_t>(start + stride, predictions_ - window_)) {
    starts_.push_back(start);
    if (start + window_ >= predictions_) break;
  }
  inputs_.resize(size_t(windows_per_batch_) * window_);
  targets_.resize(inputs_.size());
}

bool WindowedEvaluation::advance(int64_t budget) {
  int64_t scored = 0;
  while (next_window_ < starts_.size() && (scored == 0 || scored < budget)) {
    const int windows = int(std::min<size_t>(windows_per_batch_, starts_.size() - next_window_));
    for (int w = 0; w < windows; ++w) {
      const int64_t start = starts_[next_window_ + w];
      for (int t = 0; t < window_; ++t) {
        inputs_[int64_t(w) * window_ + t] = tokens_[start + t];
        targets_[int64_t(w) * window_ + t] = start + t >= scored_until_ ? tokens_[start + t + 1] : -1;
      }
      scored_until_ = start + window_;
    }
    const WindowScores scores = forward_(inputs_.data(), targets_.data(), windows, window_);
    for (int64_t row = 0; row < int64_t(windows) * window_; ++row) {
      if (targets_[row] < 0) continue;
      tally_.add(scores.losses[row], scores.logits + row * vocab_size_, vocab_size_, targets_[row]);
      ++scored;
    }
    next_window_ += size_t(windows);
  }
  return next_window_ < starts_.size();
}

double WindowedEvaluation::progress() const {
  return predictions_ <= 0 ? 1.0 : double(tally_.stats().tokens) / double(predictions_);
}

}  // namespace tinylm
