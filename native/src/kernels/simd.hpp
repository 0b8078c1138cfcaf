// Thin xsimd glue shared by the kernel sources: the float batch of this build, unaligned load/store, a
// compile-time unroller for register tiles, the activation functions on batches, and `pick`, the one place that
// routes public kernel names to their scalar references when TINYLM_FORCE_SCALAR is defined.
//
// One architecture per build: native builds get AVX-512/AVX2/SSE from -march, Emscripten builds get SSE lowered
// to WASM SIMD128 (-msimd128 -msse4.1). Kernels are written against `fbatch` and `fbatch::size` only, so the same
// source picks a sensible tile for 16-, 8- or 4-float registers and carries no #ifdefs.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#if defined(__EMSCRIPTEN__) && defined(__SSE2__)
// Emscripten 3.1.6 emulates SSE2's float → int32 conversions one lane at a time in scalar code (emmintrin.h).
// xsimd converts once per batch in exp (so sigmoid, tanh, erf, GELU, softmax) and in ldexp, so every
// transcendental paid four scalar conversions with range checks per register. WASM SIMD has the conversion
// as one instruction. Only the out-of-range results differ (saturated rather than x86's 0x80000000), and xsimd
// discards those: exp clamps its argument first. Measured in Node: 2048 exact GELUs 21.6 → 11.5 µs.
#include <emmintrin.h>
#include <wasm_simd128.h>
inline __m128i tinylm_wasm_cvttps_epi32(__m128 a) { return (__m128i)wasm_i32x4_trunc_sat_f32x4((v128_t)a); }
inline __m128i tinylm_wasm_cvtps_epi32(__m128 a) {
  return (__m128i)wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest((v128_t)a));
}
#define _mm_cvttps_epi32(a) tinylm_wasm_cvttps_epi32(a)
#define _mm_cvtps_epi32(a) tinylm_wasm_cvtps_epi32(a)
#endif
#include <xsimd/xsimd.hpp>

#include "half.hpp"
#if defined(__F16C__) || defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#elif defined(__SSE4_1__)
#include <smmintrin.h>
#endif

namespace tinylm::simd {

using fbatch = xsimd::batch<float>;
inline constexpr int fwidth = static_cast<int>(fbatch::size);  // floats per register: 16 AVX-512, 8 AVX, 4 SSE/wasm

inline fbatch load(const float* p) { return fbatch::load_unaligned(p); }
inline void store(float* p, const fbatch& v) { v.store_unaligned(p); }
inline float reduce_add(const fbatch& v) { return xsimd::hadd(v); }
// Lane r of the result = the sum of rows[r]'s lanes, for the fwidth registers rows[0 … fwidth). xsimd 8.1's
// AVX-512 haddp swaps lanes 2–3 with 4–5 and 10–11 with 12–13, so there each row is folded to 256 bits and the
// (correct) AVX version runs on each half of the rows.
inline fbatch reduce_add_rows(const fbatch* rows) {
#if defined(__AVX512F__)
  using half_batch = xsimd::batch<float, xsimd::avx2>;
  half_batch folded[2][8];
  for (int r = 0; r < 16; ++r) {
    const __m512 v = rows[r];
    const __m256 high = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    folded[r / 8][r % 8] = half_batch(_mm256_add_ps(_mm512_castps512_ps256(v), high));
  }
  const __m256 low_sums = xsimd::haddp(folded[0]), high_sums = xsimd::haddp(folded[1]);
  return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(low_sums)),
                                             _mm256_castps_pd(high_sums), 1));
#else
  return xsimd::haddp(rows);
#endif
}
inline float reduce_max(const fbatch& v) {  // xsimd 8.1 has no horizontal max
  alignas(64) float lanes[fwidth];
  v.store_aligned(lanes);
  float max = lanes[0];
  for (int i = 1; i < fwidth; ++i) max = lanes[i] > max ? lanes[i] : max;
  return max;
}

// load_to_register(p), load_unaligned_to_register(p): loads whose result must sit in a register. GCC otherwise re-reads a loaded vector
// as a memory operand of each FMA when a register tile fills all 16 registers of AVX2, and those extra loads, not
// the FMAs, then bound the loop. An empty asm that claims to modify the value pins it; other targets need no hint.
inline fbatch in_register(fbatch batch) {
  auto v = batch.data;
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  asm("" : "+v"(v));
#endif
  return fbatch(v);
}
inline fbatch load_to_register(const float* p) { return in_register(fbatch::load_aligned(p)); }
inline fbatch load_unaligned_to_register(const float* p) { return in_register(fbatch::load_unaligned(p)); }

// load_as<T>/store for T = fbatch or float, so one formula written against T serves the vector body and the
// scalar tail alike (see for_each_lane).
template <typename T>
inline T load_as(const float* p) {
  if constexpr (std::is_same_v<T, float>) {
    return *p;
  } else {
    return load(p);
  }
}
inline void store(float* p, float v) { *p = v; }

// for_each_lane(n, f): f(j, fbatch{}) for each full register starting at j, then f(j, 0.0f) for the tail
// elements; f is a generic lambda whose second argument only selects the lane type.
template <typename F>
inline void for_each_lane(int n, F&& f) {
  int j = 0;
  for (; j + fwidth <= n; j += fwidth) f(j, fbatch(0.0f));
  for (; j < n; ++j) f(j, 0.0f);
}

// multiply_add, select, any and horner for either lane type, so that formulas written against T round alike in the
// vector body and the scalar tail: multiply_add is fused where the build has FMA and a multiply then an add where
// it has not (SSE, and WASM SIMD, where xsimd::fma is that pair).
#if defined(__wasm_relaxed_simd__)
// The relaxed engines (-mrelaxed-simd, wasm/wasm.cmake): relaxed SIMD's f32x4.relaxed_madd, which the engine may run
// fused or as a multiply then an add, its choice per machine. clang 14 knows the builtin only as the proposal's
// 2021 prototype, x + y·z, whose encoding current engines reject; wasm/relaxed_madd.mjs re-encodes each one after
// linking as the standard relaxed_madd, x·y + z, so the operands are written here in the standard's order. The
// scalar tail runs the same instruction on one lane, so it rounds as the vector body does.
inline constexpr bool relaxed_multiply_add = true;
inline fbatch multiply_add(const fbatch& a, const fbatch& b, const fbatch& c) {
  return fbatch(__builtin_wasm_fma_f32x4(a.data, b.data, c.data));
}
inline float multiply_add(float a, float b, float c) {
  return __builtin_wasm_fma_f32x4(wasm_f32x4_splat(a), wasm_f32x4_splat(b), wasm_f32x4_splat(c))[0];
}
#else
inline constexpr bool relaxed_multiply_add = false;
inline fbatch multiply_add(const fbatch& a, const fbatch& b, const fbatch& c) { return xsimd::fma(a, b, c); }
inline float multiply_add(float a, float b, float c) {
#if defined(__FMA__)
  return std::fma(a, b, c);
#else
  return a * b + c;
#endif
}
#endif
inline fbatch select(const xsimd::batch_bool<float>& mask, const fbatch& if_true, const fbatch& if_false) {
  return xsimd::select(mask, if_true, if_false);
}
inline float select(bool mask, float if_true, float if_false) { return mask ? if_true : if_false; }
inline bool any(const xsimd::batch_bool<float>& mask) { return xsimd::any(mask); }
inline bool any(bool mask) { return mask; }

// horner(x, c0, c1, …, cn) = c0 + c1·x + … + cn·xⁿ, by Horner's rule.
template <typename T>
inline T horner(const T&, float c0) {
  return T(c0);
}
template <typename T, typename... Higher>
inline T horner(const T& x, float c0, Higher... higher) {
  return multiply_add(horner(x, higher...), x, T(c0));
}

// unroll<N>(f) calls f(std::integral_constant<int, 0>{}) … f(std::integral_constant<int, N-1>{}): indices are
// compile-time constants, so arrays of accumulators indexed by them stay in registers — provided it is inlined:
// g++ 12 once kept the 8-row loop body of the AVX-512 tall GEMM tile out of line, its accumulators in memory
// (the recurrent steps ran at a quarter of the speed), so inlining is forced rather than left to heuristics.
template <typename F, int... I>
[[gnu::always_inline]] inline void unroll_impl(F&& f, std::integer_sequence<int, I...>) {
  (f(std::integral_constant<int, I>{}), ...);
}
template <int N, typename F>
[[gnu::always_inline]] inline void unroll(F&& f) {
  unroll_impl(std::forward<F>(f), std::make_integer_sequence<int, N>{});
}

// ---- activations on batches ------------------------------------------------------------------------------
// xsimd's exp/tanh are Cephes-derived (≈1–2 ulp) and branch-free; sigmoid through exp(−x) saturates cleanly:
// exp overflows to +inf for very negative x and 1/(1+inf) = 0.
inline fbatch sigmoid(const fbatch& x) { return fbatch(1.0f) / (fbatch(1.0f) + xsimd::exp(-x)); }
inline fbatch tanh(const fbatch& x) { return xsimd::tanh(x); }
inline fbatch exp(const fbatch& x) { return xsimd::exp(x); }
inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
inline float tanh(float x) { return std::tanh(x); }
inline float exp(float x) { return std::exp(x); }

// ---- half precision ----------------------------------------------------------------------------------------
// Generation reads every weight once per token, so its speed is memory traffic: half-precision weights halve it,
// and a small model's weights then fit the core's L2. Worth it only where the hardware converts halves in one
// instruction (x86 F16C / AVX-512); WASM SIMD has no such instruction, so there generation keeps float weights.
// This, load_int8 and the int8 dot products below are the only architecture-specific code in the kernels; they stay
// here, beside `pick`.
#if defined(__F16C__) && defined(__AVX512F__)
inline constexpr bool hardware_half = true;
inline fbatch load_half(const unsigned short* p) {  // 16 halves → 16 floats
  static_assert(fwidth == 16, "an AVX-512 build uses 16-float batches");
  return fbatch(_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))));
}
#elif defined(__F16C__) && defined(__AVX__)
inline constexpr bool hardware_half = true;
inline fbatch load_half(const unsigned short* p) {  // 8 halves → 8 floats
  static_assert(fwidth == 8, "an AVX build uses 8-float batches");
  return fbatch(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
#endif

#if !(defined(__F16C__) && (defined(__AVX512F__) || defined(__AVX__)))
inline constexpr bool hardware_half = false;
inline fbatch load_half(const unsigned short* p) {  // portable, and slow: callers prefer float weights here
  alignas(64) float lanes[fwidth];
  for (int i = 0; i < fwidth; ++i) lanes[i] = tinylm::half_to_float(p[i]);
  return fbatch::load_aligned(lanes);
}
#endif

// ---- int8 ------------------------------------------------------------------------------------------------------
// Int8 weights (per-row scaled) quarter generation's memory traffic. load_int8 widens fwidth signed bytes to
// floats with the ISA's sign-extend + convert pair; SSE4.1's pair is lowered to SIMD128 under Emscripten.
#if defined(__AVX512F__)
inline fbatch load_int8(const signed char* p) {  // 16 bytes → 16 floats
  static_assert(fwidth == 16, "an AVX-512 build uses 16-float batches");
  return fbatch(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)))));
}
#elif defined(__AVX2__)
inline fbatch load_int8(const signed char* p) {  // 8 bytes → 8 floats
  static_assert(fwidth == 8, "an AVX2 build uses 8-float batches");
  return fbatch(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)))));
}
#elif defined(__SSE4_1__)
inline fbatch load_int8(const signed char* p) {  // 4 bytes → 4 floats
  static_assert(fwidth == 4, "an SSE build uses 4-float batches");
  int packed;
  std::memcpy(&packed, p, sizeof packed);
  return fbatch(_mm_cvtepi32_ps(_mm_cvtepi8_epi32(_mm_cvtsi32_si128(packed))));
}
#else
inline fbatch load_int8(const signed char* p) {  // portable
  alignas(64) float lanes[fwidth];
  for (int i = 0; i < fwidth; ++i) lanes[i] = static_cast<float>(p[i]);
  return fbatch::load_aligned(lanes);
}
#endif

// Whole floats of magnitude below 2²² as int32 lanes: their bits after adding 1.5·2²³ (an exact sum, whose ulp is 1)
// less that constant's bits. Exact, and two vector operations where Emscripten's emulation of SSE's float-to-int
// conversion (xsimd::to_int's) converts one lane at a time.
using ibatch = xsimd::batch<int32_t>;
inline ibatch whole_floats_to_int(const fbatch& x) {
  return xsimd::bitwise_cast<ibatch>(x + fbatch(12582912.0f)) - ibatch(0x4B400000);
}
// Integers already in int16's range (a quantised row's values) stored as fwidth int16: the ISA's narrowing store.
#if defined(__AVX512F__)
inline void store_int16(int16_t* p, const ibatch& v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_cvtepi32_epi16(v));
}
#elif defined(__AVX__)
inline void store_int16(int16_t* p, const ibatch& v) {
  const __m256i lanes = v;
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p),
                   _mm_packs_epi32(_mm256_castsi256_si128(lanes), _mm256_extractf128_si256(lanes, 1)));
}
#elif defined(__SSE4_1__)
inline void store_int16(int16_t* p, const ibatch& v) {
  _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_packs_epi32(v, v));
}
#else
inline void store_int16(int16_t* p, const ibatch& v) {  // portable
  alignas(64) int32_t lanes[ibatch::size];
  v.store_aligned(lanes);
  for (std::size_t i = 0; i < ibatch::size; ++i) p[i] = static_cast<int16_t>(lanes[i]);
}
#endif

// ---- int8 · int8 ------------------------------------------------------------------------------------------------
// Integer dot products of int8 weights with int8-quantised activations: i8width bytes of each operand sign-extended
// to int16 (load_int8_as_int16 → iwide; load_wide/store_wide move i8width values already widened), multiplied in
// pairs and each pair's sum added to an int32 lane (dot_add: pmaddwd; SSE4.1's _mm_madd_epi16 is lowered to wasm's
// i32x4.dot_i16x8_s). Values in [−127, 127] cannot overflow
// a pair (2 · 127² < 2¹⁵ · 2), so the sums are exact and their order does not matter. (maddubs would take the bytes
// unwidened, but saturates its int16 pair sums.)
#if defined(__AVX2__)
using iwide = __m256i;  // 16 int16
using isum = __m256i;   // 8 int32
inline constexpr int i8width = 16;
inline isum isum_zero() { return _mm256_setzero_si256(); }
inline iwide load_int8_as_int16(const signed char* p) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
inline iwide load_wide(const int16_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
inline void store_wide(int16_t* p, iwide v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
inline isum dot_add(isum acc, iwide a, iwide b) { return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b)); }
inline int32_t reduce_add_int(isum v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}
#elif defined(__SSE4_1__)
using iwide = __m128i;  // 8 int16
using isum = __m128i;   // 4 int32
inline constexpr int i8width = 8;
inline isum isum_zero() { return _mm_setzero_si128(); }
inline iwide load_int8_as_int16(const signed char* p) {
  return _mm_cvtepi8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}
inline iwide load_wide(const int16_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
inline void store_wide(int16_t* p, iwide v) { _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v); }
inline isum dot_add(isum acc, iwide a, iwide b) { return _mm_add_epi32(acc, _mm_madd_epi16(a, b)); }
inline int32_t reduce_add_int(isum v) {
  __m128i s = _mm_add_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}
#else
struct iwide {  // portable: the same pairing in plain integers
  int16_t lanes[8];
};
struct isum {
  int32_t lanes[4];
};
inline constexpr int i8width = 8;
inline isum isum_zero() { return isum{}; }
inline iwide load_int8_as_int16(const signed char* p) {
  iwide w;
  for (int i = 0; i < 8; ++i) w.lanes[i] = p[i];
  return w;
}
inline iwide load_wide(const int16_t* p) {
  iwide w;
  std::memcpy(w.lanes, p, sizeof w.lanes);
  return w;
}
inline void store_wide(int16_t* p, iwide v) { std::memcpy(p, v.lanes, sizeof v.lanes); }
inline isum dot_add(isum acc, iwide a, iwide b) {
  for (int i = 0; i < 4; ++i)
    acc.lanes[i] += int32_t(a.lanes[2 * i]) * b.lanes[2 * i] + int32_t(a.lanes[2 * i + 1]) * b.lanes[2 * i + 1];
  return acc;
}
inline int32_t reduce_add_int(isum v) { return v.lanes[0] + v.lanes[1] + v.lanes[2] + v.lanes[3]; }
#endif

// ---- reference routing -----------------------------------------------------------------------------------
#if defined(TINYLM_FORCE_SCALAR) && TINYLM_FORCE_SCALAR
inline constexpr bool force_scalar = true;
#else
inline constexpr bool force_scalar = false;
#endif

// pick(ref::k, k_simd) — the function a public kernel name runs: the scalar reference in a TINYLM_FORCE_SCALAR
// build, the SIMD implementation otherwise. Resolved at compile time.
template <typename Fn>
constexpr Fn pick(Fn reference, Fn vectorised) {
  return force_scalar ? reference : vectorised;
}

}  // namespace tinylm::simd
