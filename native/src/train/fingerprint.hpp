// Content fingerprints that tell one training run's inputs from another's, so a resumed run continues only the run
// it was checkpointed from (web/lib/fine_tune_checkpoints.ts): the bytes of a text, and a model's weights exactly
// as held (the float block and, for a base held in F16 or int8, its compact matrices), with its config and
// tokenizer. 64-bit, as 16 hex digits: an identity check against accidents (another text, another model), not a
// cryptographic hash.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "tinylm/model.hpp"

namespace tinylm {

std::string bytes_fingerprint(const void* data, size_t size);
std::string weights_fingerprint(TrainableModel& model, const Tokenizer& tokenizer);

}  // namespace tinylm
