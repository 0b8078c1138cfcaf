// The Embind seam between the tinylm core and JavaScript (driven by web/lib/worker.ts), and the Model handle's
// loading, creating, encoding, scoring and stepping.
//
// Contract (every binding file keeps it):
//   - Every entry point runs inside guarded() (seam.hpp): any C++ exception (tinylm::Error, std::bad_alloc,
//     anything else) becomes a JS Error carrying the core's message and a `code` ("ENGINE_ERROR", "OUT_OF_MEMORY" or
//     "MODEL_TOO_LARGE": sizes are checked before allocation, see memory_limits.hpp), which the entry point returns
//     in place of its result. Nothing aborts the module, so the worker keeps running after a failed call.
//   - Options and results cross as value_objects; bulk data (model bytes, token ids, gate activations) crosses as
//     typed arrays copied in one call, never element by element.
//   - Every class handle (Model, Trainer, Generator, ParameterSnapshot, …) is freed by JS with .delete(). A handle
//     made from a Model refers to it: delete it before the Model.
//   - Calls are coarse: one call per optimizer step or per generated token, so the worker can stop between them.
//
// The binding files, by what they bind (each registers its own classes, in an EMSCRIPTEN_BINDINGS block of its own):
//   bindings.cpp           Model.load(bytes) · Model.loadAs(bytes, weights) · Model.create(options, text) ·
//                          model.serialize(dtype) · model.info() · model.encode(text) · model.decode(ids) ·
//                          model.evaluate(text) · model.resetState() · model.stepLogits(token) · model.fingerprint() ·
//                          model.startEvaluation(text) · evaluation.advance(n) · evaluation.stats() ·
//                          evaluation.progress() · engineMemory() · relaxedSimd() · setThreadCount(n) (threaded
//                          engine only)
//   bindings_hf.cpp        Model.loadHf(files, label, maxContext, weights) · model.checkpointInfo()
//   bindings_inspect.cpp   model.inspect(text): the gates or attention the docs site's live views draw
//   bindings_train.cpp     ParameterSnapshot.take(model) · snapshot.restoreInto(model) · Trainer.create(model, text,
//                          options) · trainer.step() · trainer.validate() · trainer.checkpoint(run) ·
//                          trainer.resume(bytes) · checkpointRun(bytes) · textFingerprint(text)
//   bindings_generate.cpp  Generator.create(model, options, stops) · generator.start(prompt) · begin(prompt) ·
//                          prefill(n) · next() · alternatives(k) · beginReusing(prompt, heldIds) · tokensInState()
//   bindings_session.cpp   Fusion, BeamSearch and Session (generation beyond one sampled stream)
//   bindings_lora.cpp      Adapters and LoraTrainer (LoRA adapters beside a model)
// The Model class itself is declared in engine_model.hpp, for the files that take one.
#include <emscripten/bind.h>
#include <emscripten/em_macros.h>
#include <emscripten/heap.h>
#include <emscripten/val.h>
#include <malloc.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "engine_model.hpp"
#include "kernels/kernels.hpp"
#include "memory_limits.hpp"
#include "models/gpt.hpp"
#include "models/recurrent_lm.hpp"
#include "parallel/thread_pool.hpp"
#include "seam.hpp"
#include "tinylm/error.hpp"
#include "tinylm/model.hpp"
#include "tinylm/rng.hpp"
#include "tinylm/tokenizer.hpp"
#include "train/fingerprint.hpp"

namespace tinylm::wasm {

std::vector<int32_t> encode_checked(const Tokenizer& tokenizer, const std::string& text, const char* purpose) {
  check(!text.empty(), "the text for ", purpose, " is empty");
  return tokenizer.encode(text);
}

namespace {

// ---- threads ----------------------------------------------------------------------------------------------------
//
// The threaded engine (tinylm_wasm_threads, built with Emscripten pthreads) computes every model on one pool,
// 1 thread until setThreadCount(n). Each further thread runs on one of the pthread Workers the module started with:
// createTinyLMEngine({ tinylmThreads: n }) starts n − 1 of them (wasm/wasm.cmake), and a count beyond what started
// gives what there is. Results are the same, bit for bit, at every count and in the single-thread engine, which
// has no pool (and no setThreadCount).
#if TINYLM_THREADS_AVAILABLE
ThreadPool& engine_pool() {
  static ThreadPool pool(1);
  return pool;
}

// Resizes the engine's pool (1 … 256; never while a call runs, which a worker's one call at a time guarantees);
// returns the thread count the engine computes with from now on.
val set_thread_count(int threads) {
  return guarded([&] {
    engine_pool().resize(threads);
    return engine_pool().size();
  });
}
#endif

// ---- engine memory ---------------------------------------------------------------------------------------------

// heapSize: bytes of linear memory reserved (only grows); inUse: bytes malloc has handed out and not taken back;
// maximum: the cap the heap may grow to.
val engine_memory() {
  const struct mallinfo info = mallinfo();
  val result = val::object();
  // In pages: a 4 GiB heap is 2^32 bytes, one more than size_t holds.
  result.set("heapSize", double(__builtin_wasm_memory_size(0)) * 65536.0);
  result.set("inUse", double(info.uordblks));
  result.set("maximum", double(TINYLM_MAXIMUM_MEMORY));
  return result;
}

// ---- creating a model -------------------------------------------------------------------------------------------

std::unique_ptr<Tokenizer> fit_tokenizer(const CreateOptions& options, const std::string& text) {
  if (options.tokenizer == "char") {
    CharTokenizerOptions tokenizer_options;
    tokenizer_options.lowercase = options.lowercase;
    tokenizer_options.max_vocab = options.max_vocab;
    return fit_char_tokenizer(text, tokenizer_options);
  }
  if (options.tokenizer == "word") {
    WordTokenizerOptions tokenizer_options;
    tokenizer_options.lowercase = options.lowercase;
    tokenizer_options.max_vocab = options.max_vocab;
    return fit_word_tokenizer(text, tokenizer_options);
  }
  if (options.tokenizer == "bpe") {
    BpeTokenizerOptions tokenizer_options;
    if (options.max_vocab > 0) tokenizer_options.vocab_size = options.max_vocab;
    return fit_bpe_tokenizer(text, tokenizer_options);
  }
  fail("tokenizer must be 'char', 'word' or 'bpe', got '", options.tokenizer, "'");
}

std::unique_ptr<LanguageModel> new_recurrent(const CreateOptions& options, int vocab_size, Rng& rng) {
  RecurrentConfig config;
  check(parse_cell_kind(options.arch, &config.cell), "arch must be lstm, gru, rnn_tanh, rnn_relu or gpt, got '",
        options.arch, "'");
  config.vocab_size = vocab_size;
  config.embed_size = options.embed;
  config.hidden_size = options.hidden;
  config.num_layers = options.layers;
  config.dropout = options.dropout;
  config.validate();
  auto network = std::make_unique<RecurrentLM>(config);
  network->initialize(rng);
  return network;
}

std::unique_ptr<LanguageModel> new_gpt(const CreateOptions& options, int vocab_size, Rng& rng) {
  GptConfig config;
  config.vocab_size = vocab_size;
  config.context_size = options.context;
  config.embed_size = options.embed;
  config.num_layers = options.layers;
  config.num_heads = options.heads;
  config.dropout = options.dropout;
  config.validate();
  auto network = std::make_unique<GptLM>(config);
  network->initialize(rng);
  return network;
}

// ---- evaluation in chunks ---------------------------------------------------------------------------------------

// One evaluation in progress: advance(predictions) scores about that many more and returns whether any remain;
// stats() is an EvalResult of what is scored so far. Delete it before its Model.
class EngineEvaluation {
 public:
  explicit EngineEvaluation(std::unique_ptr<Evaluation> evaluation) : evaluation_(std::move(evaluation)) {}
  val advance(double predictions) {
    return guarded([&] { return evaluation_->advance(int64_t(std::max(1.0, predictions))); });
  }
  val stats() const {
    return guarded([&] {
      const EvalStats stats = evaluation_->stats();
      return EvalResult{stats.loss, stats.perplexity, stats.accuracy, double(stats.tokens)};
    });
  }
  double progress() const { return evaluation_->progress(); }

 private:
  std::unique_ptr<Evaluation> evaluation_;
};

}  // namespace

// ---- Model ------------------------------------------------------------------------------------------------------

Residency residency_named(const std::string& weights) {
  check(weights == "f32" || weights == "f16" || weights == "int8", "weights must be 'f32', 'f16' or 'int8', got '",
        weights, "'");
  return weights == "f16" ? Residency::F16 : weights == "int8" ? Residency::Int8 : Residency::Float;
}

EngineModel::EngineModel(Model model) : model_(std::move(model)) {
#if TINYLM_THREADS_AVAILABLE
  model_.network->set_thread_pool(&engine_pool());
#endif
}

val EngineModel::load(const val& bytes) { return load_as(bytes, "f32"); }

val EngineModel::load_as(const val& bytes, const std::string& weights) {
  return guarded([&] {
    const Residency residency = residency_named(weights);
    const JsBytes data = bytes_from_js(bytes);
    return new EngineModel(load_model_bytes(data.data.get(), data.size, residency));
  });
}

val EngineModel::create(const CreateOptions& options, const std::string& text) {
  return guarded([&] {
    check(!text.empty(), "the training text is empty: a model's vocabulary is fitted on it");
    Model model;
    model.tokenizer = fit_tokenizer(options, text);
    Rng init_rng(static_cast<uint64_t>(options.seed));
    if (options.arch == "gpt") {
      model.network = new_gpt(options, model.tokenizer->vocab_size(), init_rng);
    } else {
      model.network = new_recurrent(options, model.tokenizer->vocab_size(), init_rng);
    }
    return new EngineModel(std::move(model));
  });
}

val EngineModel::serialize(const std::string& dtype) const {
  return guarded([&] {
    WeightStorage storage = WeightStorage::F32;
    if (dtype == "f16") storage = WeightStorage::F16;
    else if (dtype == "int8") storage = WeightStorage::Int8;
    else check(dtype == "f32", "dtype must be 'f32', 'f16' or 'int8', got '", dtype, "'");
    const std::vector<uint8_t> bytes = serialize_model(model_, storage);
    return copy_to_js(bytes.data(), bytes.size());
  });
}

val EngineModel::info() const {
  return guarded([&] {
    ModelInfo info;
    info.arch = model_.network->arch();
    info.vocab_size = model_.network->vocab_size();
    info.context_size = model_.network->context_size();
    if (auto* trainable = dynamic_cast<TrainableModel*>(model_.network.get())) {
      const ParameterTable& table = trainable->parameters().table;
      info.trainable = !table.holds_compact();
      info.parameter_count = double(table.count());
      if (table.holds_compact()) info.weights = table.compact_kind() == CompactKind::F16 ? "f16" : "int8";
    }
    info.tokenizer_kind = model_.tokenizer->kind();
    info.config_json = model_.network->config_json().dump();
    return info;
  });
}

val EngineModel::encode(const std::string& text) const {
  return guarded([&] {
    const std::vector<int32_t> ids = model_.tokenizer->encode(text);
    return copy_to_js(ids.data(), ids.size());
  });
}

val EngineModel::decode(const val& ids) const {
  return guarded([&] { return well_formed(model_.tokenizer->decode(copy_from_js<int32_t>(ids))); });
}

val EngineModel::evaluate(const std::string& text) {
  return guarded([&] {
    const std::vector<int32_t> tokens = encode_checked(*model_.tokenizer, text, "evaluation");
    check(tokens.size() >= 2, "the text has ", tokens.size(),
          " token(s): at least 2 are needed to score one prediction");
    const EvalStats stats = model_.network->evaluate(tokens);
    return EvalResult{stats.loss, stats.perplexity, stats.accuracy, double(stats.tokens)};
  });
}

val EngineModel::start_evaluation(const std::string& text) {
  return guarded([&] {
    std::vector<int32_t> tokens = encode_checked(*model_.tokenizer, text, "evaluation");
    check(tokens.size() >= 2, "the text has ", tokens.size(), " token(s): at least 2 are needed to score one prediction");
    return new EngineEvaluation(model_.network->start_evaluation(std::move(tokens)));
  });
}

val EngineModel::reset_state() {
  return guarded([&] { model_.network->reset_state(); });
}

val EngineModel::step_logits(int token) {
  return guarded([&] {
    check(token >= 0 && token < model_.network->vocab_size(), "token id ", token, " is outside the vocabulary [0, ",
          model_.network->vocab_size(), ")");
    return copy_to_js(model_.network->step(token), size_t(model_.network->vocab_size()));
  });
}

val EngineModel::fingerprint() {
  return guarded([&] { return weights_fingerprint(trainable(), *model_.tokenizer); });
}

}  // namespace tinylm::wasm

// Where the threaded engine's pthreads find the bytes of its deferred module (wasm/split_engine.mjs): the engine's
// thread, which reads them first, copies them into the heap and stores their address and length here
// (web/lib/deferred_engine.ts); a pthread that then needs the module compiles it from there. A pthread cannot
// fetch it itself in a browser while the engine's thread is blocked waiting for it (nested workers' requests go
// through their parent there), nor receive a message while it runs a task. A plain export, not an Embind binding:
// a pthread's glue has no Embind registrations. {0, 0} until the engine's thread stores them.
extern "C" EMSCRIPTEN_KEEPALIVE uint32_t* tinylm_deferred_module_slot() {
  alignas(8) static uint32_t slot[2] = {0, 0};  // address, length: read and written with Atomics
  return slot;
}

EMSCRIPTEN_BINDINGS(tinylm) {
  using namespace emscripten;
  using namespace tinylm::wasm;

  value_object<ModelInfo>("ModelInfo")
      .field("arch", &ModelInfo::arch)
      .field("vocabSize", &ModelInfo::vocab_size)
      .field("contextSize", &ModelInfo::context_size)
      .field("parameterCount", &ModelInfo::parameter_count)
      .field("trainable", &ModelInfo::trainable)
      .field("weights", &ModelInfo::weights)
      .field("tokenizerKind", &ModelInfo::tokenizer_kind)
      .field("configJson", &ModelInfo::config_json);
  value_object<CreateOptions>("CreateOptions")
      .field("arch", &CreateOptions::arch)
      .field("layers", &CreateOptions::layers)
      .field("hidden", &CreateOptions::hidden)
      .field("embed", &CreateOptions::embed)
      .field("heads", &CreateOptions::heads)
      .field("context", &CreateOptions::context)
      .field("dropout", &CreateOptions::dropout)
      .field("seed", &CreateOptions::seed)
      .field("tokenizer", &CreateOptions::tokenizer)
      .field("lowercase", &CreateOptions::lowercase)
      .field("maxVocab", &CreateOptions::max_vocab);
  value_object<EvalResult>("EvalResult")
      .field("loss", &EvalResult::loss)
      .field("perplexity", &EvalResult::perplexity)
      .field("accuracy", &EvalResult::accuracy)
      .field("tokens", &EvalResult::tokens);

  class_<EngineModel, base<ModelHandle>>("Model")
      .class_function("load", &EngineModel::load)
      .class_function("loadAs", &EngineModel::load_as)
      .class_function("create", &EngineModel::create)
      .class_function("loadHf", &EngineModel::load_hf)
      .function("checkpointInfo", &EngineModel::checkpoint_info)
      .function("serialize", &EngineModel::serialize)
      .function("info", &EngineModel::info)
      .function("encode", &EngineModel::encode)
      .function("decode", &EngineModel::decode)
      .function("evaluate", &EngineModel::evaluate)
      .function("startEvaluation", &EngineModel::start_evaluation)
      .function("resetState", &EngineModel::reset_state)
      .function("stepLogits", &EngineModel::step_logits)
      .function("inspect", &EngineModel::inspect)
      .function("fingerprint", &EngineModel::fingerprint);
  class_<EngineEvaluation>("Evaluation")
      .function("advance", &EngineEvaluation::advance)
      .function("stats", &EngineEvaluation::stats)
      .function("progress", &EngineEvaluation::progress);
  function("engineMemory", &engine_memory);
  // Whether this engine is its build's relaxed SIMD one (the kernels say: kernels.hpp), whichever .wasm was asked for.
  function("relaxedSimd", &tinylm::multiply_add_is_relaxed);
#if TINYLM_THREADS_AVAILABLE
  function("setThreadCount", &set_thread_count);
#endif
}
