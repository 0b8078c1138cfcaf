#include "models/decoder_cache.hpp"

#include <algorithm>
#include <cstring>
#include <tuple>

#include "tinylm/error.hpp"

namespace tinylm {

void DecoderCache::reset(int layers, int kv_heads, int context, int head_size) {
  layers_ = layers;
  kv_heads_ = kv_heads;
  context_ = context;
  head_size_ = head_size;
  keep_ = context / 2;
  // Every position is written before it is read, so a cache of the right size is kept as it is: refilling
  // SmolLM2's 8192 positions (566 MB with the shadow) would cost each new generation a pass over memory.
  const int64_t per_position = int64_t(layers) * kv_heads * head_size;
  for (auto [cache, positions] : {std::pair{&keys_, context}, {&values_, context}, {&shadow_keys_, keep_},
                                  {&shadow_values_, keep_}}) {
    if (cache->size() != size_t(per_position * positions)) cache->assign(size_t(per_position * positions), 0.0f);
  }
  window_tokens_.clear();
  window_tokens_.reserve(context);
  cached_ = 0;
  shadow_cached_ = 0;
}

void DecoderCache::slide_if_full() {
  if (cached_ == context_) {  // full: the shadow, holding the last keep tokens at positions 0 … keep−1, takes over
    const int64_t run = int64_t(keep_) * head_size_;  // one head's shadow positions
    for (int64_t head = 0; head < int64_t(layers_) * kv_heads_; ++head) {
      std::memcpy(keys_.data() + head * context_ * head_size_, shadow_keys_.data() + head * run, sizeof(float) * run);
      std::memcpy(values_.data() + head * context_ * head_size_, shadow_values_.data() + head * run,
                  sizeof(float) * run);
    }
    window_tokens_.erase(window_tokens_.begin(), window_tokens_.end() - keep_);
    cached_ = shadow_cached_;
    shadow_cached_ = 0;
  }
}

int DecoderCache::begin_step() {
  slide_if_full();
  return keep_ > 0 && cached_ >= context_ - keep_ ? 2 : 1;
}

int DecoderCache::begin_batch(int n) {
  slide_if_full();
  return std::min(n, context_ - cached_);
}

int DecoderCache::shadow_first(int count) const {
  return keep_ > 0 ? std::clamp(context_ - keep_ - cached_, 0, count) : count;
}

float* DecoderCache::keys(int row, int layer) {
  const int64_t layer_floats = int64_t(kv_heads_) * ld_head(row) * head_size_;
  return (row == 0 ? keys_.data() : shadow_keys_.data()) + layer * layer_floats;
}

float* DecoderCache::values(int row, int layer) {
  const int64_t layer_floats = int64_t(kv_heads_) * ld_head(row) * head_size_;
  return (row == 0 ? values_.data() : shadow_values_.data()) + layer * layer_floats;
}

void DecoderCache::store(int row, int layer, const float* k, const float* v) {
  store_at(row, layer, position(row), k, v);
}

void DecoderCache::store_at(int row, int layer, int position, const float* k, const float* v) {
  float* layer_keys = keys(row, layer);
  float* layer_values = values(row, layer);
  const int64_t head_stride = int64_t(ld_head(row)) * head_size_;
  const int64_t at = int64_t(position) * head_size_;
  for (int h = 0; h < kv_heads_; ++h) {
    std::memcpy(layer_keys + h * head_stride + at, k + int64_t(h) * head_size_, sizeof(float) * head_size_);
    std::memcpy(layer_values + h * head_stride + at, v + int64_t(h) * head_size_, sizeof(float) * head_size_);
  }
}

void DecoderCache::end_step(int32_t token, int rows) {
  window_tokens_.push_back(token);  // capacity T_max: no allocation
  ++cached_;
  if (rows == 2) ++shadow_cached_;
}

void DecoderCache::end_batch(const int32_t* tokens, int count, int shadow_rows) {
  window_tokens_.insert(window_tokens_.end(), tokens, tokens + count);  // capacity T_max: no allocation
  cached_ += count;
  shadow_cached_ += shadow_rows;
}

void DecoderCache::save_state(GenerationState* state) const {
  state->ints.assign({cached_, shadow_cached_});
  state->ints.insert(state->ints.end(), window_tokens_.begin(), window_tokens_.end());
  const int64_t heads = int64_t(layers_) * kv_heads_, D = head_size_;
  state->floats.resize(size_t(2 * heads * D * (cached_ + shadow_cached_)));
  float* out = state->floats.data();
  for (auto [cache, ld, count] : {std::tuple{&keys_, context_, cached_}, {&values_, context_, cached_},
                                  {&shadow_keys_, keep_, shadow_cached_}, {&shadow_values_, keep_, shadow_cached_}}) {
    for (int64_t head = 0; head < heads; ++head, out += count * D) {
      std::memcpy(out, cache->data() + head * ld * D, sizeof(float) * count * D);
    }
  }
}

void DecoderCache::load_state(const GenerationState& state) {
  check(state.ints.size() >= 2, "generation state: a decoder's state starts with 2 counts, got ", state.ints.size(),
        " integers");
  const int cached = state.ints[0], shadow_cached = state.ints[1];
  check(cached >= 0 && cached <= context_ && shadow_cached >= 0 && shadow_cached <= keep_ &&
            (shadow_cached == 0 || shadow_cached == cached - (context_ - keep_)),
        "generation state: ", cached, " cached and ", shadow_cached, " shadow positions do not fit a window of ",
        context_, " (the state is from another model)");
  check(state.ints.size() == size_t(2 + cached), "generation state: ", state.ints.size() - 2,
        " window tokens for ", cached, " cached positions");
  const int64_t heads = int64_t(layers_) * kv_heads_, D = head_size_;
  check(state.floats.size() == size_t(2 * heads * D * (cached + shadow_cached)), "generation state: ",
        state.floats.size(), " floats, but ", cached, " + ", shadow_cached, " positions of this model's ", layers_,
        " layers × ", kv_heads_, " heads × ", head_size_, " need ", 2 * heads * D * (cached + shadow_cached),
        " (the state is from another model)");
  cached_ = cached;
  shadow_cached_ = shadow_cached;
  window_tokens_.assign(state.ints.begin() + 2, state.ints.end());
  const float* in = state.floats.data();
  for (auto [cache, ld, count] : {std::tuple{&keys_, context_, cached}, {&values_, context_, cached},
                                  {&shadow_keys_, keep_, shadow_cached}, {&shadow_values_, keep_, shadow_cached}}) {
    for (int64_t head = 0; head < heads; ++head, in += count * D) {
      std::memcpy(cache->data() + head * ld * D, in, sizeof(float) * count * D);
    }
  }
}

}  // namespace tinylm
