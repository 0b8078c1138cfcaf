#include "memory_limits.hpp"

#include <unistd.h>  // sysconf (Emscripten has it too; the wasm build never calls it)

#include <algorithm>
#include <cstdio>
#include <limits>

namespace tinylm {

uint64_t memory_cap() {
#ifdef TINYLM_MAXIMUM_MEMORY
  // A 4 GiB wasm heap is 2^32 bytes, one more than its size_t holds: a request that passed a cap of 2^32 could
  // still wrap a size_t, so the cap is what size_t can count.
  return std::min<uint64_t>(TINYLM_MAXIMUM_MEMORY, std::numeric_limits<size_t>::max());
#else
  static const uint64_t cap = [] {
    const long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
    const uint64_t addressable = std::numeric_limits<size_t>::max();
    if (pages <= 0 || page_size <= 0) return addressable;
    return std::min(addressable, saturating_mul(uint64_t(pages), uint64_t(page_size)));
  }();
  return cap;
#endif
}

std::string format_bytes(uint64_t bytes) {
  if (bytes == kSaturated) return "more than 2^64 bytes";
  char text[48];
  const double value = double(bytes);
  if (bytes >= (uint64_t(1) << 30)) std::snprintf(text, sizeof text, "%.1f GiB", value / double(1 << 30));
  else if (bytes >= (uint64_t(1) << 20)) std::snprintf(text, sizeof text, "%.1f MiB", value / double(1 << 20));
  else std::snprintf(text, sizeof text, "%llu bytes", static_cast<unsigned long long>(bytes));
  return text;
}

void check_memory(uint64_t bytes_needed, uint64_t cap, LimitKind kind, const std::string& what,
                  const std::string& hint) {
  if (bytes_needed <= cap) return;
  std::string message = what + " needs " + format_bytes(bytes_needed);
  if (bytes_needed != kSaturated) message += " (" + std::to_string(bytes_needed) + " bytes)";
  message += ", more than the " + format_bytes(cap) + " this engine may use";
  if (!hint.empty()) message += " — " + hint;
  throw LimitError(kind, bytes_needed, cap, message);
}

size_t checked_count(uint64_t count, uint64_t element_bytes, const char* what) {
  check_memory(saturating_mul(count, element_bytes), memory_cap(), LimitKind::OutOfMemory, what,
               "use smaller sizes");
  return static_cast<size_t>(count);
}

}  // namespace tinylm
