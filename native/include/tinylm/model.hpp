// The model interfaces every architecture implements.
//
//   LanguageModel   — generation and evaluation: reset_state(), step(token) → logits (V), evaluate(tokens).
//                     Recurrent models, GPT and the Kneser-Ney n-gram baseline all implement it, so the sampler,
//                     the CLI, the bindings and `eval` treat them alike.
//   TrainableModel  — adds one flat parameter block and a forward/backward pair over (B,T) windows;
//                     the trainer owns the loop (STYLE rule 5).
#pragma once
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tinylm/tokenizer.hpp"

namespace tinylm {

struct Parameters;
struct SafetensorsFile;
class LinearAdapter;
struct TensorToWrite;
class Rng;
class ThreadPool;

struct EvalStats {
  double loss = 0;        // mean negative log-likelihood, nats per token
  double perplexity = 0;  // exp(loss)
  double accuracy = 0;    // fraction of tokens whose argmax prediction was right
  int64_t tokens = 0;     // tokens predicted
};

// Tallies scored predictions into EvalStats, the same way for every model and evaluation path.
class EvalTally {
 public:
  // One prediction: its negative log-likelihood, and the next-token scores (V) whose argmax — ties to the
  // lowest id, as greedy sampling picks — counts as correct when it equals the target.
  template <typename Score>  // float logits or double probabilities
  void add(double loss, const Score* scores, int vocab_size, int32_t target) {
    loss_sum_ += loss;
    correct_ += std::max_element(scores, scores + vocab_size) - scores == target;
    ++count_;
  }
  EvalStats stats() const;  // means over the predictions added; zeros (perplexity 1) when none were

 private:
  double loss_sum_ = 0;
  int64_t correct_ = 0, count_ = 0;
};

// Teacher-forced scoring in chunks, so a caller (the wasm worker) can check for cancellation and serve other models
// between them. While an Evaluation is alive it owns its model's scoring state: use the model for nothing else
// until advance() returns false or the Evaluation is destroyed (an unfinished one restores what it saved).
class Evaluation {
 public:
  virtual ~Evaluation() = default;
  // Scores the next chunk: about `predictions` predictions, rounded to the model's batches (at least one batch).
  // Returns false once every prediction is scored.
  virtual bool advance(int64_t predictions) = 0;
  virtual EvalStats stats() const = 0;  // over the predictions scored so far
  virtual double progress() const = 0;  // fraction of the predictions scored, in [0, 1]
};

// A model's generation state — what the next step() continues from: a recurrent model's hidden (and cell) state, a
// decoder's filled KV-cache positions and window, an n-gram model's context. Flat arrays, so it can be copied (beam
// search keeps one per beam) and written out (a saved session). Only the model that saved it, or one of the same
// architecture and config, can load it.
struct GenerationState {
  std::vector<int32_t> ints;
  std::vector<float> floats;
};

class LanguageModel {
 public:
  virtual ~LanguageModel() = default;
  virtual std::string arch() const = 0;  // "rnn_tanh" | "rnn_relu" | "lstm" | "gru" | "gpt" | "ngram"
  virtual int vocab_size() const = 0;
  virtual int context_size() const { return 0; }  // tokens attended to; 0 = unbounded (recurrent, n-gram)
  virtual nlohmann::json config_json() const = 0;  // stored in the model file; includes "arch"

  // Generation. step() feeds one token and returns next-token logits (V), valid until the next call.
  virtual void reset_state() = 0;
  virtual const float* step(int32_t token) = 0;
  // Feeds tokens[0 … n), n ≥ 1 (a prompt's chunk), and returns the logits after the last one, as n step() calls
  // would; the state after it is theirs. Decoders run the chunk as batched products (each weight read once for all
  // its rows) and compute the logits of its last token only, equal to the steps' within float rounding; the default
  // steps.
  virtual const float* prefill(const int32_t* tokens, int n);
  // The generation state after the tokens stepped since reset_state() (into *state, reusing its capacity), and back:
  // after load_state(s), step(t) returns what it returned after save_state(&s) — bit for bit. load_state checks the
  // sizes against the model's config and throws Error naming the mismatch. Models without a copyable state throw.
  virtual void save_state(GenerationState* state) const;
  virtual void load_state(const GenerationState& state);

  // Teacher-forced scoring of tokens[1..n) given their prefixes, from a fresh state.
  virtual EvalStats evaluate(const std::vector<int32_t>& tokens) = 0;
  // The same scores in chunks (see Evaluation); evaluate(tokens) equals running it to the end. Recurrent models
  // and GPT score in batches; the default scores everything in its first advance().
  virtual std::unique_ptr<Evaluation> start_evaluation(std::vector<int32_t> tokens);

  // Tensors to save (PyTorch names and layouts), pointing into the model's own storage.
  virtual std::vector<TensorToWrite> tensors_to_save() const = 0;

  // The pool that forward, backward, step and evaluate (and a Trainer driving this model) split their work over
  // (parallel/thread_pool.hpp); null, the default, runs everything on the calling thread. Results are the same,
  // bit for bit, whatever the pool's size. The pool must outlive its use by the model. Virtual so a model wrapping
  // another (lora/lora_model.hpp) hands the pool on.
  virtual void set_thread_pool(ThreadPool* pool) { pool_ = pool; }
  ThreadPool* thread_pool() const { return pool_; }

 protected:
  ThreadPool* pool_ = nullptr;
};

// A linear layer a LoRA adapter can sit beside: its Hugging Face module path ("transformer.h.0.attn.c_attn",
// "model.layers.0.self_attn.q_proj") — its weight is the parameter "<path>.weight", (out, in) — and its sizes.
struct LinearModule {
  std::string path;
  int in = 0, out = 0;
};

class TrainableModel : public LanguageModel {
 public:
  virtual Parameters& parameters() = 0;
  // Forward over B windows of T tokens: inputs, targets (B,T) row-major; a negative target is ignored.
  // Returns the mean loss over counted targets and keeps the activations backward() needs.
  // `training` enables dropout (drawing from rng). Recurrent models carry their hidden state from one call to
  // the next (stateful truncated BPTT) until reset_train_state().
  virtual float forward(const int32_t* inputs, const int32_t* targets, int B, int T, bool training, Rng* rng) = 0;
  // Gradient of the last forward's mean loss, ACCUMULATED into parameters().grads.
  virtual void backward() = 0;
  // Bytes forward() and backward() hold for B windows of T tokens (activations, caches, scratch), computed in
  // saturating 64-bit arithmetic (memory_limits.hpp): never less than any one buffer they size, so a count that
  // passes a check against the memory cap cannot wrap a 32-bit size_t. forward() refuses what exceeds the cap.
  virtual uint64_t forward_bytes(int B, int T) const = 0;
  virtual void reset_train_state() = 0;
  // The carried training state (recurrent hidden/cell states), so evaluation can run between training steps
  // without disturbing stateful BPTT. Empty for stateless models.
  virtual std::vector<float> carried_state() const { return {}; }
  virtual void restore_carried_state(std::vector<float> state) {}
  // Logits (B,T,V) of the last forward.
  virtual const float* logits() const = 0;

  // Adapters (layers/linear_adapter.hpp, lora/). The linears an adapter can sit beside, in the order of their adapter
  // index; empty for models that take none.
  virtual std::vector<LinearModule> linear_modules() const { return {}; }
  // Attaches an adapter to every linear (null detaches): forward, backward and step() then include its terms.
  virtual void set_linear_adapter(LinearAdapter* adapter);
  // Frozen, backward() computes no gradient for the model's own parameters (parameters().grads is released) and
  // only input gradients flow, to an attached adapter; a GPT or Llama holding compact matrices trains an adapter
  // this way too. Thawed, gradients come back with the next backward (Parameters::ensure_grads).
  void set_frozen(bool frozen);
  bool frozen() const { return frozen_; }

 private:
  bool frozen_ = false;
};

// A model file's contents: the network and the tokenizer it was trained with.
struct Model {
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<LanguageModel> network;
};

// How a loaded GPT or Llama holds its 2-D weights: Float (trainable), or only as F16 or int8 (per-row scales) for
// generation and evaluation, with float arithmetic — a half or a quarter of the memory (other architectures hold
// floats whatever is asked).
enum class Residency { Float, F16, Int8 };

// Model files (safetensors; config, tokenizer and format version in __metadata__). Loading validates the
// container, the config, every tensor's presence, dtype and shape before use, and throws Error naming the problem.
Model load_model(const std::string& path, Residency residency = Residency::Float);
Model load_model_bytes(const uint8_t* bytes, size_t size, Residency residency = Residency::Float);
// How a saved file stores the 2-D weight matrices: F32 as trained; F16 (half the bytes); Int8 (a quarter: I8 with
// per-row F32 scales, named as model_file.cpp describes). Biases and norms stay F32. Loading accepts all three.
enum class WeightStorage { F32, F16, Int8 };
std::vector<uint8_t> serialize_model(const Model& model, WeightStorage storage = WeightStorage::F32);
void save_model(const Model& model, const std::string& path,  // atomic: temp file + rename
                WeightStorage storage = WeightStorage::F32);

}  // namespace tinylm
