#include "layers/rotary.hpp"

#include <cmath>
#include <string>

#include "kernels/llama_kernels.hpp"

namespace tinylm {

const char* rope_scaling_name(RopeScaling scaling) {
  switch (scaling) {
    case RopeScaling::None: return "none";
    case RopeScaling::Linear: return "linear";
    case RopeScaling::Dynamic: return "dynamic";
    case RopeScaling::Llama3: return "llama3";
  }
  return "none";
}

bool parse_rope_scaling(const std::string& name, RopeScaling* scaling) {
  for (RopeScaling candidate : {RopeScaling::None, RopeScaling::Linear, RopeScaling::Dynamic, RopeScaling::Llama3}) {
    if (name == rope_scaling_name(candidate)) {
      *scaling = candidate;
      return true;
    }
  }
  return false;
}

std::vector<float> rope_inverse_frequencies(const RopeConfig& config, int D) {
  const int half = D / 2;
  std::vector<float> inv_freq(half);
  for (int i = 0; i < half; ++i) {
    // torch: 1.0 / (base ** (arange(0, D, 2).float() / D)) — each step in float32, the power too. (The engine calls
    // no double pow: its table would cost every page that loads the wasm engine ~4 KB of download.)
    const float exponent = float(2 * i) / float(D);
    const float power = std::pow(config.theta, exponent);
    inv_freq[i] = 1.0f / power;
  }
  if (config.scaling == RopeScaling::Linear) {
    for (float& f : inv_freq) f /= config.factor;
  } else if (config.scaling == RopeScaling::Llama3) {
    const double low_freq_wavelength = config.original_context / double(config.low_freq_factor);
    const double high_freq_wavelength = config.original_context / double(config.high_freq_factor);
    for (float& f : inv_freq) {
      const double wavelength = 2 * M_PI / f;
      if (wavelength > low_freq_wavelength) {
        f = float(f / config.factor);
      } else if (wavelength >= high_freq_wavelength) {  // the band between: blend the scaled and kept frequencies
        const double smooth = (config.original_context / wavelength - config.low_freq_factor) /
                              (config.high_freq_factor - config.low_freq_factor);
        f = float((1 - smooth) * f / config.factor + smooth * f);
      }
    }
  }
  return inv_freq;
}

void RotaryTable::build(const RopeConfig& config, int D, int positions) {
  half = D / 2;
  const std::vector<float> inv_freq = rope_inverse_frequencies(config, D);
  cos.resize(size_t(positions) * half);
  sin.resize(size_t(positions) * half);
  for (int p = 0; p < positions; ++p) {
    for (int i = 0; i < half; ++i) {
      const float angle = float(p) * inv_freq[i];  // rounded to float32, as Hugging Face's float32 product is
      cos[size_t(p) * half + i] = float(std::cos(double(angle)));
      sin[size_t(p) * half + i] = float(std::sin(double(angle)));
    }
  }
}

void rotary_rows_forward(float* x, int ld, const RotaryTable& table, int heads, int D, int B, int T) {
  for (int64_t row = 0; row < int64_t(B) * T; ++row) {
    const int position = int(row % T);
    rotary_forward(x + row * ld, table.cos_at(position), table.sin_at(position), heads, D);
  }
}

void rotary_rows_backward(float* dx, int ld, const RotaryTable& table, int heads, int D, int B, int T) {
  for (int64_t row = 0; row < int64_t(B) * T; ++row) {
    const int position = int(row % T);
    rotary_backward(dx + row * ld, table.cos_at(position), table.sin_at(position), heads, D);
  }
}

}  // namespace tinylm
