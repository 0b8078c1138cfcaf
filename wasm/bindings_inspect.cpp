// The docs site's live views at the Embind seam (the seam's contract is bindings.cpp's): model.inspect(text) runs
// the model over a text one token at a time and hands back, in one object of typed arrays, what the views draw —
// a recurrent model's gates and hidden states, or a GPT's attention maps. Stepping (not a training forward) gives
// exactly what generation computes, and one call per text keeps the seam coarse.
//
// Exposed (JS names): model.inspect(text) (registered with the Model class in bindings.cpp).
#include <emscripten/val.h>

#include <algorithm>
#include <string>
#include <vector>

#include "engine_model.hpp"
#include "memory_limits.hpp"
#include "models/gpt.hpp"
#include "models/recurrent_lm.hpp"
#include "seam.hpp"
#include "tinylm/error.hpp"

namespace tinylm::wasm {
namespace {

val inspect_gates(RecurrentLM& recurrent, const std::vector<int32_t>& tokens) {
  const RecurrentConfig& config = recurrent.config();
  const int L = config.num_layers, H = config.hidden_size, G = gate_count(config.cell);
  const size_t N = tokens.size();
  check_memory(saturating_product(N, L, G * H + H, sizeof(float)), memory_cap(), LimitKind::OutOfMemory,
               "inspecting " + std::to_string(N) + " tokens", "inspect a shorter text");
  std::vector<float> gates(N * L * G * H), hidden(N * L * H);
  recurrent.reset_state();
  for (size_t n = 0; n < N; ++n) {
    recurrent.step(tokens[n]);
    for (int l = 0; l < L; ++l) {
      const float* layer_gates = recurrent.last_step_gates(l);
      std::copy(layer_gates, layer_gates + G * H, gates.data() + (n * L + l) * G * H);
      const float* layer_hidden = recurrent.state_h(l);
      std::copy(layer_hidden, layer_hidden + H, hidden.data() + (n * L + l) * H);
    }
  }
  recurrent.reset_state();
  val result = val::object();
  result.set("kind", std::string("gates"));
  result.set("tokens", copy_to_js(tokens.data(), N));
  result.set("gates", copy_to_js(gates.data(), gates.size()));
  result.set("hidden", copy_to_js(hidden.data(), hidden.size()));
  result.set("layers", L);
  result.set("gateCount", G);
  result.set("hiddenSize", H);
  result.set("gateNames", std::string(config.cell == CellKind::Lstm  ? "i,f,g,o"
                                      : config.cell == CellKind::Gru ? "r,z,n"
                                                                     : "a"));
  return result;
}

// Feeds the tokens one at a time through the KV cache: after token q, each head's weights over positions 0 … q are
// row q of its attention matrix. Inside one window that is exactly the full forward pass's attention.
val inspect_attention(GptLM& gpt, const std::vector<int32_t>& tokens) {
  const GptConfig& config = gpt.config();
  const size_t N = tokens.size();
  check(N <= size_t(config.context_size), "the text has ", N, " tokens but the model attends over at most ",
        config.context_size, ": inspect a shorter text");
  const int L = config.num_layers, NH = config.num_heads;
  check_memory(saturating_product(L, NH, N, N, sizeof(float)), memory_cap(), LimitKind::OutOfMemory,
               "the attention maps of " + std::to_string(N) + " tokens", "inspect a shorter text");
  std::vector<float> attention(size_t(L) * NH * N * N, 0.0f);
  gpt.reset_state();
  for (size_t q = 0; q < N; ++q) {
    gpt.step(tokens[q]);
    for (int l = 0; l < L; ++l) {
      const float* weights = gpt.last_step_attention(l);  // (NH, q+1)
      for (int h = 0; h < NH; ++h) {
        std::copy(weights + h * (q + 1), weights + (h + 1) * (q + 1),
                  attention.data() + ((size_t(l) * NH + h) * N + q) * N);
      }
    }
  }
  gpt.reset_state();
  val result = val::object();
  result.set("kind", std::string("attention"));
  result.set("tokens", copy_to_js(tokens.data(), N));
  result.set("attention", copy_to_js(attention.data(), attention.size()));
  result.set("layers", L);
  result.set("heads", NH);
  return result;
}

}  // namespace

// What the docs site's live views draw, computed by the model on `text`, as one object with `kind`:
//   "gates" (recurrent):  { tokens: Int32Array (N), gates: Float32Array (N, L, G·H), hidden: Float32Array (N, L, H),
//                           layers: L, gateCount: G, hiddenSize: H, gateNames: "i,f,g,o" | "r,z,n" | "a" }
//     gates are activated (LSTM i,f,g,o; GRU r,z,n) or, for vanilla RNNs, the pre-activation;
//   "attention" (gpt):    { tokens: Int32Array (N), attention: Float32Array (L, NH, N, N), layers: L, heads: NH }
//     attention[l][h][q][k] is how much position q attends to position k ≤ q (zero above the diagonal); N may
//     not exceed the model's context.
// Either way the generation state is reset before and after.
val EngineModel::inspect(const std::string& text) {
  return guarded([&] {
    const std::vector<int32_t> tokens = encode_checked(*model_.tokenizer, text, "inspection");
    if (auto* recurrent = dynamic_cast<RecurrentLM*>(model_.network.get())) return inspect_gates(*recurrent, tokens);
    if (auto* gpt = dynamic_cast<GptLM*>(model_.network.get())) return inspect_attention(*gpt, tokens);
    fail("inspection shows recurrent gates or attention: it needs an lstm, gru, rnn or gpt model, got '",
         model_.network->arch(), "'");
  });
}

}  // namespace tinylm::wasm
