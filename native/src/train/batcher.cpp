#include "train/batcher.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tinylm/error.hpp"

namespace tinylm {

void split_tokens(const std::vector<int32_t>& tokens, float validation_fraction, std::vector<int32_t>* train,
                  std::vector<int32_t>* validation) {
  check(validation_fraction >= 0 && validation_fraction < 1, "validation fraction must be in [0, 1), got ",
        validation_fraction);
  const size_t train_size = tokens.size() - static_cast<size_t>(std::floor(tokens.size() * double(validation_fraction)));
  train->assign(tokens.begin(), tokens.begin() + train_size);
  validation->assign(tokens.begin() + train_size, tokens.end());
}

Batcher::Batcher(const std::vector<int32_t>& tokens, int B, int T, bool sequential)
    : tokens_(tokens), batch_(B), steps_(T), sequential_(sequential) {
  check(B > 0 && T > 0, "batch size and sequence length must be positive, got batch ", B, ", seq ", T);
  const int64_t needed = sequential ? int64_t(B) * T + 1 : int64_t(T) + 1;
  check(int64_t(tokens.size()) >= needed, "the text has ", tokens.size(), " tokens but batch ", B, " × seq ", T,
        " needs at least ", needed, ": give more text or lower --batch/--seq");
  lane_length_ = (int64_t(tokens.size()) - 1) / B;
}

void Batcher::set_cursor(int64_t cursor) {
  check(cursor >= 0 && cursor <= (sequential_ ? lane_length_ : 0), "batcher cursor ", cursor,
        " is outside this text's lanes (0 … ", sequential_ ? lane_length_ : 0, "): was the checkpoint made on "
        "another text?");
  cursor_ = cursor;
}

bool Batcher::next(int32_t* inputs, int32_t* targets, Rng& rng) {
  const int64_t T = steps_;
  if (!sequential_) {
    const uint32_t starts = static_cast<uint32_t>(tokens_.size() - T);  // valid starts: [0, n − T − 1]
    for (int b = 0; b < batch_; ++b) {
      const int64_t start = rng.below(starts);
      std::memcpy(inputs + b * T, &tokens_[start], sizeof(int32_t) * T);
      std::memcpy(targets + b * T, &tokens_[start + 1], sizeof(int32_t) * T);
    }
    return false;
  }
  bool wrapped = false;
  if (cursor_ + T > lane_length_) {
    cursor_ = 0;
    wrapped = true;
  }
  for (int b = 0; b < batch_; ++b) {
    const int64_t start = b * lane_length_ + cursor_;
    std::memcpy(inputs + b * T, &tokens_[start], sizeof(int32_t) * T);
    std::memcpy(targets + b * T, &tokens_[start + 1], sizeof(int32_t) * T);
  }
  cursor_ += T;
  return wrapped;
}

}  // namespace tinylm
