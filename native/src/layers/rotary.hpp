// Rotary position embeddings (RoPE) as Hugging Face's Llama computes them. Head size D (even); for i < D/2 the
// inverse frequency is inv_freq_i = 1/θ^(2i/D), computed in float32 as torch does; the angle of position p is
// p·inv_freq_i rounded to float32 (the precision every Llama was trained with), and a query or key head at position
// p is rotated pairwise by those angles, element i with element i + D/2 (the rotate_half convention, not the
// interleaved pairs of Meta's original code: Hugging Face checkpoints permute q_proj/k_proj rows to match it).
//
// rope_scaling variants change inv_freq only:
//   "linear"  inv_freq / factor (position interpolation);
//   "llama3"  Llama 3.1's rule: wavelengths 2π/inv_freq above original_max_position_embeddings/low_freq_factor are
//             divided by factor, those below .../high_freq_factor are kept, and the band between is blended;
//   "dynamic" NTK scaling that changes θ only for sequences longer than max_position_embeddings — which a tinylm
//             model never attends over (its context is at most that), so it equals no scaling here.
// "yarn" and "longrope" (which also scale the attention logits) are refused by the config readers.
#pragma once
#include <string>
#include <vector>

namespace tinylm {

enum class RopeScaling { None, Linear, Dynamic, Llama3 };
const char* rope_scaling_name(RopeScaling scaling);  // "none" | "linear" | "dynamic" | "llama3"
bool parse_rope_scaling(const std::string& name, RopeScaling* scaling);

struct RopeConfig {
  float theta = 10000.0f;                  // rope_theta
  RopeScaling scaling = RopeScaling::None;
  float factor = 1.0f;                     // linear, dynamic, llama3
  float low_freq_factor = 1.0f;            // llama3
  float high_freq_factor = 4.0f;           // llama3
  int original_context = 8192;             // llama3: original_max_position_embeddings
};

// inv_freq (D/2) for a head size D, scaling applied.
std::vector<float> rope_inverse_frequencies(const RopeConfig& config, int D);

// cos and sin of every position's angles, (positions, D/2) each.
struct RotaryTable {
  std::vector<float> cos, sin;
  int half = 0;  // D/2
  void build(const RopeConfig& config, int D, int positions);
  const float* cos_at(int position) const { return cos.data() + size_t(position) * half; }
  const float* sin_at(int position) const { return sin.data() + size_t(position) * half; }
};

// Rotates, in place, the first `heads` heads of D floats in each of the B·T rows of x (rows ld floats apart); row
// b·T + t is at position t. Backward applies the transpose to the gradient rows (in place).
void rotary_rows_forward(float* x, int ld, const RotaryTable& table, int heads, int D, int B, int T);
void rotary_rows_backward(float* dx, int ld, const RotaryTable& table, int heads, int D, int B, int T);

}  // namespace tinylm
