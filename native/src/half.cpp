// IEEE 754 binary16 <-> binary32, and bfloat16 <-> binary32, exactly (round to nearest even; subnormals,
// infinities and NaN kept).
#include "half.hpp"

#include <cmath>
#include <cstring>

namespace tinylm {
// Bit manipulation rather than _Float16 or F16C so native and wasm builds produce identical bits.

uint16_t float_to_half(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t exponent = (bits >> 23) & 0xffu;
  const uint32_t mantissa = bits & 0x7fffffu;

  if (exponent == 0xffu) {
    if (mantissa == 0) return sign | 0x7c00u;  // infinity
    // NaN: keep the top payload bits and set the quiet bit so the payload can never truncate to infinity.
    return static_cast<uint16_t>(sign | 0x7e00u | (mantissa >> 13));
  }
  const int32_t half_exponent = static_cast<int32_t>(exponent) - 127 + 15;
  if (half_exponent >= 31) return sign | 0x7c00u;  // beyond 65504 + half an ulp: infinity
  if (half_exponent <= 0) {
    // Half subnormal (or zero): the value is h * 2^-24. Below 2^-25 everything rounds to zero; exactly 2^-25 is a
    // tie and goes to the even neighbour, zero.
    if (half_exponent < -10) return sign;
    const uint32_t significand = mantissa | 0x800000u;  // implicit leading 1 made explicit
    const uint32_t shift = static_cast<uint32_t>(14 - half_exponent);  // 14..24
    uint32_t half_bits = significand >> shift;
    const uint32_t remainder = significand & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    if (remainder > halfway || (remainder == halfway && (half_bits & 1u))) ++half_bits;  // may carry to the
    return static_cast<uint16_t>(sign | half_bits);  // smallest normal, whose encoding is exactly that carry
  }
  uint32_t half_bits = (static_cast<uint32_t>(half_exponent) << 10) | (mantissa >> 13);
  const uint32_t remainder = mantissa & 0x1fffu;
  if (remainder > 0x1000u || (remainder == 0x1000u && (half_bits & 1u))) ++half_bits;  // a carry out of the
  return static_cast<uint16_t>(sign | half_bits);  // mantissa bumps the exponent, up to infinity: both correct
}

float half_to_float(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu;
  const uint32_t mantissa = bits & 0x3ffu;
  uint32_t float_bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      float_bits = sign;  // signed zero
    } else {
      // Subnormal: mantissa * 2^-24 is exact in float32 (11 significant bits at most).
      const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
      return sign ? -magnitude : magnitude;
    }
  } else if (exponent == 31) {
    float_bits = sign | 0x7f800000u | (mantissa << 13);  // infinity or NaN (payload kept)
  } else {
    float_bits = sign | ((exponent - 15 + 127) << 23) | (mantissa << 13);
  }
  float value;
  std::memcpy(&value, &float_bits, sizeof value);
  return value;
}

uint16_t float_to_bfloat16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);  // NaN, kept quiet
  const uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);  // ties to even; a carry may reach infinity, correctly
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

float bfloat16_to_float(uint16_t bits) {
  const uint32_t float_bits = static_cast<uint32_t>(bits) << 16;
  float value;
  std::memcpy(&value, &float_bits, sizeof value);
  return value;
}

}  // namespace tinylm
