// tinylm::Error — the one exception type the core throws for invalid input or state.
// Its message names the problem and the offending value ("tensor 'head.weight': shape [96, 256] does not match
// config [97, 256]"). The CLI prints it; the wasm boundary turns it into a JS Error. Nothing aborts.
#pragma once
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace tinylm {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// append_part(message, part) — `part` as `std::ostringstream() << part` would print it (floats as %g, bools as 1/0,
// chars as characters). Strings, characters and numbers are formatted here: a stream would pull libc++'s locale
// machinery (~20 KB gzipped) into the wasm engine. Any other type falls back to its operator<<.
template <typename Part>
void append_part(std::string& message, const Part& part) {
  if constexpr (std::is_convertible_v<const Part&, std::string_view>) {
    message += std::string_view(part);
  } else if constexpr (std::is_same_v<Part, char> || std::is_same_v<Part, signed char> ||
                       std::is_same_v<Part, unsigned char>) {
    message += static_cast<char>(part);
  } else if constexpr (std::is_same_v<Part, bool>) {
    message += part ? '1' : '0';
  } else if constexpr (std::is_integral_v<Part>) {
    message += std::to_string(part);
  } else if constexpr (std::is_floating_point_v<Part>) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", static_cast<double>(part));
    message += text;
  } else {
    std::ostringstream stream;
    stream << part;
    message += stream.str();
  }
}

// fail("tensor '", name, "' has ", n, " elements") — builds the message from streamable parts and throws.
template <typename... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::string message;
  (append_part(message, parts), ...);
  throw Error(message);
}

// check(condition, parts...) — fail(parts...) unless condition holds.
template <typename... Parts>
void check(bool condition, const Parts&... parts) {
  if (!condition) fail(parts...);
}

}  // namespace tinylm
