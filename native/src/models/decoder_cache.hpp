// The KV cache of a Transformer decoder's batch-1 generation and its sliding window, shared by GptLM and LlamaLM.
//
// Keys and values are (L, KVH, T_max, D) — KVH key/value heads per layer (NH for GPT), each head's positions
// contiguous, so one query's attention reads one run per head. step(token) appends one position per layer.
//
// When the cache is full the window slides: the last keep = T_max/2 tokens continue at positions 0 … keep−1 and the
// new token follows them, so once the window has filled, a step sees between keep + 1 and T_max tokens, and its
// logits equal a batched forward over exactly the window it sees (window_tokens()). For learned positions (GPT) that
// is the only exact choice; for rotary ones (Llama) it also keeps every position within the trained range, and the
// kept tokens' keys and values are computed without the dropped ones in view, as a fresh forward computes them.
// The slid window is not re-encoded when it is needed: from position T_max − keep on, each step also runs its token
// (row 1 of the step) through a shadow cache at its future position, position − (T_max − keep), in the same
// matrix-vector products as the visible row (row 0), which read every weight once for both. When the cache is full,
// the shadow's keep positions are copied over the visible cache's first ones. No pause to re-encode (in wasm, C3's
// 99th-percentile step fell from 5.0 to 0.31 ms when the shadow replaced re-encoding), and the shadow holds keep
// positions only: 1.5× the memory of the visible cache alone.
#pragma once
#include <cstdint>
#include <vector>

#include "tinylm/model.hpp"

namespace tinylm {

class DecoderCache {
 public:
  // Empties the window and sizes every buffer (nothing is allocated by the steps that follow).
  void reset(int layers, int kv_heads, int context, int head_size);

  // Starts a step: slides a full window. Returns the rows this step runs: 1, or 2 when the shadow row runs too.
  int begin_step();
  // Where row's token goes: row 0 in the visible window, row 1 in the shadow.
  int position(int row) const { return row == 0 ? cached_ : shadow_cached_; }
  // Row's keys or values of one layer: (KVH, ld_head(row), D), positions 0 … position(row) in use after store().
  float* keys(int row, int layer);
  float* values(int row, int layer);
  int ld_head(int row) const { return row == 0 ? context_ : keep_; }
  // Writes row's keys and values at position(row): k and v hold KVH heads of D floats back to back.
  void store(int row, int layer, const float* k, const float* v);
  // Ends the step that began with begin_step() (rows as it returned): the token joins the window.
  void end_step(int32_t token, int rows);

  // A batch of prompt tokens (prefill) runs as the same number of steps would: begin_batch(n) slides a full window as
  // begin_step() does and returns how many of the n tokens the window takes before it is full again (1 … n). Token i
  // of the batch goes to visible position position(0) + i; tokens from shadow_first(count) on also run in the shadow,
  // at position(1) + (i − shadow_first), exactly those a step would give a shadow row.
  int begin_batch(int n);
  int shadow_first(int count) const;
  // Writes keys and values at `position` of row's cache (0 visible, 1 shadow).
  void store_at(int row, int layer, int position, const float* k, const float* v);
  // Ends the batch: its count tokens join the window, shadow_rows of them the shadow.
  void end_batch(const int32_t* tokens, int count, int shadow_rows);

  // The filled positions only, visible and shadow (GenerationState's layout: ints = cached, shadow cached, the window's
  // tokens; floats = per (layer, head) the visible keys then values, then per (layer, head) the shadow's), so a copy
  // costs what the window holds, not T_max. load_state needs a reset() cache of the same dimensions.
  void save_state(GenerationState* state) const;
  void load_state(const GenerationState& state);

  int cached() const { return cached_; }  // positions in the visible window
  // The tokens whose keys and values are cached, oldest first (the window the next step extends).
  const std::vector<int32_t>& window_tokens() const { return window_tokens_; }

 private:
  void slide_if_full();

  int layers_ = 0, kv_heads_ = 0, context_ = 0, head_size_ = 0, keep_ = 0;
  std::vector<float> keys_, values_;                // (L, KVH, T_max, D)
  std::vector<float> shadow_keys_, shadow_values_;  // (L, KVH, keep, D)
  std::vector<int32_t> window_tokens_;              // (≤ T_max)
  int cached_ = 0, shadow_cached_ = 0;
};

}  // namespace tinylm
