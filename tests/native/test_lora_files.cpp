// LoRA adapter files: PEFT's tensor names and adapter_config round-trip through safetensors and give the same logits
// once loaded; a file that does not fit the model (no config, a missing lora_B, a wrong shape, another
// architecture's names, a base weight, DoRA) is refused with the tensor or field named.
#include <doctest/doctest.h>

#include <cstdio>
#include <unistd.h>

#include "io/safetensors.hpp"
#include "layer_gradient_check.hpp"
#include "lora/adapter_file.hpp"
#include "lora_test_support.hpp"
#include "models/llama.hpp"
#include "models/model_common.hpp"
#include "tinylm/error.hpp"

using namespace tinylm;
using namespace tinylm::testing;

namespace {

std::string temp_path(const char* name) {
  return "/tmp/tinylm_test_lora_" + std::to_string(::getpid()) + "_" + name;
}

}  // namespace

TEST_CASE("lora files: PEFT names and config round-trip; the loaded adapter gives the same logits") {
  LlamaLM base(llama_config());
  perturb(base, 5, 0.3f);
  LoraConfig config = lora_config({"q_proj", "v_proj"}, 2, 5.0f);
  config.dropout = 0.1f;
  config.base_model = "HuggingFaceTB/SmolLM2-135M";
  auto adapter = random_adapter(base, config, 7);
  const std::string path = temp_path("adapter.safetensors");
  save_adapter(path, *adapter, base.arch());

  const SafetensorsFile file = read_safetensors_file(path);
  CHECK(file.find("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight")->shape == Shape{2, 12});
  CHECK(file.find("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight")->shape == Shape{8, 2});
  CHECK(file.metadata.at("format") == "pt");
  const nlohmann::json stored = nlohmann::json::parse(file.metadata.at("adapter_config"));
  CHECK(stored["r"] == 2);
  CHECK(stored["lora_alpha"] == 5.0);
  CHECK(stored["target_modules"] == nlohmann::json({"q_proj", "v_proj"}));
  CHECK(stored["peft_type"] == "LORA");
  CHECK(stored["base_model_name_or_path"] == "HuggingFaceTB/SmolLM2-135M");

  auto loaded = load_adapter_file(path, base.linear_modules());
  CHECK(loaded->parameters().values == adapter->parameters().values);
  CHECK(loaded->config().scale() == adapter->config().scale());
  CHECK(loaded->config().dropout == doctest::Approx(0.1f));
  const std::vector<int32_t> ids = random_ids(12, 13, 4);
  base.set_linear_adapter(adapter.get());
  const std::vector<float> expected = forward_logits(base, ids, 2, 6);
  base.set_linear_adapter(loaded.get());
  CHECK(forward_logits(base, ids, 2, 6) == expected);
  base.set_linear_adapter(nullptr);
  std::remove(path.c_str());
}

TEST_CASE("lora files: a file that does not fit the model is refused with the tensor named") {
  LlamaLM base(llama_config());
  const std::vector<LinearModule> modules = base.linear_modules();
  auto adapter = random_adapter(base, lora_config({"q_proj"}, 2), 7);
  const std::string config = adapter_config_json(adapter->config(), "llama").dump();
  const std::vector<TensorToWrite> good = parameters_to_write(adapter->parameters());
  auto parse_with = [&](std::vector<TensorToWrite> tensors, std::map<std::string, std::string> metadata) {
    const std::vector<uint8_t> bytes = serialize_safetensors(tensors, metadata);
    const SafetensorsFile file = parse_safetensors(bytes.data(), bytes.size());
    return load_adapter(file, modules);
  };
  CHECK(parse_with(good, {{"adapter_config", config}})->terms().size() == 2);
  CHECK_THROWS_WITH_AS(parse_with(good, {}), doctest::Contains("adapter_config.json"), Error);
  std::vector<TensorToWrite> missing_b(good.begin(), good.begin() + 1);
  CHECK_THROWS_WITH_AS(parse_with(missing_b, {{"adapter_config", config}}), doctest::Contains("but not its lora_B"),
                       Error);
  std::vector<TensorToWrite> wrong_shape = good;
  wrong_shape[0].shape = {3, 8};
  CHECK_THROWS_WITH_AS(parse_with(wrong_shape, {{"adapter_config", config}}),
                       doctest::Contains("has shape [3, 8], expected [2, 12]"), Error);
  std::vector<TensorToWrite> unknown = good;
  unknown[0].name = "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight";
  CHECK_THROWS_WITH_AS(parse_with(unknown, {{"adapter_config", config}}), doctest::Contains("another architecture"),
                       Error);
  std::vector<TensorToWrite> stray = good;
  stray[0].name = "model.layers.0.self_attn.q_proj.weight";
  CHECK_THROWS_WITH_AS(parse_with(stray, {{"adapter_config", config}}), doctest::Contains("not a LoRA matrix"), Error);
  nlohmann::json dora = nlohmann::json::parse(config);
  dora["use_dora"] = true;
  CHECK_THROWS_WITH_AS(parse_with(good, {{"adapter_config", dora.dump()}}), doctest::Contains("DoRA"), Error);
}
