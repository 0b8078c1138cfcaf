// Hand-made safetensors bytes for the tests of io/safetensors (test_safetensors.cpp, test_safetensors_errors.cpp):
// a file with exactly the header text a test writes, one tensor's header entry, and the message an action fails with.
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "tinylm/error.hpp"

namespace tinylm::testing {

// A file with exactly this header text (unpadded: the spec allows it) and data; `declared_length` lets a test lie.
inline std::vector<uint8_t> forge_file(const std::string& header, const std::vector<uint8_t>& data = {},
                                       uint64_t declared_length = std::numeric_limits<uint64_t>::max()) {
  const uint64_t length = declared_length == std::numeric_limits<uint64_t>::max() ? header.size() : declared_length;
  std::vector<uint8_t> file(8);
  for (int i = 0; i < 8; ++i) file[i] = static_cast<uint8_t>(length >> (8 * i));
  file.insert(file.end(), header.begin(), header.end());
  file.insert(file.end(), data.begin(), data.end());
  return file;
}

inline std::string tensor_entry(const std::string& dtype, const std::string& shape, const std::string& offsets) {
  return R"({"dtype":")" + dtype + R"(","shape":)" + shape + R"(,"data_offsets":)" + offsets + "}";
}

// The message of the Error `action` throws, or "<no error>".
template <typename Action>
std::string error_message_of(Action action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  return "<no error>";
}

}  // namespace tinylm::testing
