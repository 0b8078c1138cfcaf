// Sizes that come from a config, a file or an option are computed here, in 64 bits that saturate instead of
// wrapping, and compared with what this build may allocate BEFORE any buffer is sized from them. In the wasm build
// size_t has 32 bits: a product such as N·G·H that passes 2^32 would otherwise wrap to a small number, and the
// buffer sized from it would be written far past its end (into memory another model owns).
//
//   memory_cap()          bytes this build may hold at once: the engine's heap cap (TINYLM_MAXIMUM_MEMORY, 1 GiB)
//                         in wasm; the machine's physical memory natively.
//   saturating_mul/add    uint64 arithmetic that sticks at kSaturated, so a wrapped product can never pass a check.
//   check_memory          throws LimitError(kind, bytes needed, cap) with a message naming both.
//   checked_count         a count as size_t, or LimitError: for sizes that reach resize()/assign().
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "tinylm/error.hpp"

namespace tinylm {

constexpr uint64_t kSaturated = std::numeric_limits<uint64_t>::max();

constexpr uint64_t saturating_mul(uint64_t a, uint64_t b) {
  return a != 0 && b > kSaturated / a ? kSaturated : a * b;
}
constexpr uint64_t saturating_add(uint64_t a, uint64_t b) { return b > kSaturated - a ? kSaturated : a + b; }
// An integer as a factor: a negative one (a corrupt value) saturates, so it fails every check too.
template <typename Integer>
constexpr uint64_t as_factor(Integer value) {
  if constexpr (std::is_signed_v<Integer>) {
    if (value < 0) return kSaturated;
  }
  return static_cast<uint64_t>(value);
}
// Product of integer factors in saturating arithmetic.
template <typename... Factors>
constexpr uint64_t saturating_product(Factors... factors) {
  uint64_t product = 1;
  ((product = saturating_mul(product, as_factor(factors))), ...);
  return product;
}

// The wasm build's heap cap (TINYLM_MAXIMUM_MEMORY); natively the machine's physical memory (at most what size_t
// addresses), so a request no machine could serve fails with a message instead of a bare std::bad_alloc.
uint64_t memory_cap();

// OutOfMemory: an operation (a training step, an inspection) needs more than the cap. ModelTooLarge: the model
// itself (its parameters and generation state) does. The wasm seam turns them into the package's error codes.
enum class LimitKind { OutOfMemory, ModelTooLarge };

class LimitError : public Error {
 public:
  LimitError(LimitKind kind, uint64_t bytes_needed, uint64_t cap, const std::string& message)
      : Error(message), kind(kind), bytes_needed(bytes_needed), cap(cap) {}
  LimitKind kind;
  uint64_t bytes_needed;  // kSaturated when the count overflowed 64 bits
  uint64_t cap;
};

// "1.5 GiB", "17.0 MiB", "overflowing 64 bits".
std::string format_bytes(uint64_t bytes);

// Throws LimitError unless bytes_needed ≤ cap: "<what> needs 4.1 GiB, more than the 1.0 GiB this engine may use —
// <hint>".
void check_memory(uint64_t bytes_needed, uint64_t cap, LimitKind kind, const std::string& what,
                  const std::string& hint);

// count elements of element_bytes each, as a size_t, after checking count·element_bytes against memory_cap().
size_t checked_count(uint64_t count, uint64_t element_bytes, const char* what);

}  // namespace tinylm
