// Model files: a saved model loads back identical (same logits, same generated text for the same seed), and
// every kind of bad file is refused with a message that names the problem.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <functional>

#include "load_error.hpp"
#include "generate/generator.hpp"
#include "io/safetensors.hpp"
#include "models/recurrent_lm.hpp"
#include "tinylm/error.hpp"
#include "tinylm/model.hpp"

using namespace tinylm;
using tinylm::testing::load_error;

namespace {

Model small_model(CellKind cell) {
  Model model;
  model.tokenizer = fit_char_tokenizer("the whale, the sea; call me ishmael");
  RecurrentConfig config;
  config.cell = cell;
  config.vocab_size = model.tokenizer->vocab_size();
  config.embed_size = 6;
  config.hidden_size = 10;
  config.num_layers = 2;
  auto network = std::make_unique<RecurrentLM>(config);
  Rng rng(4);
  network->initialize(rng);
  model.network = std::move(network);
  return model;
}

std::string generate_text(Model& model, uint64_t seed) {
  GenerateOptions options;
  options.max_tokens = 40;
  options.sampling.seed = seed;
  Generator generator(*model.network, *model.tokenizer, options);
  generator.start("the ");
  std::string text, piece;
  while (generator.next(&piece)) text += piece;
  return text + piece;
}

// Rebuilds a file from `model` with its metadata and tensors edited by `edit`.
std::vector<uint8_t> edited_file(const Model& model,
                                 const std::function<void(std::map<std::string, std::string>&,
                                                          std::vector<TensorToWrite>&)>& edit) {
  std::map<std::string, std::string> metadata = {{"format", "tinylm"},
                                                 {"format_version", "1"},
                                                 {"config", model.network->config_json().dump()},
                                                 {"tokenizer", model.tokenizer->to_json().dump()}};
  std::vector<TensorToWrite> tensors = model.network->tensors_to_save();
  edit(metadata, tensors);
  return serialize_safetensors(tensors, metadata);
}

}  // namespace

TEST_CASE("model files round-trip") {
  for (CellKind cell : {CellKind::Lstm, CellKind::Gru, CellKind::RnnTanh}) {
    CAPTURE(cell_kind_name(cell));
    Model model = small_model(cell);
    const std::string path = "/tmp/tinylm_test_model_" + std::string(cell_kind_name(cell)) + ".safetensors";
    save_model(model, path);
    Model loaded = load_model(path);
    std::remove(path.c_str());
    CHECK(loaded.network->config_json() == model.network->config_json());
    CHECK(loaded.tokenizer->to_json() == model.tokenizer->to_json());
    CHECK(generate_text(loaded, 7) == generate_text(model, 7));
    CHECK(generate_text(loaded, 7) != generate_text(loaded, 8));
  }
}

TEST_CASE("F16 model files load to float within half precision") {
  Model model = small_model(CellKind::Lstm);
  const std::vector<uint8_t> bytes = edited_file(model, [](auto&, auto& tensors) {
    for (TensorToWrite& tensor : tensors) tensor.dtype = DType::F16;
  });
  Model loaded = load_model_bytes(bytes.data(), bytes.size());
  auto& original = static_cast<RecurrentLM&>(*model.network).parameters().values;
  auto& halved = static_cast<RecurrentLM&>(*loaded.network).parameters().values;
  for (size_t i = 0; i < original.size(); ++i) CHECK(std::abs(halved[i] - original[i]) <= std::abs(original[i]) * 1e-3f + 1e-7f);
}

TEST_CASE("bad model files are refused with the problem named") {
  Model model = small_model(CellKind::Lstm);
  const std::vector<uint8_t> good = serialize_model(model);

  SUBCASE("truncated") {
    std::vector<uint8_t> bytes(good.begin(), good.end() - 100);
    CHECK(load_error(bytes).find("truncated") != std::string::npos);
  }
  SUBCASE("wrong magic / header length") {
    std::vector<uint8_t> bytes = good;
    bytes[7] = 0x7F;  // header length in the exabytes
    CHECK(load_error(bytes).find("header") != std::string::npos);
    CHECK(load_error({1, 2, 3}).find("too short") != std::string::npos);
  }
  SUBCASE("missing tensor") {
    auto bytes = edited_file(model, [](auto&, auto& tensors) { tensors.pop_back(); });
    CHECK(load_error(bytes).find("missing tensor 'head.bias'") != std::string::npos);
  }
  SUBCASE("shape disagrees with the config") {
    nlohmann::json config = model.network->config_json();
    config["hidden_size"] = 11;
    auto bytes = edited_file(model, [&](auto& metadata, auto&) { metadata["config"] = config.dump(); });
    CHECK(load_error(bytes).find("but the config implies") != std::string::npos);
  }
  SUBCASE("unexpected tensor") {
    std::vector<float> extra(3);
    auto bytes = edited_file(model, [&](auto&, auto& tensors) { tensors.push_back({"attn.bias", {3}, extra.data()}); });
    CHECK(load_error(bytes).find("'attn.bias'") != std::string::npos);
  }
  SUBCASE("not a tinylm file, or a newer version") {
    auto plain = edited_file(model, [](auto& metadata, auto&) { metadata.erase("format"); });
    CHECK(load_error(plain).find("not a tinylm model file") != std::string::npos);
    auto newer = edited_file(model, [](auto& metadata, auto&) { metadata["format_version"] = "9"; });
    CHECK(load_error(newer).find("version 9") != std::string::npos);
  }
  SUBCASE("unknown arch and broken config") {
    auto unknown = edited_file(model, [](auto& metadata, auto&) { metadata["config"] = R"({"arch":"mamba"})"; });
    CHECK(load_error(unknown).find("unknown arch 'mamba'") != std::string::npos);
    auto broken = edited_file(model, [](auto& metadata, auto&) { metadata["config"] = "{not json"; });
    CHECK(load_error(broken).find("not valid JSON") != std::string::npos);
  }
  SUBCASE("tokenizer and config disagree on the vocabulary") {
    auto bytes = edited_file(model, [](auto& metadata, auto&) {
      metadata["tokenizer"] = fit_char_tokenizer("ab")->to_json().dump();
    });
    CHECK(load_error(bytes).find("tokens but the config says vocab_size") != std::string::npos);
  }
  SUBCASE("a missing file names the path") {
    CHECK_THROWS_WITH_AS(load_model("/nonexistent/model.safetensors"), doctest::Contains("/nonexistent/model.safetensors"),
                         Error);
  }
}

TEST_CASE("saving is atomic: a failed save leaves the previous file intact") {
  Model model = small_model(CellKind::Gru);
  const std::string path = "/tmp/tinylm_test_atomic.safetensors";
  save_model(model, path);
  const std::vector<uint8_t> before = read_file_bytes(path);
  Model broken;
  broken.tokenizer = fit_char_tokenizer("x");
  CHECK_THROWS_AS(save_model(broken, path), Error);  // incomplete model: nothing written
  CHECK(read_file_bytes(path) == before);
  std::remove(path.c_str());
}
