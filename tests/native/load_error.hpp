// load_error(bytes): the message loading these model-file bytes fails with, or "(loaded without error)" —
// for tests that try bad files and look for the phrase that names the problem.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tinylm/error.hpp"
#include "tinylm/model.hpp"

namespace tinylm::testing {

inline std::string load_error(const std::vector<uint8_t>& bytes) {
  try {
    load_model_bytes(bytes.data(), bytes.size());
  } catch (const Error& error) {
    return error.what();
  }
  return "(loaded without error)";
}

}  // namespace tinylm::testing
