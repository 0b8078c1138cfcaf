#include "generate/beam_search.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <numeric>

#include "generate/generator.hpp"
#include "tinylm/error.hpp"

namespace tinylm {

void BeamSearchOptions::validate() const {
  check(beams >= 1 && beams <= 64, "beams must be between 1 and 64, got ", beams);
  check(std::isfinite(length_penalty), "length penalty must be a finite number, got ", length_penalty);
  check(max_tokens >= 0, "max tokens must be ≥ 0, got ", max_tokens);
  for (const std::string& stop_sequence : stop) check(!stop_sequence.empty(), "stop sequences must not be empty");
}

BeamSearch::BeamSearch(LanguageModel& model, const Tokenizer& tokenizer, const BeamSearchOptions& options)
    : model_(model), tokenizer_(tokenizer), options_(options) {
  options.validate();
  check(tokenizer.vocab_size() == model.vocab_size(), "the tokenizer has ", tokenizer.vocab_size(),
        " tokens but the model expects ", model.vocab_size());
  beams_.resize(size_t(options.beams));
  next_beams_.resize(size_t(options.beams));
  log_probs_.resize(size_t(model.vocab_size()));
  order_.resize(size_t(model.vocab_size()));
}

void BeamSearch::begin(const std::string& prompt) {
  model_.reset_state();
  prompt_ = encode_prompt(tokenizer_, prompt);
  fed_ = 0;
  steps_ = 0;
  running_ = 0;
  finished_.clear();
  started_ = true;
  ended_ = false;
}

bool BeamSearch::prefill(int max_tokens) {
  check(started_, "beam search: call begin() before prefill()");
  check(max_tokens > 0, "beam search: prefill needs a positive token count, got ", max_tokens);
  if (fed_ == prompt_.size()) return true;
  const size_t end = std::min(prompt_.size(), fed_ + size_t(max_tokens));
  const float* logits = model_.prefill(prompt_.data() + fed_, int(end - fed_));
  fed_ = end;
  if (fed_ < prompt_.size()) return false;
  // The prompt's state is the one beam the first step extends (as Hugging Face starts the others at −1e9).
  Beam& first = beams_[0];
  first.tokens.clear();
  first.text.clear();
  first.log_probability = 0;
  first.logits.assign(logits, logits + model_.vocab_size());
  model_.save_state(&first.state);
  running_ = 1;
  return true;
}

double BeamSearch::score_of(double log_probability, size_t length) const {
  // The length term in float: the engine calls no double pow, whose table would cost every page that loads the wasm
  // engine ~4 KB of download. It changes a score by at most ~1e-7 of itself.
  return log_probability / std::pow(float(std::max<size_t>(length, 1)), options_.length_penalty);
}

void BeamSearch::add_finished(BeamHypothesis hypothesis) {
  const size_t K = size_t(options_.beams);
  if (finished_.size() == K && !(hypothesis.score > finished_.back().score)) return;
  const auto at = std::upper_bound(finished_.begin(), finished_.end(), hypothesis.score,
                                   [](double score, const BeamHypothesis& kept) { return score > kept.score; });
  finished_.insert(at, std::move(hypothesis));
  if (finished_.size() > K) finished_.pop_back();
}

bool BeamSearch::completes_stop(std::string* text) const {
  for (const std::string& stop_sequence : options_.stop) {
    const size_t at = text->find(stop_sequence);
    if (at == std::string::npos) continue;
    text->resize(at);
    return true;
  }
  return false;
}

// candidates_ ← the 2K best (beam, token) extensions over every running beam, best first.
void BeamSearch::select_candidates() {
  const int V = model_.vocab_size();
  const size_t per_beam = std::min(size_t(2 * options_.beams), size_t(V));
  candidates_.clear();
  for (int b = 0; b < running_; ++b) {
    const std::vector<float>& logits = beams_[size_t(b)].logits;
    float max = -INFINITY;
    for (int v = 0; v < V; ++v) {
      check(!std::isnan(logits[size_t(v)]), "model produced a NaN logit for token ", v);
      max = std::max(max, logits[size_t(v)]);
    }
    check(max > -INFINITY, "beam search: every token has probability 0 after ", steps_, " step(s)");
    double total = 0;
    for (int v = 0; v < V; ++v) total += std::exp(double(logits[size_t(v)]) - max);
    // total ≥ 1 (the largest term is exp(0)), so log1p(total − 1) is log(total) to double precision. The engine
    // calls no double log: its table would cost every page that loads the wasm engine ~4 KB of download.
    const double log_total = max + std::log1p(total - 1);
    for (int v = 0; v < V; ++v) log_probs_[size_t(v)] = double(logits[size_t(v)]) - log_total;
    std::iota(order_.begin(), order_.end(), 0);
    std::partial_sort(order_.begin(), order_.begin() + per_beam, order_.end(), [&](int32_t a, int32_t c) {
      return log_probs_[size_t(a)] > log_probs_[size_t(c)] || (log_probs_[size_t(a)] == log_probs_[size_t(c)] && a < c);
    });
    for (size_t i = 0; i < per_beam; ++i) {
      const int32_t token = order_[i];
      candidates_.push_back({beams_[size_t(b)].log_probability + log_probs_[size_t(token)], b, token});
    }
  }
  std::sort(candidates_.begin(), candidates_.end(), [](const Candidate& a, const Candidate& c) {
    if (a.log_probability != c.log_probability) return a.log_probability > c.log_probability;
    return a.beam != c.beam ? a.beam < c.beam : a.token < c.token;
  });
  candidates_.resize(std::min(candidates_.size(), size_t(2 * options_.beams)));
}

bool BeamSearch::advance() {
  check((started_ && running_ > 0) || ended_, "beam search: the prompt is not fed yet: call prefill() until it returns true");
  if (ended_) return false;
  const int K = options_.beams;
  if (steps_ == options_.max_tokens) {  // max_tokens 0: the empty continuation
    add_finished({{}, "", 0, 0, "max_tokens"});
    ended_ = true;
    return false;
  }

  select_candidates();
  int next_running = 0;
  next_parents_.clear();
  for (size_t rank = 0; rank < candidates_.size() && next_running < K; ++rank) {
    const Candidate& candidate = candidates_[rank];
    const Beam& parent = beams_[size_t(candidate.beam)];
    const bool among_best = rank < size_t(K);
    if (options_.stop_at_eos && candidate.token == tokenizer_.eos_id()) {
      if (!among_best) continue;
      BeamHypothesis hypothesis{parent.tokens, parent.text, candidate.log_probability, 0, "eos"};
      hypothesis.score = score_of(candidate.log_probability, parent.tokens.size());
      hypothesis.tokens.push_back(candidate.token);
      add_finished(std::move(hypothesis));
      continue;
    }
    std::string text = parent.text;
    append_token_text(tokenizer_, parent.tokens.empty() ? prompt_.back() : parent.tokens.back(), candidate.token, &text);
    if (completes_stop(&text)) {
      if (!among_best) continue;
      BeamHypothesis hypothesis{parent.tokens, std::move(text), candidate.log_probability, 0, "stop"};
      hypothesis.tokens.push_back(candidate.token);
      hypothesis.score = score_of(candidate.log_probability, hypothesis.tokens.size());
      add_finished(std::move(hypothesis));
      continue;
    }
    Beam& next = next_beams_[size_t(next_running++)];
    next.tokens.assign(parent.tokens.begin(), parent.tokens.end());
    next.tokens.push_back(candidate.token);
    next.text = std::move(text);
    next.log_probability = candidate.log_probability;
    next_parents_.push_back(candidate.beam);
  }
  ++steps_;

  // Candidates come best first, so next_beams_[0] is the best running beam.
  const bool none_can_improve = finished_.size() == size_t(K) &&
      (next_running == 0 || finished_.back().score >= score_of(next_beams_[0].log_probability, size_t(steps_)));
  if (next_running == 0 || none_can_improve) {
    ended_ = true;
    return false;
  }
  if (steps_ == options_.max_tokens) {
    for (int j = 0; j < next_running; ++j) {
      const Beam& beam = next_beams_[size_t(j)];
      add_finished({beam.tokens, beam.text, beam.log_probability, score_of(beam.log_probability, beam.tokens.size()),
                    "max_tokens"});
    }
    ended_ = true;
    return false;
  }
  for (int j = 0; j < next_running; ++j) {
    Beam& next = next_beams_[size_t(j)];
    model_.load_state(beams_[size_t(next_parents_[size_t(j)])].state);
    const float* logits = model_.step(next.tokens.back());
    next.logits.assign(logits, logits + model_.vocab_size());
    model_.save_state(&next.state);
  }
  std::swap(beams_, next_beams_);
  running_ = next_running;
  return true;
}

}  // namespace tinylm
