// What a streamed generation step gives JavaScript, shared by the Generator (bindings_generate.cpp) and Session
// (bindings_session.cpp) bindings: one step's piece, token and stop reason, and the distribution's top tokens.
#pragma once
#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "generate/generator.hpp"
#include "seam.hpp"

namespace tinylm::wasm {

struct GenerateStep {
  std::string piece;        // text that became safe to show (may be empty)
  bool done = false;
  int token = -1;           // the sampled id, −1 if none was sampled in this call
  std::string stop_reason;  // "", "max_tokens", "stop", "eos"
};

inline GenerateStep next_step(Generator& generator) {
  GenerateStep result;
  const size_t before = generator.history().size();
  result.done = !generator.next(&result.piece);
  result.piece = well_formed(std::move(result.piece));
  if (generator.history().size() > before) result.token = generator.last_token();
  result.stop_reason = generator.stop_reason();
  return result;
}

// The k most probable tokens of the distribution the last token was drawn from (after temperature, top-k and
// top-p): [{ token, piece, probability }], best first; tokens outside the kept set are left out.
inline val top_alternatives(const Generator& generator, const Tokenizer& tokenizer, int k) {
  const std::vector<float>& probabilities = generator.sampler().last_probabilities();
  std::vector<int32_t> order(probabilities.size());
  std::iota(order.begin(), order.end(), 0);
  const size_t count = std::min(order.size(), size_t(std::max(k, 0)));
  std::partial_sort(order.begin(), order.begin() + count, order.end(), [&](int32_t a, int32_t b) {
    return probabilities[a] > probabilities[b] || (probabilities[a] == probabilities[b] && a < b);
  });
  val result = val::array();
  for (size_t i = 0; i < count && probabilities[order[i]] > 0; ++i) {
    val entry = val::object();
    entry.set("token", order[i]);
    entry.set("piece", well_formed(tokenizer.token_bytes(order[i])));
    entry.set("probability", probabilities[order[i]]);
    result.call<void>("push", entry);
  }
  return result;
}

}  // namespace tinylm::wasm
