// One sampled stream of generated text at the Embind seam (the seam's contract is bindings.cpp's): a Generator over
// a Model or a Fusion (any ModelHandle) turns a prompt into tokens one next() at a time, so the worker can stop and
// stream between tokens; a long prompt is read in prefill(n) chunks for the same reason. Beam search and chat
// sessions, which generate beyond one stream, are bindings_session.cpp's.
//
// Exposed (JS names): Generator.create(model, options, stops) · generator.start(prompt) · generator.begin(prompt) ·
//   generator.prefill(n) · generator.next() → GenerateStep · generator.alternatives(k) ·
//   generator.beginReusing(prompt, heldIds) → { promptTokens, reused } · generator.tokensInState() → Int32Array
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <string>
#include <vector>

#include "generate/generator.hpp"
#include "generation_values.hpp"
#include "model_handle.hpp"
#include "seam.hpp"
#include "tinylm/error.hpp"

namespace tinylm::wasm {
namespace {

struct GeneratorOptions {
  int max_tokens = 200;
  float temperature = 1.0f;
  int top_k = 0;
  float top_p = 1.0f;
  float repetition_penalty = 1.0f;
  int repetition_window = 0;
  double seed = 0;
  bool stop_at_eos = false;
};

class EngineGenerator {
 public:
  static val create(ModelHandle& model, const GeneratorOptions& options, const val& stops) {
    return guarded([&] {
      GenerateOptions generate_options;
      generate_options.max_tokens = options.max_tokens;
      generate_options.sampling.temperature = options.temperature;
      generate_options.sampling.top_k = options.top_k;
      generate_options.sampling.top_p = options.top_p;
      generate_options.sampling.repetition_penalty = options.repetition_penalty;
      generate_options.sampling.repetition_window = options.repetition_window;
      generate_options.sampling.seed = static_cast<uint64_t>(options.seed);
      generate_options.sampling.validate();
      generate_options.stop = emscripten::vecFromJSArray<std::string>(stops);
      generate_options.stop_at_eos = options.stop_at_eos;
      return new EngineGenerator(model, generate_options);
    });
  }

  val start(const std::string& prompt) {
    return guarded([&] { generator_.start(prompt); });
  }
  // start() in steps: begin(prompt), then prefill(maxTokens) until it returns true (worker.ts checks for
  // cancellation between the calls, so a long prompt can be stopped).
  val begin(const std::string& prompt) {
    return guarded([&] { generator_.begin(prompt); });
  }
  val prefill(int max_tokens) {
    return guarded([&] { return generator_.prefill(max_tokens); });
  }
  // begin() keeping the model's state when it is the one after `held` (Int32Array), a proper prefix of the prompt's
  // tokens (worker_chat.ts vouches that nothing touched the model since) → { promptTokens, reused }.
  val begin_reusing(const std::string& prompt, const val& held) {
    return guarded([&] {
      val result = val::object();
      result.set("reused", double(generator_.begin_reusing(prompt, copy_from_js<int32_t>(held))));
      result.set("promptTokens", double(generator_.prompt_tokens()));
      return result;
    });
  }
  val tokens_in_state() const {
    return guarded([&] {
      const std::vector<int32_t> tokens = generator_.tokens_in_state();
      return copy_to_js(tokens.data(), tokens.size());
    });
  }

  val next() {
    return guarded([&] { return next_step(generator_); });
  }

  // The k most probable tokens of the distribution the last token was drawn from (generation_values.hpp).
  val alternatives(int k) const {
    return guarded([&] { return top_alternatives(generator_, tokenizer_, k); });
  }

 private:
  EngineGenerator(ModelHandle& model, const GenerateOptions& options)
      : tokenizer_(model.tokenizer()), generator_(model.network(), model.tokenizer(), options) {}
  const Tokenizer& tokenizer_;
  Generator generator_;
};

}  // namespace
}  // namespace tinylm::wasm

EMSCRIPTEN_BINDINGS(tinylm_generator) {
  using namespace emscripten;
  using namespace tinylm::wasm;

  value_object<GeneratorOptions>("GeneratorOptions")
      .field("maxTokens", &GeneratorOptions::max_tokens)
      .field("temperature", &GeneratorOptions::temperature)
      .field("topK", &GeneratorOptions::top_k)
      .field("topP", &GeneratorOptions::top_p)
      .field("repetitionPenalty", &GeneratorOptions::repetition_penalty)
      .field("repetitionWindow", &GeneratorOptions::repetition_window)
      .field("seed", &GeneratorOptions::seed)
      .field("stopAtEos", &GeneratorOptions::stop_at_eos);
  value_object<GenerateStep>("GenerateStep")
      .field("piece", &GenerateStep::piece)
      .field("done", &GenerateStep::done)
      .field("token", &GenerateStep::token)
      .field("stopReason", &GenerateStep::stop_reason);
  class_<EngineGenerator>("Generator")
      .class_function("create", &EngineGenerator::create)
      .function("start", &EngineGenerator::start)
      .function("begin", &EngineGenerator::begin)
      .function("prefill", &EngineGenerator::prefill)
      .function("beginReusing", &EngineGenerator::begin_reusing)
      .function("tokensInState", &EngineGenerator::tokens_in_state)
      .function("next", &EngineGenerator::next)
      .function("alternatives", &EngineGenerator::alternatives);
}
