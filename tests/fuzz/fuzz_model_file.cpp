// Fuzz target: bytes → model (load_model_bytes), the path every downloaded or user-supplied file takes. A model
// that loads also generates one token and scores three, so the loaded sizes are exercised, not only checked.
// Invalid input must end in tinylm::Error (a LimitError when it asks for more memory than the cap); anything else —
// a sanitizer report, another exception, an allocation past libFuzzer's -malloc_limit_mb — is a finding.
// Built twice by tests/fuzz/run.sh: natively, and with -m32 and the wasm build's 1 GiB cap, where size_t has the
// wasm build's 32 bits (tests/fuzz/fuzz_model_file_32 in the build tree).
#include <cstddef>
#include <cstdint>

#include "tinylm/error.hpp"
#include "tinylm/model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    tinylm::Model model = tinylm::load_model_bytes(data, size);
    model.network->reset_state();
    model.network->step(0);
    model.network->evaluate({0, 0, 0, 0});
  } catch (const tinylm::Error&) {
  }
  return 0;
}
