// Hugging Face tokenizer files are untrusted input: every malformed, oversized or unsupported document fails with a
// tinylm::Error that names the file, the field and what to do — and random damage to a valid file never does
// anything else (no crash, no other exception, no id outside the vocabulary). Also: a model file carries an "hf"
// tokenizer through save and load.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "hf_tokenizer_fixtures.hpp"
#include "models/recurrent_lm.hpp"
#include "tinylm/error.hpp"
#include "tinylm/model.hpp"
#include "tinylm/rng.hpp"

using namespace tinylm;
using namespace tinylm::testing;

namespace {

// The message loading fails with, or "(loaded)".
std::string load_error(const std::string& tokenizer_json, const std::string& config_json = "") {
  try {
    load_hf_tokenizer(tokenizer_json, config_json);
  } catch (const Error& error) {
    return error.what();
  }
  return "(loaded)";
}

std::string document_error(const nlohmann::json& document) { return load_error(document.dump()); }

// A document that uses every supported component: the base for the damage tests.
nlohmann::json full_document() {
  nlohmann::json model = bpe_model({"<unk>", "<s>", "</s>", "<0x41>", "▁", "a", "b", "▁a", "ab"}, {{"▁", "a"}, {"a", "b"}});
  model["unk_token"] = "<unk>";
  model["byte_fallback"] = true;
  model["fuse_unk"] = true;
  nlohmann::json document = tokenizer_document(model);
  document["added_tokens"] = {added_token(0, "<unk>"), added_token(1, "<s>"), added_token(2, "</s>")};
  document["normalizer"] = {{"type", "Sequence"},
                            {"normalizers", {{{"type", "Prepend"}, {"prepend", "▁"}},
                                             {{"type", "Strip"}, {"strip_left", false}, {"strip_right", true}}}}};
  document["pre_tokenizer"] = {{"type", "Sequence"},
                               {"pretokenizers", {{{"type", "Digits"}, {"individual_digits", true}},
                                                  {{"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "first"}, {"split", true}}}}};
  document["post_processor"] = {{"type", "TemplateProcessing"},
                                {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                                            {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
                                {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}};
  document["decoder"] = {{"type", "Sequence"},
                         {"decoders", {{{"type", "ByteFallback"}}, {{"type", "Metaspace"}, {"replacement", "▁"}},
                                       {{"type", "Fuse"}}, {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 1}}}}};
  return document;
}

// Loads, and when that works, encodes and decodes: nothing may throw anything but Error, and every id is in range.
// Returns whether it loaded.
bool exercise(const std::string& tokenizer_json, const std::string& config_json = "") {
  try {
    const auto tokenizer = load_hf_tokenizer(tokenizer_json, config_json);
    for (const char* text : {"ab a", "", "x\xff A 12 </s>", "▁▁b"}) {
      const std::vector<int32_t> ids = tokenizer->encode(text);
      for (int32_t id : ids) REQUIRE((id >= 0 && id < tokenizer->vocab_size()));
      tokenizer->decode(ids);
      for (int32_t id : ids) tokenizer->token_bytes(id);
    }
  } catch (const Error&) {
    return false;  // refused with a message: fine
  }
  return true;
}

}  // namespace

TEST_CASE("malformed tokenizer.json files fail with an Error naming the field") {
  CHECK(load_error("{\"model\": ") .find("tokenizer.json is not valid JSON") != std::string::npos);
  CHECK(load_error(std::string(200, '[') + std::string(200, ']')).find("nests deeper than 64") != std::string::npos);
  CHECK(load_error("[]").find("tokenizer.json must be an object") != std::string::npos);
  CHECK(load_error(std::string(hf::kMaxDocumentBytes + 1, ' ')).find("tinylm reads at most") != std::string::npos);

  nlohmann::json document = full_document();
  document["version"] = "2.0";
  CHECK(document_error(document).find("version \"1.0\"") != std::string::npos);
  document = full_document();
  document["model"]["type"] = "WordPiece";
  CHECK(document_error(document).find("tinylm reads BPE models") != std::string::npos);
  document = full_document();
  document["normalizer"] = {{"type", "NFC"}};
  CHECK(document_error(document).find("tokenizer.json.normalizer.type is \"NFC\"") != std::string::npos);
  document = full_document();
  document["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "\\w+"}}}, {"behavior", "Isolated"}};
  CHECK(document_error(document).find("GPT-2's pattern") != std::string::npos);
  document = full_document();
  document["model"]["merges"][1] = {"a", "zz"};
  CHECK(document_error(document).find("model.merges[1]") != std::string::npos);
  document = full_document();
  document["model"]["merges"][0] = "a b c";
  CHECK(document_error(document).find("two tokens separated by one space") != std::string::npos);
  document = full_document();
  document["model"]["vocab"]["b"] = 5;  // the id of "a"
  CHECK(document_error(document).find("gives id 5 to both") != std::string::npos);
  document = full_document();
  document["model"]["vocab"]["b"] = -1;
  CHECK(document_error(document).find("must be an integer in [0,") != std::string::npos);
  document = full_document();
  document["model"]["dropout"] = 0.1;
  CHECK(document_error(document).find("set it to null") != std::string::npos);
  document = full_document();
  document["model"]["unk_token"] = "<nope>";
  CHECK(document_error(document).find("not in tokenizer.json.model.vocab") != std::string::npos);
  document = full_document();
  document["post_processor"]["special_tokens"] = nlohmann::json::object();
  CHECK(document_error(document).find("does not define") != std::string::npos);
  document = full_document();
  document["added_tokens"][1]["lstrip"] = "yes";
  CHECK(document_error(document).find("added_tokens[1].lstrip must be true or false") != std::string::npos);
  document = full_document();
  document["decoder"] = {{"type", "Sequence"}, {"decoders", nlohmann::json::array()}};
  for (int depth = 0; depth < 10; ++depth) document["decoder"] = {{"type", "Sequence"}, {"decoders", {document["decoder"]}}};
  CHECK(document_error(document).find("nests Sequences deeper than 8") != std::string::npos);
  document = full_document();
  document["normalizer"] = {{"type", "Replace"}, {"pattern", {{"String", ""}}}, {"content", "x"}};
  CHECK(document_error(document).find("String is empty") != std::string::npos);
}

TEST_CASE("malformed tokenizer_config.json and hf tokenizer JSON fail with an Error") {
  const std::string document = full_document().dump();
  CHECK(load_error(document, "{").find("tokenizer_config.json is not valid JSON") != std::string::npos);
  CHECK(load_error(document, "{\"eos_token\": 3}").find("eos_token must be a string") != std::string::npos);
  CHECK(load_error(document, "{\"chat_template\": [{\"name\": 1}]}").find("chat_template[0].name") != std::string::npos);
  CHECK(load_error(document, "{\"tokenizer_class\": \"LlamaTokenizer\", \"bos_token\": \"<x>\"}").find("add_bos_token") !=
        std::string::npos);
  CHECK_THROWS_WITH_AS(tokenizer_from_json({{"kind", "hf"}, {"version", 1}, {"tokenizer_json", document}}),
                       doctest::Contains("field 'tokenizer_config_json' is missing"), Error);
  CHECK_THROWS_WITH_AS(tokenizer_from_json({{"kind", "hf"}, {"version", 1}, {"tokenizer_json", 5},
                                            {"tokenizer_config_json", ""}}),
                       doctest::Contains("'tokenizer_json' must be a string"), Error);
  CHECK_THROWS_WITH_AS(load(full_document())->token_bytes(-1), doctest::Contains("outside the vocabulary"), Error);
}

TEST_CASE("random damage to a valid tokenizer.json loads or fails with an Error, never anything else") {
  const std::string valid = full_document().dump();
  REQUIRE(exercise(valid));
  int loaded = 0;
  Rng rng(2024);
  const std::string noise = "{}[],:\"\\0123456789-.eE tfnulr\xe2\x96\x81\xff";
  for (int trial = 0; trial < 3000; ++trial) {
    std::string damaged = valid;
    const int edits = 1 + static_cast<int>(rng.next_u32() % 4);
    for (int edit = 0; edit < edits && !damaged.empty(); ++edit) {
      const size_t at = rng.next_u32() % damaged.size();
      switch (rng.next_u32() % 4) {
        case 0:
          damaged.erase(at, 1 + rng.next_u32() % 8);
          break;
        case 1:
          damaged.insert(at, 1, noise[rng.next_u32() % noise.size()]);
          break;
        case 2:
          damaged[at] = noise[rng.next_u32() % noise.size()];
          break;
        default:
          damaged.insert(at, damaged.substr(rng.next_u32() % damaged.size(), 1 + rng.next_u32() % 16));
      }
    }
    CAPTURE(damaged);
    loaded += exercise(damaged);
  }
  CHECK(loaded > 100);   // damage inside strings and numbers often leaves a loadable file
  CHECK(loaded < 2900);
}

TEST_CASE("random values in place of a valid tokenizer.json's fields load or fail with an Error") {
  const nlohmann::json valid = full_document();
  const std::vector<nlohmann::json> values = {nullptr, true, 0, -1, 4294967296LL, 1e300, "", "▁", "BPE", "Sequence",
                                              nlohmann::json::array(), nlohmann::json::object(), {1, 2},
                                              {{"type", "Sequence"}}, {{"String", "a"}}, {"a", "b"}};
  std::vector<nlohmann::json::json_pointer> paths;
  const nlohmann::json flat = valid.flatten();
  for (const auto& item : flat.items()) paths.emplace_back(item.key());
  Rng rng(7);
  int loaded = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    nlohmann::json damaged = valid;
    for (int edit = 0; edit < 2; ++edit) {
      nlohmann::json::json_pointer path = paths[rng.next_u32() % paths.size()];
      for (int up = static_cast<int>(rng.next_u32() % 3); up > 0 && !path.empty(); --up) path = path.parent_pointer();
      const nlohmann::json::json_pointer parent = path.parent_pointer();
      if (!path.empty() && !(damaged.contains(parent) && damaged[parent].is_structured())) continue;
      if (!path.empty() && damaged[parent].is_array() && !damaged.contains(path)) continue;
      damaged[path] = values[rng.next_u32() % values.size()];
    }
    CAPTURE(damaged.dump());
    loaded += exercise(damaged.dump(), trial % 2 == 0 ? "" : "{\"tokenizer_class\": \"LlamaTokenizer\", \"eos_token\": \"</s>\"}");
  }
  CHECK(loaded > 10);  // most replaced values break a field's type, some land where any value of the kind is fine
  CHECK(loaded < 1950);
}

TEST_CASE("a model file carries its hf tokenizer through save and load") {
  Model model;
  nlohmann::json document = byte_level_document({{"t", "h"}, {"th", "e"}, {" ", "the"}});
  document["added_tokens"].push_back(added_token(259, "<|endoftext|>"));
  model.tokenizer = load(document);
  RecurrentConfig config;
  config.vocab_size = model.tokenizer->vocab_size();
  config.embed_size = 4;
  config.hidden_size = 6;
  config.num_layers = 1;
  auto network = std::make_unique<RecurrentLM>(config);
  Rng rng(3);
  network->initialize(rng);
  model.network = std::move(network);
  const std::string path = "/tmp/tinylm_test_hf_tokenizer.safetensors";
  save_model(model, path);
  Model loaded = load_model(path);
  std::remove(path.c_str());
  REQUIRE(loaded.tokenizer->kind() == "hf");
  const std::string text = "the whale, the sea<|endoftext|>";
  CHECK(loaded.tokenizer->encode(text) == model.tokenizer->encode(text));
  CHECK(loaded.tokenizer->encode(text).front() == 257);  // "the" (" the" is 258)
  CHECK(loaded.tokenizer->eos_id() == 259);
  CHECK(loaded.tokenizer->decode(loaded.tokenizer->encode(text)) == text);
}
