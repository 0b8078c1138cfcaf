// The one random number generator: xoshiro128++ seeded through splitmix64. Owned by whoever needs randomness
// (trainer, sampler) and passed explicitly; no global state, so the same seed gives the same run.
#pragma once
#include <cstdint>

namespace tinylm {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { reseed(seed); }
  void reseed(uint64_t seed) {
    for (uint32_t& word : state_) {
      seed += 0x9E3779B97F4A7C15ull;  // splitmix64
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      word = static_cast<uint32_t>((z ^ (z >> 31)) >> 32);
    }
  }
  uint32_t next_u32() {  // xoshiro128++
    const uint32_t result = rotl(state_[0] + state_[3], 7) + state_[0];
    const uint32_t t = state_[1] << 9;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 11);
    return result;
  }
  float uniform() { return (next_u32() >> 8) * (1.0f / 16777216.0f); }  // [0, 1)
  uint32_t below(uint32_t n) { return static_cast<uint32_t>((static_cast<uint64_t>(next_u32()) * n) >> 32); }
  float normal();  // standard normal (Box-Muller), for initialisation
  // The generator's whole state, for checkpoints that resume a run exactly (train/checkpoint.hpp).
  void get_state(uint32_t out[4]) const {
    for (int i = 0; i < 4; ++i) out[i] = state_[i];
  }
  void set_state(const uint32_t in[4]) {
    for (int i = 0; i < 4; ++i) state_[i] = in[i];
  }

 private:
  static uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }
  uint32_t state_[4];
};

}  // namespace tinylm
