// What every binding file may ask of a handle that generates: the network that steps and the tokenizer of its text.
// A loaded model (engine_model.hpp's Model) is one; so is a fusion of two (bindings_session.cpp's Fusion), so the
// Generator, BeamSearch and Session bindings take either.
#pragma once
#include "tinylm/model.hpp"
#include "tinylm/tokenizer.hpp"

namespace tinylm::wasm {

class ModelHandle {
 public:
  virtual ~ModelHandle() = default;
  virtual LanguageModel& network() = 0;
  virtual const Tokenizer& tokenizer() const = 0;
};

}  // namespace tinylm::wasm
