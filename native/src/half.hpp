// IEEE half precision conversions, bit-exact and portable (used by model files with F16 tensors and by the
// half-precision weights of batch-1 generation).
#pragma once
#include <cstdint>

namespace tinylm {

uint16_t float_to_half(float value);  // round to nearest even; beyond ±65504 → ±infinity
float half_to_float(uint16_t bits);

}  // namespace tinylm
