// IEEE half precision and bfloat16 conversions, bit-exact and portable (used by model files with F16 or BF16 tensors
// and by the half-precision weights of batch-1 generation).
#pragma once
#include <cstdint>

namespace tinylm {

uint16_t float_to_half(float value);  // round to nearest even; beyond ±65504 → ±infinity
float half_to_float(uint16_t bits);
// bfloat16: float32's top 16 bits (8-bit exponent, 7-bit mantissa), the dtype most published checkpoints use.
uint16_t float_to_bfloat16(float value);  // round to nearest even; NaN stays NaN
float bfloat16_to_float(uint16_t bits);   // exact

}  // namespace tinylm
