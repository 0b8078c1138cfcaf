// RecurrentLM's evaluation in chunks. Long streams are cut into up to 32 contiguous sub-streams scored side by side
// (each from a zero state), in windows of 64 steps with the state carried between windows: batched GEMMs instead of
// one token at a time. One advance() runs whole windows (32 × 64 predictions each) until its budget is spent.
// The carried training state is saved at the start and restored at the end (or when an unfinished evaluation is
// destroyed), so evaluation between training steps leaves stateful BPTT undisturbed.
#include <algorithm>

#include "models/model_common.hpp"
#include "models/recurrent_lm.hpp"
#include "tinylm/error.hpp"

namespace tinylm {

class RecurrentEvaluation : public Evaluation {
 public:
  RecurrentEvaluation(RecurrentLM& model, std::vector<int32_t> tokens)
      : model_(model), tokens_(std::move(tokens)), predictions_(int64_t(tokens_.size()) - 1) {
    if (predictions_ <= 0) return;
    check_token_ids(tokens_.data(), int64_t(tokens_.size()), model_.config_.vocab_size, "input");
    streams_ = static_cast<int>(std::clamp<int64_t>(predictions_ / 512, 1, 32));
    stream_length_ = (predictions_ + streams_ - 1) / streams_;
    window_ = static_cast<int>(std::min<int64_t>(64, stream_length_));
    inputs_.resize(int64_t(streams_) * window_);
    targets_.resize(inputs_.size());
    saved_state_ = model_.carried_state();
    model_.carried_h_.clear();  // forward() re-creates a zero state for this batch size
    holds_state_ = true;
  }
  ~RecurrentEvaluation() override { finish(); }

  bool advance(int64_t budget) override {
    const int V = model_.config_.vocab_size;
    int64_t scored = 0;
    while (start_ < stream_length_ && (scored == 0 || scored < budget)) {
      for (int s = 0; s < streams_; ++s) {
        for (int t = 0; t < window_; ++t) {
          const int64_t position = s * stream_length_ + start_ + t;
          const bool inside = start_ + t < stream_length_ && position < predictions_;
          inputs_[int64_t(s) * window_ + t] = inside ? tokens_[position] : 0;
          targets_[int64_t(s) * window_ + t] = inside ? tokens_[position + 1] : -1;
        }
      }
      model_.forward(inputs_.data(), targets_.data(), streams_, window_, false, nullptr);
      for (size_t row = 0; row < targets_.size(); ++row) {
        if (targets_[row] < 0) continue;
        tally_.add(model_.losses_[row], model_.logits_.data() + row * V, V, targets_[row]);
        ++scored;
      }
      start_ += window_;
    }
    if (start_ < stream_length_) return true;
    finish();
    return false;
  }
  EvalStats stats() const override { return tally_.stats(); }
  double progress() const override {
    return predictions_ <= 0 ? 1.0 : double(tally_.stats().tokens) / double(predictions_);
  }

 private:
  void finish() {
    if (holds_state_) model_.restore_carried_state(std::move(saved_state_));
    holds_state_ = false;
  }

  RecurrentLM& model_;
  std::vector<int32_t> tokens_;
  int64_t predictions_;
  int streams_ = 0, window_ = 0;
  int64_t stream_length_ = 0, start_ = 0;  // windows cover [0, start_) of every sub-stream
  std::vector<int32_t> inputs_, targets_;  // (streams, window)
  std::vector<float> saved_state_;
  bool holds_state_ = false;
  EvalTally tally_;
};

std::unique_ptr<Evaluation> RecurrentLM::start_evaluation(std::vector<int32_t> tokens) {
  return std::make_unique<RecurrentEvaluation>(*this, std::move(tokens));
}

}  // namespace tinylm
