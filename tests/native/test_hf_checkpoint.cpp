// Hugging Face checkpoint folders (io/hf_checkpoint.hpp): folders written here in the published layouts load into
// the right model with the right weights — GPT-2 with and without the "transformer." prefix, its Conv1D weights
// transposed, mask buffers ignored; Llama tied and untied, BF16, shards — and every inconsistency is an Error that
// names the file, the field or the tensor. Numerical parity with PyTorch is tests/parity/test_hf_*.py's.
#include <doctest/doctest.h>
#include <sys/resource.h>

#include <cstdio>
#include <filesystem>
#include <functional>

#include "io/hf_checkpoint.hpp"
#include "io/safetensors.hpp"
#include "layer_gradient_check.hpp"
#include "models/gpt.hpp"
#include "models/llama.hpp"
#include "temp_dir.hpp"
#include "tinylm/error.hpp"

using namespace tinylm;
using namespace tinylm::testing;
namespace fs = std::filesystem;

namespace {

void write_json(const TempDir& dir, const std::string& name, const nlohmann::json& json) {
  const std::string text = json.dump(2);
  write_file_atomic(dir.file(name), std::vector<uint8_t>(text.begin(), text.end()));
}

// A tensor set in a file's names: values owned here.
struct Tensors {
  std::vector<std::pair<std::string, std::vector<float>>> owned;
  std::vector<TensorToWrite> list;
  void add(const std::string& name, Shape shape, std::vector<float> values, DType dtype = DType::F32) {
    owned.emplace_back(name, std::move(values));
    list.push_back({name, std::move(shape), nullptr, dtype});
  }
  std::vector<TensorToWrite> to_write() const {
    std::vector<TensorToWrite> result = list;
    for (size_t i = 0; i < result.size(); ++i) result[i].values = owned[i].second.data();
    return result;
  }
  void save(const std::string& path) const {
    write_file_atomic(path, serialize_safetensors(to_write(), {{"format", "pt"}}));
  }
};

// ---- GPT-2 (V 11, positions 6, C 8, 2 heads, 1 layer) --------------------------------------------------------------
nlohmann::json gpt2_config() {
  return {{"architectures", {"GPT2LMHeadModel"}}, {"model_type", "gpt2"}, {"vocab_size", 11}, {"n_positions", 6},
          {"n_ctx", 6}, {"n_embd", 8}, {"n_head", 2}, {"n_layer", 1}, {"activation_function", "gelu_new"},
          {"layer_norm_epsilon", 1e-5}};
}

// GPT-2's tensors as the published file names them (no prefix), Conv1D weights (in, out), with the mask buffers.
Tensors gpt2_tensors(const std::string& prefix, bool buffers) {
  Rng rng(3);
  Tensors tensors;
  auto add = [&](const std::string& name, Shape shape) {
    tensors.add(prefix + name, shape, random_values(size_t(shape_numel(shape)), rng));
  };
  add("wte.weight", {11, 8});
  add("wpe.weight", {6, 8});
  add("h.0.ln_1.weight", {8});
  add("h.0.ln_1.bias", {8});
  if (buffers) {
    std::vector<float> mask(36);
    for (int i = 0; i < 6; ++i)
      for (int j = 0; j <= i; ++j) mask[i * 6 + j] = 1.0f;
    tensors.add(prefix + "h.0.attn.bias", {1, 1, 6, 6}, mask);
    tensors.add(prefix + "h.0.attn.masked_bias", {}, {-1e4f});
  }
  add("h.0.attn.c_attn.weight", {8, 24});
  add("h.0.attn.c_attn.bias", {24});
  add("h.0.attn.c_proj.weight", {8, 8});
  add("h.0.attn.c_proj.bias", {8});
  add("h.0.ln_2.weight", {8});
  add("h.0.ln_2.bias", {8});
  add("h.0.mlp.c_fc.weight", {8, 32});
  add("h.0.mlp.c_fc.bias", {32});
  add("h.0.mlp.c_proj.weight", {32, 8});
  add("h.0.mlp.c_proj.bias", {8});
  add("ln_f.weight", {8});
  add("ln_f.bias", {8});
  return tensors;
}

const std::vector<float>& tensor_values(const Tensors& tensors, const std::string& name) {
  for (const auto& [tensor_name, values] : tensors.owned)
    if (tensor_name == name) return values;
  FAIL("no tensor " << name);
  return tensors.owned.front().second;
}

std::string load_error(const std::string& dir) {
  try {
    load_hf_network(read_hf_checkpoint(dir));
  } catch (const Error& error) {
    return error.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("hf checkpoint: GPT-2 folders load onto GptLM, prefixed or not, Conv1D weights transposed") {
  for (const std::string prefix : {"", "transformer."}) {
    CAPTURE(prefix);
    TempDir dir("tinylm-hf");
    write_json(dir, "config.json", gpt2_config());
    const Tensors tensors = gpt2_tensors(prefix, prefix.empty());
    tensors.save(dir.file("model.safetensors"));
    REQUIRE(is_hf_checkpoint(dir.path.string()));
    const HfCheckpoint checkpoint = read_hf_checkpoint(dir.path.string());
    CHECK(checkpoint.architecture == "GPT2LMHeadModel");
    CHECK(checkpoint.generation_config.is_null());
    std::unique_ptr<TrainableModel> model = load_hf_network(checkpoint);
    auto& gpt = dynamic_cast<GptLM&>(*model);
    CHECK(gpt.config().gelu == GeluKind::Tanh);
    CHECK(gpt.config().context_size == 6);
    CHECK(gpt.config().dropout == doctest::Approx(0.1));  // transformers' default resid_pdrop
    Parameters& params = model->parameters();
    const std::vector<float>& wte = tensor_values(tensors, prefix + "wte.weight");
    CHECK(std::equal(wte.begin(), wte.end(), params.value("transformer.wte.weight")));
    // c_attn stored (in 8, out 24): the parameter is (24, 8), element [o][i] = stored[i][o].
    const std::vector<float>& c_attn = tensor_values(tensors, prefix + "h.0.attn.c_attn.weight");
    const float* ours = params.value("transformer.h.0.attn.c_attn.weight");
    for (int o = 0; o < 24; ++o)
      for (int i = 0; i < 8; ++i) CHECK(ours[o * 8 + i] == c_attn[i * 24 + o]);
    const std::vector<float>& fc = tensor_values(tensors, prefix + "h.0.mlp.c_proj.weight");  // (32, 8) → (8, 32)
    CHECK(params.value("transformer.h.0.mlp.c_proj.weight")[1 * 32 + 5] == fc[5 * 8 + 1]);
  }
}

TEST_CASE("hf checkpoint: U8 mask buffers are ignored; a tied head in the file must equal the embedding") {
  TempDir dir("tinylm-hf");
  nlohmann::json config = gpt2_config();
  config["activation_function"] = "gelu";
  write_json(dir, "config.json", config);
  Tensors tensors = gpt2_tensors("transformer.", false);
  const std::vector<int8_t> mask(36, 1);
  TensorToWrite buffer{"transformer.h.0.attn.bias", {1, 1, 6, 6}, nullptr, DType::U8};
  buffer.int8_values = mask.data();
  std::vector<TensorToWrite> list = tensors.to_write();
  list.push_back(buffer);
  std::vector<float> head = tensor_values(tensors, "transformer.wte.weight");
  list.push_back({"lm_head.weight", {11, 8}, head.data()});
  write_file_atomic(dir.file("model.safetensors"), serialize_safetensors(list, {}));
  auto model = load_hf_network(read_hf_checkpoint(dir.path.string()));
  CHECK(dynamic_cast<GptLM&>(*model).config().gelu == GeluKind::Exact);

  head[3] += 1.0f;
  list.back().values = head.data();
  write_file_atomic(dir.file("model.safetensors"), serialize_safetensors(list, {}));
  CHECK(load_error(dir.path.string()).find("'lm_head.weight' differs from 'transformer.wte.weight'") !=
        std::string::npos);
}

TEST_CASE("hf checkpoint: GPT-2 configs tinylm cannot run are refused, naming the field") {
  auto error_for = [](const std::function<void(nlohmann::json&)>& edit) {
    TempDir dir("tinylm-hf");
    nlohmann::json config = gpt2_config();
    edit(config);
    write_json(dir, "config.json", config);
    gpt2_tensors("", true).save(dir.file("model.safetensors"));
    return load_error(dir.path.string());
  };
  CHECK(error_for([](nlohmann::json&) {}) == "no error");
  CHECK(error_for([](nlohmann::json& c) { c["activation_function"] = "relu"; })
            .find("activation_function 'relu'") != std::string::npos);
  CHECK(error_for([](nlohmann::json& c) { c["n_inner"] = 40; }).find("n_inner 40") != std::string::npos);
  CHECK(error_for([](nlohmann::json& c) { c["layer_norm_epsilon"] = 1e-6; }).find("layer_norm_epsilon") !=
        std::string::npos);
  CHECK(error_for([](nlohmann::json& c) { c["tie_word_embeddings"] = false; }).find("tie_word_embeddings") !=
        std::string::npos);
  CHECK(error_for([](nlohmann::json& c) { c["n_embd"] = "8"; }).find("'n_embd' must be an integer") !=
        std::string::npos);
  CHECK(error_for([](nlohmann::json& c) { c["n_embd"] = 16; })
            .find("tensor 'wte.weight' in '") != std::string::npos);  // shapes disagree with the config
  CHECK(error_for([](nlohmann::json& c) { c["architectures"] = {"MistralForCausalLM"}; })
            .find("architecture 'MistralForCausalLM' is not supported") != std::string::npos);
  CHECK(error_for([](nlohmann::json& c) {
          c.erase("architectures");
          c["model_type"] = "t5";
        }).find("model_type 't5'") != std::string::npos);
}

// ---- Llama (V 13, C 8, H 12, 2 heads of 4 over 1 key/value head, 1 layer) ------------------------------------
namespace {

nlohmann::json llama_config(bool tied) {
  return {{"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"}, {"vocab_size", 13},
          {"hidden_size", 8},  {"intermediate_size", 12}, {"num_hidden_layers", 1}, {"num_attention_heads", 2},
          {"num_key_value_heads", 1}, {"max_position_embeddings", 131072}, {"rms_norm_eps", 1e-5},
          {"tie_word_embeddings", tied}, {"rope_theta", 500000.0}};
}

Tensors llama_tensors(bool tied, DType dtype = DType::F32) {
  Rng rng(5);
  Tensors tensors;
  auto add = [&](const std::string& name, Shape shape) {
    tensors.add(name, shape, random_values(size_t(shape_numel(shape)), rng), dtype);
  };
  add("model.embed_tokens.weight", {13, 8});
  const std::string layer = "model.layers.0.";
  add(layer + "input_layernorm.weight", {8});
  add(layer + "self_attn.q_proj.weight", {8, 8});
  add(layer + "self_attn.k_proj.weight", {4, 8});
  add(layer + "self_attn.v_proj.weight", {4, 8});
  add(layer + "self_attn.o_proj.weight", {8, 8});
  add(layer + "post_attention_layernorm.weight", {8});
  add(layer + "mlp.gate_proj.weight", {12, 8});
  add(layer + "mlp.up_proj.weight", {12, 8});
  add(layer + "mlp.down_proj.weight", {8, 12});
  add("model.norm.weight", {8});
  if (!tied) add("lm_head.weight", {13, 8});
  return tensors;
}

}  // namespace

TEST_CASE("hf checkpoint: Llama folders load onto LlamaLM — BF16 rounded once, context capped, buffers ignored") {
  TempDir dir("tinylm-hf");
  write_json(dir, "config.json", llama_config(true));
  write_json(dir, "generation_config.json", {{"bos_token_id", 1}, {"eos_token_id", 2}});
  Tensors tensors = llama_tensors(true, DType::BF16);
  tensors.add("model.layers.0.self_attn.rotary_emb.inv_freq", {2}, {1.0f, 0.01f});  // older files carry it
  tensors.save(dir.file("model.safetensors"));
  const HfCheckpoint checkpoint = read_hf_checkpoint(dir.path.string());
  CHECK(checkpoint.generation_config["eos_token_id"] == 2);
  auto model = load_hf_network(checkpoint);
  auto& llama = dynamic_cast<LlamaLM&>(*model);
  CHECK(llama.config().context_size == 8192);  // 131072 positions, capped (HfLoadOptions)
  CHECK(llama.config().head_size == 4);
  CHECK(llama.config().num_kv_heads == 1);
  CHECK(llama.config().tie_embeddings);
  CHECK(llama.config().rope.theta == 500000.0f);
  const std::vector<float>& q = tensor_values(tensors, "model.layers.0.self_attn.q_proj.weight");
  const float* ours = model->parameters().value("model.layers.0.self_attn.q_proj.weight");
  for (int i = 0; i < 64; ++i) CHECK(ours[i] == bfloat16_to_float(float_to_bfloat16(q[i])));
  HfLoadOptions short_context;
  short_context.max_context = 16;
  CHECK(dynamic_cast<LlamaLM&>(*load_hf_network(checkpoint, short_context)).config().context_size == 16);
}

TEST_CASE("hf checkpoint: weights held as F16 or int8 as they stream in generate as the float model does") {
  TempDir dir("tinylm-hf");
  write_json(dir, "config.json", llama_config(false));
  const Tensors tensors = llama_tensors(false, DType::F16);  // F16 values: held as F16 without rounding
  tensors.save(dir.file("model.safetensors"));
  const HfCheckpoint checkpoint = read_hf_checkpoint(dir.path.string());
  HfLoadOptions options;
  options.max_context = 16;
  auto reference = load_hf_network(checkpoint, options);
  for (Residency residency : {Residency::F16, Residency::Int8}) {
    // The float model reads its matrices from copies rounded by the same rule, row by row.
    dynamic_cast<LlamaLM&>(*reference)
        .set_step_precision(residency == Residency::F16 ? LlamaLM::StepPrecision::Float
                                                        : LlamaLM::StepPrecision::Int8);
    options.residency = residency;
    auto held = load_hf_network(checkpoint, options);
    CHECK(held->parameters().table.holds_compact());
    CHECK(held->parameters().values.size() < reference->parameters().values.size() / 4);
    reference->reset_state();
    double worst = 0;
    for (int32_t token : random_ids(20, 13, 3)) {
      const float* a = reference->step(token);
      const std::vector<float> expected(a, a + 13);
      worst = std::max(worst, relative_error(held->step(token), expected.data(), 13));
    }
    // Int8 also rounds the embedding rows the step reads, which the float model reads as floats: 7e-2 here, with
    // rows of 8 values (the matrices alone agree to 1e-6: F16's case).
    CHECK(worst <= (residency == Residency::F16 ? 1e-5 : 1e-1));
  }
}

TEST_CASE("hf checkpoint: sharded Llama weights load through the index; its inconsistencies are named") {
  TempDir dir("tinylm-hf");
  write_json(dir, "config.json", llama_config(false));
  const Tensors tensors = llama_tensors(false);
  const std::vector<TensorToWrite> all = tensors.to_write();
  nlohmann::json weight_map;
  auto write_shards = [&](size_t split) {
    const std::vector<TensorToWrite> first(all.begin(), all.begin() + split), second(all.begin() + split, all.end());
    write_file_atomic(dir.file("model-00001-of-00002.safetensors"), serialize_safetensors(first, {}));
    write_file_atomic(dir.file("model-00002-of-00002.safetensors"), serialize_safetensors(second, {}));
    for (size_t i = 0; i < all.size(); ++i)
      weight_map[all[i].name] = i < split ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
    write_json(dir, "model.safetensors.index.json", {{"metadata", {{"total_size", 1}}}, {"weight_map", weight_map}});
  };
  write_shards(5);
  {
    auto model = load_hf_network(read_hf_checkpoint(dir.path.string()));
    const std::vector<float>& head = tensor_values(tensors, "lm_head.weight");
    CHECK(std::equal(head.begin(), head.end(), model->parameters().value("lm_head.weight")));
    CHECK(read_hf_checkpoint(dir.path.string()).shards.size() == 2);
  }
  SUBCASE("a tensor in a shard the index does not place there") {
    weight_map["model.norm.weight"] = "model-00001-of-00002.safetensors";
    write_json(dir, "model.safetensors.index.json", {{"weight_map", weight_map}});
    CHECK(load_error(dir.path.string()).find("holds tensor 'model.norm.weight', which the index places in "
                                             "'model-00001-of-00002.safetensors'") != std::string::npos);
  }
  SUBCASE("a shard the folder lacks") {
    fs::remove(dir.path / "model-00002-of-00002.safetensors");
    CHECK(load_error(dir.path.string()).find("names shard 'model-00002-of-00002.safetensors', which is not in") !=
          std::string::npos);
  }
  SUBCASE("a shard name that leaves the folder") {
    weight_map["model.norm.weight"] = "../model.safetensors";
    write_json(dir, "model.safetensors.index.json", {{"weight_map", weight_map}});
    CHECK(load_error(dir.path.string()).find("must be a file name inside the folder") != std::string::npos);
  }
}

TEST_CASE("hf checkpoint: missing, foreign and misshapen Llama tensors and unsupported configs are named") {
  auto error_for = [](const std::function<void(nlohmann::json&)>& edit_config,
                      const std::function<void(Tensors&)>& edit_tensors) {
    TempDir dir("tinylm-hf");
    nlohmann::json config = llama_config(true);
    edit_config(config);
    write_json(dir, "config.json", config);
    Tensors tensors = llama_tensors(true);
    edit_tensors(tensors);
    tensors.save(dir.file("model.safetensors"));
    return load_error(dir.path.string());
  };
  auto same = [](auto&) {};
  CHECK(error_for(same, same) == "no error");
  CHECK(error_for(same, [](Tensors& t) {
          t.owned.erase(t.owned.begin() + 4);
          t.list.erase(t.list.begin() + 4);
        }).find("has no tensor for 'model.layers.0.self_attn.v_proj.weight' (expected shape [4, 8])") !=
        std::string::npos);
  CHECK(error_for(same, [](Tensors& t) { t.add("model.layers.0.self_attn.q_norm.weight", {4}, {1, 1, 1, 1}); })
            .find("has tensor 'model.layers.0.self_attn.q_norm.weight' that this LlamaForCausalLM config has no "
                  "place for") != std::string::npos);
  CHECK(error_for([](nlohmann::json& c) { c["num_key_value_heads"] = 2; }, same)
            .find("tensor 'model.layers.0.self_attn.k_proj.weight' in '") != std::string::npos);
  CHECK(error_for([](nlohmann::json& c) { c["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}}; }, same)
            .find("rope_scaling type 'yarn' is not supported") != std::string::npos);
  CHECK(error_for([](nlohmann::json& c) { c["rope_scaling"] = {{"type", "llama3"}, {"factor", 8.0}}; }, same)
            .find("llama3 rope_scaling needs 'low_freq_factor'") != std::string::npos);
  CHECK(error_for([](nlohmann::json& c) { c["hidden_act"] = "gelu"; }, same).find("hidden_act 'gelu'") !=
        std::string::npos);
  CHECK(error_for([](nlohmann::json& c) { c["num_attention_heads"] = 3; }, same)
            .find("hidden_size 8 is not divisible by num_attention_heads 3") != std::string::npos);
  CHECK(error_for([](nlohmann::json& c) { c["vocab_size"] = 13 << 20; }, same).find("vocab_size") !=
        std::string::npos);
  static const std::vector<int8_t> bytes(13 * 8, 1);
  CHECK(error_for(same, [](Tensors& t) {
          t.list[0].dtype = DType::U8;
          t.list[0].int8_values = bytes.data();
        }).find("tensor 'model.embed_tokens.weight' in '") != std::string::npos);
}

TEST_CASE("hf checkpoint: every shard's header is checked before the model allocates") {
  // A config of 168M parameters (1.3 GB of weights and gradients, under the native cap) with a file of one small
  // tensor: the missing tensors are named before anything is allocated for the model.
  TempDir dir("tinylm-hf");
  nlohmann::json config = llama_config(true);
  config["hidden_size"] = 2048;
  config["intermediate_size"] = 4096;
  config["num_hidden_layers"] = 4;
  config["num_attention_heads"] = 8;
  config["num_key_value_heads"] = 8;
  config["max_position_embeddings"] = 64;
  write_json(dir, "config.json", config);
  Tensors tensors;
  tensors.add("model.norm.weight", {2048}, std::vector<float>(2048, 1.0f));
  tensors.save(dir.file("model.safetensors"));
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  const std::string message = load_error(dir.path.string());
  getrusage(RUSAGE_SELF, &after);
  CHECK(message.find("has no tensor for 'model.embed_tokens.weight'") != std::string::npos);
  CHECK(after.ru_maxrss - before.ru_maxrss < 256 * 1024);  // kB
}

TEST_CASE("hf checkpoint: folders without weights or config are refused, naming what is missing") {
  TempDir dir("tinylm-hf");
  CHECK_FALSE(is_hf_checkpoint(dir.path.string()));
  CHECK_THROWS_WITH_AS(read_hf_checkpoint(dir.path.string()), doctest::Contains("has no config.json"), Error);
  write_json(dir, "config.json", llama_config(true));
  CHECK(is_hf_checkpoint(dir.path.string()));
  CHECK_THROWS_WITH_AS(read_hf_checkpoint(dir.path.string()),
                       doctest::Contains("has neither model.safetensors nor model.safetensors.index.json"), Error);
  write_file_atomic(dir.file("model.safetensors"), {1, 2, 3});
  CHECK(load_error(dir.path.string()).find("cannot load '" + dir.file("model.safetensors") + "'") !=
        std::string::npos);
  write_file_atomic(dir.file("config.json"), {'{', 'x'});
  CHECK_THROWS_WITH_AS(read_hf_checkpoint(dir.path.string()), doctest::Contains("is not valid JSON"), Error);
}
