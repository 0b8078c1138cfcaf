#include "generate/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "parallel/parallel_for.hpp"
#include "tinylm/error.hpp"

namespace tinylm {

namespace {

// Below this many candidates one thread sorts them all (a character vocabulary's 80 take a microsecond).
constexpr int kPooledSortMinimum = 16384;

// keys[0, count) sorted ascending, over a pool: four runs of a quarter each sorted two at a time, the two pairs
// merged at once, then the halves merged. The keys are distinct (each holds its token id), so every correct sort
// leaves the same order: the runs change the time only, never the token drawn. A vocabulary of GPT-2's size
// (50257) took a sixth of a batch-1 generated token's CPU time on one thread in this sort (G2 in bench_models).
void sort_keys(ThreadPool* pool, std::vector<uint64_t>& keys, std::vector<uint64_t>& merged, int count) {
  if (!pool || pool->size() < 2 || count < kPooledSortMinimum) {
    std::sort(keys.begin(), keys.begin() + count);
    return;
  }
  const int64_t quarter = (count + 3) / 4;
  uint64_t* data = keys.data();
  parallel_for_chunks(pool, count, quarter, [&](int64_t, int64_t begin, int64_t end) {
    std::sort(data + begin, data + end);
  });
  if (merged.size() < size_t(count)) merged.resize(count);
  uint64_t* into = merged.data();
  parallel_for_chunks(pool, count, 2 * quarter, [&](int64_t, int64_t begin, int64_t end) {
    const int64_t middle = std::min(begin + quarter, end);
    std::merge(data + begin, data + middle, data + middle, data + end, into + begin);
  });
  const int64_t half = std::min<int64_t>(2 * quarter, count);
  std::merge(into, into + half, into + half, into + count, data);
}

}  // namespace

void SamplingOptions::validate() const {
  check(std::isfinite(temperature) && temperature >= 0, "temperature must be ≥ 0, got ", temperature);
  check(top_k >= 0, "top-k must be ≥ 0 (0 = off), got ", top_k);
  check(top_p > 0 && top_p <= 1, "top-p must be in (0, 1], got ", top_p);
  check(std::isfinite(repetition_penalty) && repetition_penalty > 0, "repetition penalty must be > 0, got ",
        repetition_penalty);
  check(repetition_window >= 0, "repetition window must be ≥ 0, got ", repetition_window);
}

Sampler::Sampler(const SamplingOptions& options, int vocab_size)
    : options_(options), vocab_size_(vocab_size), rng_(options.seed) {
  options.validate();
  check(vocab_size > 0, "sampler: vocabulary size must be positive, got ", vocab_size);
  scores_.resize(vocab_size);
  probabilities_.resize(vocab_size);
  order_.resize(vocab_size);
  keys_.resize(vocab_size);
  seen_.resize(vocab_size);
}

int32_t Sampler::sample(const float* logits, const std::vector<int32_t>& history) {
  const int V = vocab_size_;
  std::copy(logits, logits + V, scores_.begin());
  for (int v = 0; v < V; ++v) {
    check(!std::isnan(scores_[v]), "model produced a NaN logit for token ", v);
  }

  if (options_.repetition_penalty != 1.0f) {
    std::fill(seen_.begin(), seen_.end(), uint8_t(0));
    const size_t window = options_.repetition_window ? size_t(options_.repetition_window) : history.size();
    for (size_t i = history.size() - std::min(window, history.size()); i < history.size(); ++i) {
      if (history[i] >= 0 && history[i] < V) seen_[history[i]] = 1;
    }
    for (int v = 0; v < V; ++v) {
      if (!seen_[v]) continue;
      scores_[v] = scores_[v] > 0 ? scores_[v] / options_.repetition_penalty : scores_[v] * options_.repetition_penalty;
    }
  }

  if (options_.temperature == 0.0f) {  // greedy: ties go to the lowest id
    const int32_t best = int32_t(std::max_element(scores_.begin(), scores_.end()) - scores_.begin());
    std::fill(probabilities_.begin(), probabilities_.end(), 0.0f);
    probabilities_[best] = 1.0f;
    return best;
  }

  // Softmax at temperature over candidates sorted best first (ties by id, for determinism). Each candidate is one
  // 64-bit key, its score's bits mapped so that unsigned order is best first, above its id: sorting plain integers
  // is cheaper than partial_sort's heap through a comparator (bench_models C3 generation, V = 84: 12.5k →
  // 13.1–13.5k tokens/s), and the wasm build already holds std::sort for them.
  const int keep_k = options_.top_k > 0 ? std::min(options_.top_k, V) : V;
  for (int v = 0; v < V; ++v) {
    uint32_t bits;
    const float score = scores_[v] + 0.0f;  // −0 → +0: equal scores tie by id
    std::memcpy(&bits, &score, sizeof bits);
    const uint32_t ascending = bits & 0x80000000u ? ~bits : bits | 0x80000000u;
    keys_[v] = uint64_t(~ascending) << 32 | uint32_t(v);
  }
  if (keep_k < V) std::nth_element(keys_.begin(), keys_.begin() + (keep_k - 1), keys_.end());
  sort_keys(pool_, keys_, merged_, keep_k);
  for (int i = 0; i < keep_k; ++i) order_[i] = int32_t(keys_[i] & 0xFFFFFFFFu);
  const float max_score = scores_[order_[0]];
  double total = 0;
  std::fill(probabilities_.begin(), probabilities_.end(), 0.0f);
  for (int i = 0; i < keep_k; ++i) {
    const int32_t v = order_[i];
    probabilities_[v] = std::exp((scores_[v] - max_score) / options_.temperature);
    total += probabilities_[v];
  }
  // Nucleus: the smallest best-first prefix whose mass reaches top_p.
  int kept = keep_k;
  if (options_.top_p < 1.0f) {
    double mass = 0;
    for (int i = 0; i < keep_k; ++i) {
      mass += probabilities_[order_[i]] / total;
      if (mass >= options_.top_p) {
        kept = i + 1;
        break;
      }
    }
    for (int i = kept; i < keep_k; ++i) probabilities_[order_[i]] = 0.0f;
    total = 0;
    for (int i = 0; i < kept; ++i) total += probabilities_[order_[i]];
  }
  for (int i = 0; i < kept; ++i) probabilities_[order_[i]] = float(probabilities_[order_[i]] / total);

  const float coin = rng_.uniform();
  float cumulative = 0;
  for (int i = 0; i < kept; ++i) {
    cumulative += probabilities_[order_[i]];
    if (coin < cumulative) return order_[i];
  }
  return order_[kept - 1];  // rounding left the coin past the last bucket
}

}  // namespace tinylm
