// BeamSearch: the most probable continuation under a length penalty, as Hugging Face's generate(num_beams=K,
// do_sample=False, early_stopping=False) finds it. K beams run side by side; each step every beam's next-token
// log-probabilities (log-softmax of the model's logits) extend it, the 2K best extensions over all beams (by
// Σ log p, ties to the lower beam, then the lower token id) are read in order, and the first K that do not end a
// hypothesis become the next beams. An extension ends a hypothesis when it is <eos> with stop_at_eos, or when its
// text completes a stop sequence — only among the K best, as Hugging Face skips <eos> ranked below K. A finished
// hypothesis scores
//     score = Σ log p / length^length_penalty        length = its generated tokens, an ending <eos> not counted
// (at least 1), and the K best finished ones are kept. The search ends when K are kept and no running beam's score
// can beat the worst of them (Hugging Face's heuristic: the best running Σ log p over the current length), or at
// max_tokens, where the running beams join the finished ones.
//
// Each beam keeps its own copy of the model's generation state (LanguageModel::save_state): one model steps every
// beam in turn, loading the beam's state before and saving it after. The search is serial and the model's step is
// thread-count independent, so the result is the same whatever the pool.
//
//   BeamSearch search(model, tokenizer, options);
//   search.begin("Call me");
//   while (!search.prefill(128)) {}        // the prompt, in chunks (a caller may stop between them)
//   while (search.advance()) {}            // one step of every beam per call
//   const BeamHypothesis& best = search.results()[0];
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tinylm/model.hpp"
#include "tinylm/tokenizer.hpp"

namespace tinylm {

struct BeamSearchOptions {
  int beams = 4;                  // K ≥ 1; 1 is greedy decoding
  float length_penalty = 1.0f;    // > 0 favours longer hypotheses, < 0 shorter ones, 0 compares plain Σ log p
  int max_tokens = 200;
  std::vector<std::string> stop;  // a hypothesis ends before the first occurrence of any of these
  bool stop_at_eos = false;       // a hypothesis ends at <eos> (kept in its tokens, its text ends before it)
  void validate() const;          // Error naming the option and value
};

struct BeamHypothesis {
  std::vector<int32_t> tokens;  // generated ids, the prompt not included (an ending <eos> or stop sequence included)
  std::string text;             // their text, ending before a stop sequence or an ending <eos>
  double log_probability = 0;   // Σ log p of tokens under the model
  double score = 0;             // log_probability / length^length_penalty
  std::string stop_reason;      // "max_tokens" | "stop" | "eos"
};

class BeamSearch {
 public:
  BeamSearch(LanguageModel& model, const Tokenizer& tokenizer, const BeamSearchOptions& options);
  // Resets the model and encodes the prompt (an empty one starts as Generator's does); prefill feeds at most
  // max_tokens of it per call and returns true once all of it is fed.
  void begin(const std::string& prompt);
  bool prefill(int max_tokens);
  size_t prompt_tokens() const { return prompt_.size(); }
  // One step of every running beam; returns false once the search has ended (results() is then final).
  bool advance();
  // The finished hypotheses, best score first (ties: the one finished first), at most K.
  const std::vector<BeamHypothesis>& results() const { return finished_; }
  int steps() const { return steps_; }  // tokens each running beam holds

 private:
  struct Beam {
    std::vector<int32_t> tokens;
    std::string text;
    double log_probability = 0;
    GenerationState state;      // the model after the prompt and tokens
    std::vector<float> logits;  // (V) next-token logits in that state
  };
  struct Candidate {
    double log_probability;  // the beam's Σ log p plus the token's
    int beam;
    int32_t token;
  };
  void select_candidates();
  void add_finished(BeamHypothesis hypothesis);
  double score_of(double log_probability, size_t length) const;
  bool completes_stop(std::string* text) const;

  LanguageModel& model_;
  const Tokenizer& tokenizer_;
  BeamSearchOptions options_;
  std::vector<int32_t> prompt_;
  size_t fed_ = 0;
  bool started_ = false, ended_ = false;
  int steps_ = 0, running_ = 0;            // running_ of beams_ are live
  std::vector<Beam> beams_, next_beams_;   // (K) running beams, and the next step's
  std::vector<int> next_parents_;          // (≤ K) the beam each of next_beams_ extends
  std::vector<Candidate> candidates_;      // (≤ K·2K) per-beam bests, then the 2K best overall
  std::vector<double> log_probs_;          // (V) one beam's log-softmax
  std::vector<int32_t> order_;             // (V) token ids, partially sorted
  std::vector<BeamHypothesis> finished_;   // (≤ K) best score first
};

}  // namespace tinylm
