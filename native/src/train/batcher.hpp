// Batcher: cuts a token stream into (B,T) input/target windows (targets = inputs shifted by one).
//   random:     each row starts at a uniformly drawn position (the protocol of our PyTorch references).
//   sequential: the stream is split into B contiguous lanes read T tokens at a time, so a recurrent model can
//               carry its state from one window to the next (stateful truncated BPTT); next() reports when
//               the lanes wrap around and the carried state should be reset.
#pragma once
#include <cstdint>
#include <vector>

#include "tinylm/rng.hpp"

namespace tinylm {

// The first (1 − validation_fraction) of the tokens train, the rest validate (no shuffling: text order matters).
void split_tokens(const std::vector<int32_t>& tokens, float validation_fraction, std::vector<int32_t>* train,
                  std::vector<int32_t>* validation);

class Batcher {
 public:
  // tokens must outlive the batcher and hold at least T + 1 tokens (B·T + 1 when sequential).
  Batcher(const std::vector<int32_t>& tokens, int B, int T, bool sequential);
  // Fills inputs, targets (B,T). Returns true when sequential lanes wrapped (state should restart).
  bool next(int32_t* inputs, int32_t* targets, Rng& rng);
  int batch() const { return batch_; }
  int steps() const { return steps_; }
  // The sequential lanes' read position (0 when random), for checkpoints; set_cursor checks it is in range.
  int64_t cursor() const { return cursor_; }
  void set_cursor(int64_t cursor);

 private:
  const std::vector<int32_t>& tokens_;
  int batch_, steps_;
  bool sequential_;
  int64_t lane_length_ = 0, cursor_ = 0;
};

}  // namespace tinylm
