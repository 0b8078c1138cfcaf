// The Embind seam for generation beyond one sampled stream (the seam's contract is bindings.cpp's: every entry point
// guarded, a failure returned as a JS Error, every handle freed with .delete()).
//
// Exposed (JS names):
//   Fusion.create(primary, secondary, weight) — a ModelHandle whose next-token distribution is
//     weight · p_primary + (1 − weight) · p_secondary (generate/fusion.hpp); both models must outlive it and share a
//     tokenizer. Generator.create, BeamSearch.create and Session.create take it where they take a Model.
//   BeamSearch.create(model, options, stops) · search.begin(prompt) · search.prefill(n) · search.advance() ·
//     search.results() → [{ tokens: Int32Array, text, logProbability, score, stopReason }], best first
//   Session.create(model) · Session.restore(model, bytes) · session.beginTurn(prompt, options, stops) ·
//     session.prefill(n) · session.next() · session.alternatives(k) · session.endTurn() · session.fork() ·
//     session.save() → Uint8Array · session.stats() → { historyTokens, lastTurnTokensRead }
// A Session refers to its model: delete it before the Model (or the Fusion) it was made from.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <climits>
#include <memory>
#include <string>
#include <vector>

#include "generate/beam_search.hpp"
#include "generate/fusion.hpp"
#include "generate/generator.hpp"
#include "generate/session.hpp"
#include "generation_values.hpp"
#include "model_handle.hpp"
#include "seam.hpp"
#include "tinylm/error.hpp"

namespace tinylm::wasm {
namespace {

struct BeamSearchOptionsJs {
  int beams = 4;
  float length_penalty = 1.0f;
  int max_tokens = 200;
  bool stop_at_eos = false;
};

// Sampling options as bindings_generate.cpp's GeneratorOptions carries them (a JS object with the same fields).
GenerateOptions generate_options(const val& options, const val& stops) {
  GenerateOptions result;
  result.max_tokens = options["maxTokens"].as<int>();
  result.sampling.temperature = options["temperature"].as<float>();
  result.sampling.top_k = options["topK"].as<int>();
  result.sampling.top_p = options["topP"].as<float>();
  result.sampling.repetition_penalty = options["repetitionPenalty"].as<float>();
  result.sampling.repetition_window = options["repetitionWindow"].as<int>();
  result.sampling.seed = static_cast<uint64_t>(options["seed"].as<double>());
  result.sampling.validate();
  result.stop = emscripten::vecFromJSArray<std::string>(stops);
  result.stop_at_eos = options["stopAtEos"].as<bool>();
  return result;
}

class EngineFusion : public ModelHandle {
 public:
  static val create(ModelHandle& primary, ModelHandle& secondary, float weight) {
    return guarded([&] {
      check(primary.tokenizer().to_json() == secondary.tokenizer().to_json(),
            "fusion needs two models with the same tokenizer: these encode text differently (",
            primary.tokenizer().kind(), " with ", primary.tokenizer().vocab_size(), " tokens and ",
            secondary.tokenizer().kind(), " with ", secondary.tokenizer().vocab_size(), ")");
      return new EngineFusion(primary, secondary, weight);
    });
  }
  LanguageModel& network() override { return fused_; }
  const Tokenizer& tokenizer() const override { return tokenizer_; }

 private:
  EngineFusion(ModelHandle& primary, ModelHandle& secondary, float weight)
      : tokenizer_(primary.tokenizer()), fused_(primary.network(), secondary.network(), weight) {}
  const Tokenizer& tokenizer_;
  FusedModel fused_;
};

class EngineBeamSearch {
 public:
  static val create(ModelHandle& model, const BeamSearchOptionsJs& options, const val& stops) {
    return guarded([&] {
      BeamSearchOptions search_options;
      search_options.beams = options.beams;
      search_options.length_penalty = options.length_penalty;
      search_options.max_tokens = options.max_tokens;
      search_options.stop_at_eos = options.stop_at_eos;
      search_options.stop = emscripten::vecFromJSArray<std::string>(stops);
      return new EngineBeamSearch(model, search_options);
    });
  }
  val begin(const std::string& prompt) {
    return guarded([&] { search_.begin(prompt); });
  }
  val prefill(int max_tokens) {
    return guarded([&] { return search_.prefill(max_tokens); });
  }
  val advance() {
    return guarded([&] { return search_.advance(); });
  }
  val results() const {
    return guarded([&] {
      val list = val::array();
      for (const BeamHypothesis& hypothesis : search_.results()) {
        val entry = val::object();
        entry.set("tokens", copy_to_js(hypothesis.tokens.data(), hypothesis.tokens.size()));
        entry.set("text", well_formed(hypothesis.text));
        entry.set("logProbability", hypothesis.log_probability);
        entry.set("score", hypothesis.score);
        entry.set("stopReason", hypothesis.stop_reason);
        list.call<void>("push", entry);
      }
      return list;
    });
  }

 private:
  EngineBeamSearch(ModelHandle& model, const BeamSearchOptions& options)
      : search_(model.network(), model.tokenizer(), options) {}
  BeamSearch search_;
};

class EngineSession {
 public:
  static val create(ModelHandle& model) {
    return guarded([&] { return new EngineSession(model, std::make_unique<Session>(model.network(), model.tokenizer())); });
  }
  static val restore(ModelHandle& model, const val& bytes) {
    return guarded([&] {
      const std::vector<uint8_t> data = copy_from_js<uint8_t>(bytes);
      return new EngineSession(model, Session::restore(model.network(), model.tokenizer(), data.data(), data.size()));
    });
  }

  // Starts a turn; options as Generator.create takes them.
  val begin_turn(const std::string& prompt, const val& options, const val& stops) {
    return guarded([&] {
      GenerateOptions turn_options = generate_options(options, stops);
      generator_ = &session_->begin_turn(prompt, turn_options);
    });
  }
  val prefill(int max_tokens) {
    return guarded([&] { return turn().prefill(max_tokens); });
  }
  val next() {
    return guarded([&] { return next_step(turn()); });
  }
  val alternatives(int k) {
    return guarded([&] { return top_alternatives(turn(), model_.tokenizer(), k); });
  }
  // Keeps the turn (also one stopped early: the worker calls it in `finally`).
  val end_turn() {
    return guarded([&] {
      session_->end_turn();
      generator_ = nullptr;
    });
  }
  val fork() const {
    return guarded([&] { return new EngineSession(model_, session_->fork()); });
  }
  val save() const {
    return guarded([&] {
      const std::vector<uint8_t> bytes = session_->save();
      return copy_to_js(bytes.data(), bytes.size());
    });
  }
  // historyTokens: every token of every turn; lastTurnTokensRead: what the last turn fed the model (its prompt, the
  // previous turn's last token, and every generated token but its last).
  val stats() const {
    val result = val::object();
    result.set("historyTokens", double(session_->history().size()));
    result.set("lastTurnTokensRead", double(session_->last_turn_tokens_read()));
    return result;
  }

 private:
  EngineSession(ModelHandle& model, std::unique_ptr<Session> session) : model_(model), session_(std::move(session)) {}
  Generator& turn() {
    check(generator_ != nullptr, "session: no turn in progress: call beginTurn() first");
    return *generator_;
  }
  ModelHandle& model_;
  std::unique_ptr<Session> session_;
  Generator* generator_ = nullptr;  // the turn in progress, owned by session_
};

}  // namespace
}  // namespace tinylm::wasm

EMSCRIPTEN_BINDINGS(tinylm_generation) {
  using namespace emscripten;
  using namespace tinylm::wasm;

  value_object<BeamSearchOptionsJs>("BeamSearchOptions")
      .field("beams", &BeamSearchOptionsJs::beams)
      .field("lengthPenalty", &BeamSearchOptionsJs::length_penalty)
      .field("maxTokens", &BeamSearchOptionsJs::max_tokens)
      .field("stopAtEos", &BeamSearchOptionsJs::stop_at_eos);
  class_<ModelHandle>("ModelHandle");
  class_<EngineFusion, base<ModelHandle>>("Fusion").class_function("create", &EngineFusion::create);
  class_<EngineBeamSearch>("BeamSearch")
      .class_function("create", &EngineBeamSearch::create)
      .function("begin", &EngineBeamSearch::begin)
      .function("prefill", &EngineBeamSearch::prefill)
      .function("advance", &EngineBeamSearch::advance)
      .function("results", &EngineBeamSearch::results);
  class_<EngineSession>("Session")
      .class_function("create", &EngineSession::create)
      .class_function("restore", &EngineSession::restore)
      .function("beginTurn", &EngineSession::begin_turn)
      .function("prefill", &EngineSession::prefill)
      .function("next", &EngineSession::next)
      .function("alternatives", &EngineSession::alternatives)
      .function("endTurn", &EngineSession::end_turn)
      .function("fork", &EngineSession::fork)
      .function("save", &EngineSession::save)
      .function("stats", &EngineSession::stats);
}
