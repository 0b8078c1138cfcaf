// The Embind seam between the tinylm core and JavaScript (driven by web/lib/worker.ts).
//
// Contract:
//   - Every entry point runs inside guarded(): any C++ exception (tinylm::Error, std::bad_alloc, anything else)
//     becomes a JS Error carrying the core's message and a `code` ("ENGINE_ERROR", "OUT_OF_MEMORY" or
//     "MODEL_TOO_LARGE": sizes are checked before allocation, see memory_limits.hpp), which the
//     entry point returns in place of its result (see "the seam" below). Nothing aborts the module, so the worker
//     keeps running after a failed call.
//   - Options and results cross as value_objects; bulk data (model bytes, token ids, gate activations) crosses as
//     typed arrays copied in one call, never element by element.
//   - Every class handle (Model, Trainer, Generator, ParameterSnapshot) is freed by JS with .delete(). A Trainer
//     or Generator refers to its Model: delete it before the Model.
//   - Calls are coarse: one call per optimizer step or per generated token, so the worker can stop between them.
//
// Exposed (JS names): Model.load(bytes) · Model.loadAs(bytes, weights) · Model.loadHf(files, label, maxContext,
//   weights) · Model.create(options, text) · model.serialize(dtype) · model.info() · model.checkpointInfo() ·
//   model.encode(text) · model.decode(ids) · model.evaluate(text) · model.inspect(text) · model.resetState() ·
//   model.stepLogits(token) · model.startEvaluation(text) · evaluation.advance(n) · evaluation.stats() ·
//   new ParameterSnapshot(model) · snapshot.restoreInto(model) ·
//   new Trainer(model, text, options) · trainer.step() · trainer.validate() · trainer.checkpoint(run) ·
//   trainer.resume(bytes) · checkpointRun(bytes) · model.fingerprint() · textFingerprint(text) ·
//   new Generator(model, options, stops) · generator.start(prompt) · generator.begin(prompt) · generator.prefill(n) · generator.next() · generator.alternatives(k) ·
//   generator.beginReusing(prompt, heldIds) → { promptTokens, reused } · generator.tokensInState() → Int32Array ·
//   engineMemory() · setThreadCount(n) (threaded engine only) · LoRA adapters: bindings_lora.hpp
#include <emscripten/bind.h>
#include <emscripten/heap.h>
#include <emscripten/val.h>
#include <malloc.h>

#include <algorithm>
#include <memory>
#include <new>
#include <stdexcept>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>

#include "generate/generator.hpp"
#include "io/hf_checkpoint.hpp"
#include "generation_values.hpp"
#include "js_files.hpp"
#include "model_handle.hpp"
#include "seam.hpp"
#include "memory_limits.hpp"
#include "models/gpt.hpp"
#include "models/recurrent_lm.hpp"
#include "parallel/thread_pool.hpp"
#include "tensor.hpp"
#include "tinylm/error.hpp"
#include "tinylm/model.hpp"
#include "tinylm/tokenizer.hpp"
#include "tokenizer/hf_tokenizer.hpp"
#include "tokenizer/utf8.hpp"
#include "train/batcher.hpp"
#include "train/checkpoint.hpp"
#include "train/fingerprint.hpp"
#include "train/trainer.hpp"

using emscripten::val;

namespace tinylm::wasm {
namespace {

// ---- value objects -------------------------------------------------------------------------------------------

struct ModelInfo {
  std::string arch;            // "lstm" | "gru" | "rnn_tanh" | "rnn_relu" | "gpt" | "ngram"
  int vocab_size = 0;          // V
  int context_size = 0;        // 0 = unbounded
  double parameter_count = 0;  // 0 for models without a parameter block (n-gram)
  bool trainable = false;      // false also for a GPT or Llama whose matrices are held as F16 or int8
  std::string weights = "f32"; // how its matrices are held: "f32" | "f16" | "int8" (loadAs, loadHf)
  std::string tokenizer_kind;  // "char" | "word" | "bpe"
  std::string config_json;     // the model file's config, as stored
};

struct CreateOptions {
  std::string arch = "lstm";       // "lstm" | "gru" | "rnn_tanh" | "rnn_relu" | "gpt"
  int layers = 2;
  int hidden = 256;                // recurrent: hidden size H
  int embed = 64;                  // recurrent: embedding size E; gpt: model width C
  int heads = 4;                   // gpt: attention heads (C must divide by it)
  int context = 128;               // gpt: positions attended over
  float dropout = 0;
  double seed = 1;
  std::string tokenizer = "char";  // "char" | "word" | "bpe"
  bool lowercase = false;
  int max_vocab = 0;               // char/word: 0 = all seen; bpe: the vocabulary size to learn (0 = 512)
};

struct EvalResult {
  double loss = 0, perplexity = 0, accuracy = 0, tokens = 0;
};

struct TrainerOptions {
  int steps = 100;
  int batch_size = 16;
  int seq_len = 64;
  float learning_rate = 1e-3f;
  std::string optimizer = "adam";
  float weight_decay = 0;
  float clip = 1.0f;
  int warmup_steps = 0;
  bool cosine = false;
  float validation_split = 0.1f;
  int eval_batches = 8;
  double seed = 1;
};

struct StepResult {
  int step = 0;
  float loss = 0, learning_rate = 0, grad_norm = 0;
  double tokens = 0;
};

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


// ---- Model ---------------------------------------------------------------------------------------------------

std::vector<int32_t> encode_checked(const Tokenizer& tokenizer, const std::string& text, const char* purpose) {
  check(!text.empty(), "the text for ", purpose, " is empty");
  return tokenizer.encode(text);
}

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

// weights "f32" | "f16" | "int8": how a GPT's or Llama's matrices are held (tinylm::Residency).
Residency residency_named(const std::string& weights) {
  check(weights == "f32" || weights == "f16" || weights == "int8", "weights must be 'f32', 'f16' or 'int8', got '",
        weights, "'");
  return weights == "f16" ? Residency::F16 : weights == "int8" ? Residency::Int8 : Residency::Float;
}

class EngineModel : public ModelHandle {
 public:
  explicit EngineModel(Model model) : model_(std::move(model)) {
#if TINYLM_THREADS_AVAILABLE
    model_.network->set_thread_pool(&engine_pool());
#endif
  }

  static val load(const val& bytes) { return load_as(bytes, "f32"); }

  // weights "f32" | "f16" | "int8": how a GPT's or Llama's matrices are held (tinylm::Residency); f16 and int8
  // generate and evaluate in a half or a quarter of the memory, and refuse training and serialize().
  static val load_as(const val& bytes, const std::string& weights) {
    return guarded([&] {
      const Residency residency = residency_named(weights);
      const JsBytes data = bytes_from_js(bytes);
      return new EngineModel(load_model_bytes(data.data.get(), data.size, residency));
    });
  }

  // A Hugging Face checkpoint folder (io/hf_checkpoint.hpp) from the files JS holds (js_files.hpp); `label` names
  // it in messages (a URL or "hf:owner/name"), `max_context` caps a Llama's positions, `weights` as for loadAs
  // (HfLoadOptions).
  static val load_hf(const val& files, const std::string& label, int max_context, const std::string& weights) {
    return guarded([&] {
      HfLoadOptions options;
      options.residency = residency_named(weights);
      const HfCheckpoint checkpoint = read_hf_checkpoint(std::make_shared<JsFiles>(files, label));
      check(max_context > 0, "maxContext must be a positive number of positions, got ", max_context);
      options.max_context = max_context;
      auto engine_model = std::make_unique<EngineModel>(load_hf_model(checkpoint, options));
      engine_model->checkpoint_ = describe_checkpoint(checkpoint, engine_model->tokenizer());
      return engine_model.release();
    });
  }

  // What a chat needs from a Hugging Face checkpoint, or null for a tinylm model file:
  //   { architecture, chatTemplate, bosToken, eosToken, endTokens: string[] }
  // endTokens: the texts of the tokens that end a turn — the tokenizer's eos_token and generation_config.json's
  // eos_token_id (one id or a list), each once.
  val checkpoint_info() const { return checkpoint_; }

  static val create(const CreateOptions& options, const std::string& text) {
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

  // dtype: "f32" | "f16" | "int8", how the weight matrices are stored.
  val serialize(const std::string& dtype) const {
    return guarded([&] {
      WeightStorage storage = WeightStorage::F32;
      if (dtype == "f16") storage = WeightStorage::F16;
      else if (dtype == "int8") storage = WeightStorage::Int8;
      else check(dtype == "f32", "dtype must be 'f32', 'f16' or 'int8', got '", dtype, "'");
      const std::vector<uint8_t> bytes = serialize_model(model_, storage);
      return copy_to_js(bytes.data(), bytes.size());
    });
  }

  val info() const {
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

  val encode(const std::string& text) const {
    return guarded([&] {
      const std::vector<int32_t> ids = model_.tokenizer->encode(text);
      return copy_to_js(ids.data(), ids.size());
    });
  }

  val decode(const val& ids) const {
    return guarded([&] { return well_formed(model_.tokenizer->decode(copy_from_js<int32_t>(ids))); });
  }

  val evaluate(const std::string& text) {
    return guarded([&] {
      const std::vector<int32_t> tokens = encode_checked(*model_.tokenizer, text, "evaluation");
      check(tokens.size() >= 2, "the text has ", tokens.size(),
            " token(s): at least 2 are needed to score one prediction");
      const EvalStats stats = model_.network->evaluate(tokens);
      return EvalResult{stats.loss, stats.perplexity, stats.accuracy, double(stats.tokens)};
    });
  }

  // Evaluation in chunks (worker.ts advances it between cancellation checks): an EngineEvaluation handle.
  val start_evaluation(const std::string& text);

  val reset_state() {
    return guarded([&] { model_.network->reset_state(); });
  }

  // Next-token logits (V) after feeding one more token to the generation state.
  val step_logits(int token) {
    return guarded([&] {
      check(token >= 0 && token < model_.network->vocab_size(), "token id ", token, " is outside the vocabulary [0, ",
            model_.network->vocab_size(), ")");
      return copy_to_js(model_.network->step(token), size_t(model_.network->vocab_size()));
    });
  }

  // What the docs site's live views draw, computed by the model on `text`, as one object with `kind`:
  //   "gates" (recurrent):  { tokens: Int32Array (N), gates: Float32Array (N, L, G·H), hidden: Float32Array (N, L, H),
  //                           layers: L, gateCount: G, hiddenSize: H, gateNames: "i,f,g,o" | "r,z,n" | "a" }
  //     gates are activated (LSTM i,f,g,o; GRU r,z,n) or, for vanilla RNNs, the pre-activation;
  //   "attention" (gpt):    { tokens: Int32Array (N), attention: Float32Array (L, NH, N, N), layers: L, heads: NH }
  //     attention[l][h][q][k] is how much position q attends to position k ≤ q (zero above the diagonal); N may
  //     not exceed the model's context.
  // Either way the generation state is reset before and after.
  val inspect(const std::string& text) {
    return guarded([&] {
      const std::vector<int32_t> tokens = encode_checked(*model_.tokenizer, text, "inspection");
      if (auto* recurrent = dynamic_cast<RecurrentLM*>(model_.network.get())) return inspect_gates(*recurrent, tokens);
      if (auto* gpt = dynamic_cast<GptLM*>(model_.network.get())) return inspect_attention(*gpt, tokens);
      fail("inspection shows recurrent gates or attention: it needs an lstm, gru, rnn or gpt model, got '",
           model_.network->arch(), "'");
    });
  }

  TrainableModel& trainable() {
    auto* trainable = dynamic_cast<TrainableModel*>(model_.network.get());
    check(trainable != nullptr, "a '", model_.network->arch(), "' model has no trainable parameters");
    return *trainable;
  }
  LanguageModel& network() override { return *model_.network; }
  const Tokenizer& tokenizer() const override { return *model_.tokenizer; }

  // The weights as held, with config and tokenizer (train/fingerprint.hpp): what a resumed fine-tune must start from.
  val fingerprint() {
    return guarded([&] { return weights_fingerprint(trainable(), *model_.tokenizer); });
  }

 private:
  static val describe_checkpoint(const HfCheckpoint& checkpoint, const Tokenizer& tokenizer) {
    const auto* hf = dynamic_cast<const HfTokenizer*>(&tokenizer);
    check(hf != nullptr, "a Hugging Face checkpoint loaded without its tokenizer.json");
    std::vector<std::string> end_tokens;
    const auto add_end = [&](const std::string& text) {
      if (!text.empty() && std::find(end_tokens.begin(), end_tokens.end(), text) == end_tokens.end())
        end_tokens.push_back(text);
    };
    add_end(hf->eos_token());
    const nlohmann::json& generation = checkpoint.generation_config;
    if (generation.is_object() && generation.contains("eos_token_id")) {
      nlohmann::json ids = generation["eos_token_id"];
      if (!ids.is_array()) ids = nlohmann::json::array({ids});
      for (const nlohmann::json& id : ids) {
        check(id.is_number_integer() && id.get<int64_t>() >= 0 && id.get<int64_t>() < hf->vocab_size(),
              "generation_config.json: eos_token_id ", id.dump(), " is not a token id of the vocabulary [0, ",
              hf->vocab_size(), ")");
        add_end(hf->decode({int32_t(id.get<int64_t>())}, false));
      }
    }
    val info = val::object();
    info.set("architecture", checkpoint.architecture);
    info.set("chatTemplate", well_formed(hf->chat_template()));
    info.set("bosToken", well_formed(hf->bos_token()));
    info.set("eosToken", well_formed(hf->eos_token()));
    val ends = val::array();
    for (const std::string& text : end_tokens) ends.call<void>("push", well_formed(text));
    info.set("endTokens", ends);
    return info;
  }

  Model model_;
  val checkpoint_ = val::null();  // checkpoint_info()
};

// The parameter values at one moment, so a cancelled or failed fine-tune can put the weights back.
class ParameterSnapshot {
 public:
  static val take(EngineModel& model) {
    return guarded([&] { return new ParameterSnapshot(model.trainable().parameters().values); });
  }
  val restore_into(EngineModel& model) const {
    return guarded([&] {
      std::vector<float>& values = model.trainable().parameters().values;
      check(values.size() == values_.size(), "the snapshot holds ", values_.size(), " parameters but the model has ",
            values.size());
      std::copy(values_.begin(), values_.end(), values.begin());
      model.network().reset_state();
    });
  }
  double size() const { return double(values_.size()); }

 private:
  explicit ParameterSnapshot(std::vector<float> values) : values_(std::move(values)) {}
  std::vector<float> values_;  // (P)
};

// ---- Trainer -------------------------------------------------------------------------------------------------

class EngineTrainer {
 public:
  static val create(EngineModel& model, const std::string& text, const TrainerOptions& options) {
    return guarded([&] { return new EngineTrainer(model.trainable(), model.tokenizer(), text, options); });
  }

  val step() {
    return guarded([&] {
      const StepReport report = trainer_->step();
      return StepResult{report.step, report.loss, report.learning_rate, report.grad_norm, double(report.tokens)};
    });
  }

  bool has_validation() const { return trainer_->has_validation(); }

  val validate() {
    return guarded([&] {
      const EvalStats stats = trainer_->validate();
      return EvalResult{stats.loss, stats.perplexity, stats.accuracy, double(stats.tokens)};
    });
  }

  double train_tokens() const { return double(train_.size()); }
  double validation_tokens() const { return double(validation_.size()); }

  // The run so far as training-checkpoint bytes (train/checkpoint.hpp), `run` kept in its metadata; resume(bytes)
  // continues it, bit for bit, in a trainer created as this one was (and changes nothing when it refuses).
  val checkpoint(const std::string& run) const {
    return guarded([&] {
      const std::vector<uint8_t> bytes = serialize_checkpoint(*trainer_, run);
      return copy_to_js(bytes.data(), bytes.size());
    });
  }
  val resume(const val& bytes) {
    return guarded([&] {
      const std::vector<uint8_t> data = copy_from_js<uint8_t>(bytes);
      restore_checkpoint(*trainer_, data.data(), data.size());
    });
  }

  // Trains `trainable` (the model, or a LoRA adapter beside it: bindings_lora.hpp) on text `tokenizer` encodes.
  EngineTrainer(TrainableModel& trainable, const Tokenizer& tokenizer, const std::string& text,
                const TrainerOptions& options) {
    const std::vector<int32_t> tokens = encode_checked(tokenizer, text, "training");
    split_tokens(tokens, options.validation_split, &train_, &validation_);
    check(options.batch_size > 0 && options.seq_len > 0, "batchSize and seqLen must be positive, got batchSize ",
          options.batch_size, ", seqLen ", options.seq_len);
    check(int64_t(train_.size()) >= int64_t(options.seq_len) + 1, "the training text has ", train_.size(),
          " tokens after the validation split but one batch window of seqLen ", options.seq_len, " needs ",
          options.seq_len + 1, ": give more text or lower seqLen");
    TrainOptions train_options;
    train_options.steps = options.steps;
    train_options.batch = options.batch_size;
    train_options.seq = options.seq_len;
    check(parse_optimizer_kind(options.optimizer, &train_options.optimizer.kind),
          "optimizer must be adam, adamw, rmsprop or sgd, got '", options.optimizer, "'");
    check(options.learning_rate > 0, "learningRate must be positive, got ", options.learning_rate);
    train_options.optimizer.learning_rate = options.learning_rate;
    train_options.optimizer.weight_decay = options.weight_decay;
    train_options.clip = options.clip;
    train_options.warmup_steps = options.warmup_steps;
    train_options.cosine = options.cosine;
    train_options.eval_batches = options.eval_batches;
    train_options.seed = static_cast<uint64_t>(options.seed);
    trainer_ = std::make_unique<Trainer>(trainable, train_, validation_, train_options);
  }

 private:
  std::vector<int32_t> train_, validation_;  // must outlive trainer_, which keeps references to them
  std::unique_ptr<Trainer> trainer_;
};

// The "tinylm_run" metadata of training-checkpoint bytes ("" without one); an Error for bytes that are not one.
val checkpoint_run_of(const val& bytes) {
  return guarded([&] {
    const std::vector<uint8_t> data = copy_from_js<uint8_t>(bytes);
    return checkpoint_run(data.data(), data.size());
  });
}

std::string text_fingerprint(const std::string& text) { return bytes_fingerprint(text.data(), text.size()); }

// ---- Evaluation --------------------------------------------------------------------------------------------------

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

val EngineModel::start_evaluation(const std::string& text) {
  return guarded([&] {
    std::vector<int32_t> tokens = encode_checked(*model_.tokenizer, text, "evaluation");
    check(tokens.size() >= 2, "the text has ", tokens.size(), " token(s): at least 2 are needed to score one prediction");
    return new EngineEvaluation(model_.network->start_evaluation(std::move(tokens)));
  });
}

// ---- Generator -----------------------------------------------------------------------------------------------

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

// ---- engine ----------------------------------------------------------------------------------------------------

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

}  // namespace
}  // namespace tinylm::wasm

#include "bindings_lora.hpp"  // LoRA adapters: reopens the namespace above

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
  value_object<TrainerOptions>("TrainerOptions")
      .field("steps", &TrainerOptions::steps)
      .field("batchSize", &TrainerOptions::batch_size)
      .field("seqLen", &TrainerOptions::seq_len)
      .field("learningRate", &TrainerOptions::learning_rate)
      .field("optimizer", &TrainerOptions::optimizer)
      .field("weightDecay", &TrainerOptions::weight_decay)
      .field("clip", &TrainerOptions::clip)
      .field("warmupSteps", &TrainerOptions::warmup_steps)
      .field("cosine", &TrainerOptions::cosine)
      .field("validationSplit", &TrainerOptions::validation_split)
      .field("evalBatches", &TrainerOptions::eval_batches)
      .field("seed", &TrainerOptions::seed);
  value_object<StepResult>("StepResult")
      .field("step", &StepResult::step)
      .field("loss", &StepResult::loss)
      .field("learningRate", &StepResult::learning_rate)
      .field("gradNorm", &StepResult::grad_norm)
      .field("tokens", &StepResult::tokens);
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
  class_<ParameterSnapshot>("ParameterSnapshot")
      .class_function("take", &ParameterSnapshot::take)
      .function("restoreInto", &ParameterSnapshot::restore_into)
      .function("size", &ParameterSnapshot::size);
  class_<EngineTrainer>("Trainer")
      .class_function("create", &EngineTrainer::create)
      .function("step", &EngineTrainer::step)
      .function("validate", &EngineTrainer::validate)
      .function("hasValidation", &EngineTrainer::has_validation)
      .function("trainTokens", &EngineTrainer::train_tokens)
      .function("validationTokens", &EngineTrainer::validation_tokens)
      .function("checkpoint", &EngineTrainer::checkpoint)
      .function("resume", &EngineTrainer::resume);
  class_<EngineEvaluation>("Evaluation")
      .function("advance", &EngineEvaluation::advance)
      .function("stats", &EngineEvaluation::stats)
      .function("progress", &EngineEvaluation::progress);
  class_<EngineGenerator>("Generator")
      .class_function("create", &EngineGenerator::create)
      .function("start", &EngineGenerator::start)
      .function("begin", &EngineGenerator::begin)
      .function("prefill", &EngineGenerator::prefill)
      .function("beginReusing", &EngineGenerator::begin_reusing)
      .function("tokensInState", &EngineGenerator::tokens_in_state)
      .function("next", &EngineGenerator::next)
      .function("alternatives", &EngineGenerator::alternatives);
  function("engineMemory", &engine_memory);
  function("checkpointRun", &checkpoint_run_of);
  function("textFingerprint", &text_fingerprint);
#if TINYLM_THREADS_AVAILABLE
  function("setThreadCount", &set_thread_count);
#endif
}
