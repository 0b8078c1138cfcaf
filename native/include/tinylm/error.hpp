// tinylm::Error — the one exception type the core throws for invalid input or state.
// Its message names the problem and the offending value ("tensor 'head.weight': shape [96, 256] does not match
// config [97, 256]"). The CLI prints it; the wasm boundary turns it into a JS Error. Nothing aborts.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace tinylm {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// fail("tensor '", name, "' has ", n, " elements") — builds the message from streamable parts and throws.
template <typename... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream message;
  (message << ... << parts);
  throw Error(message.str());
}

// check(condition, parts...) — fail(parts...) unless condition holds.
template <typename... Parts>
void check(bool condition, const Parts&... parts) {
  if (!condition) fail(parts...);
}

}  // namespace tinylm
