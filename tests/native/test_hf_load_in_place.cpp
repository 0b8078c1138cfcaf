// Hugging Face weights moved into place a part at a time (io/hf_checkpoint.cpp's store_in_place, through
// SafetensorsFileReader's ranged read_f32): a float parameter read straight into the parameter block, a compact one
// a block of rows at a time, and GPT-2's Conv1D weights, stored transposed, a band of stored columns at a time
// (HfWeightReader::read_f32_columns). The model holds the same bits as when every tensor is converted whole (and
// transposed whole) and stored at once (store_parameter), for each stored dtype and each residency, with a tensor
// larger than one block.
#include <doctest/doctest.h>

#include <filesystem>

#include "io/hf_checkpoint.hpp"
#include "io/hf_files.hpp"
#include "io/safetensors.hpp"
#include "layer_gradient_check.hpp"
#include "models/gpt.hpp"
#include "models/model_common.hpp"
#include "temp_dir.hpp"
#include "tinylm/error.hpp"

using namespace tinylm;
using namespace tinylm::testing;
namespace fs = std::filesystem;

namespace {

// A Llama of V 700, C 512 (2 heads of 256 over 1 key/value head), hidden 12, 1 layer, tied: its embedding
// (700 × 512 = 358400 floats) spans two of the loader's 1 MB blocks of rows (512 rows, then 188), and q, k, v are
// stacked into one compact matrix, so blocks also start at a stacked tensor's first row.
constexpr int kVocab = 700, kWidth = 512, kHidden = 12;

void write_folder(const TempDir& folder, DType dtype) {
  const nlohmann::json config = {{"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"},
                                 {"vocab_size", kVocab}, {"hidden_size", kWidth}, {"intermediate_size", kHidden},
                                 {"num_hidden_layers", 1}, {"num_attention_heads", 2}, {"num_key_value_heads", 1},
                                 {"max_position_embeddings", 64}, {"rms_norm_eps", 1e-5},
                                 {"tie_word_embeddings", true}};
  const std::string text = config.dump();
  write_file_atomic(folder.file("config.json"), std::vector<uint8_t>(text.begin(), text.end()));
  const std::vector<std::pair<std::string, Shape>> shapes = {
      {"model.embed_tokens.weight", {kVocab, kWidth}},
      {"model.layers.0.input_layernorm.weight", {kWidth}},
      {"model.layers.0.self_attn.q_proj.weight", {kWidth, kWidth}},
      {"model.layers.0.self_attn.k_proj.weight", {kWidth / 2, kWidth}},
      {"model.layers.0.self_attn.v_proj.weight", {kWidth / 2, kWidth}},
      {"model.layers.0.self_attn.o_proj.weight", {kWidth, kWidth}},
      {"model.layers.0.post_attention_layernorm.weight", {kWidth}},
      {"model.layers.0.mlp.gate_proj.weight", {kHidden, kWidth}},
      {"model.layers.0.mlp.up_proj.weight", {kHidden, kWidth}},
      {"model.layers.0.mlp.down_proj.weight", {kWidth, kHidden}},
      {"model.norm.weight", {kWidth}},
  };
  Rng rng(11);
  std::vector<std::vector<float>> values;
  std::vector<TensorToWrite> tensors;
  for (const auto& [name, shape] : shapes) values.push_back(random_values(size_t(shape_numel(shape)), rng, 0.1f));
  for (size_t i = 0; i < shapes.size(); ++i) {
    tensors.push_back({shapes[i].first, shapes[i].second, values[i].data(), dtype});
  }
  write_file_atomic(folder.file("model.safetensors"), serialize_safetensors(tensors, {{"format", "pt"}}));
}

// The model's parameters filled the old way: each tensor converted whole from the file in memory and stored at once.
Parameters stored_whole(const ParameterTable& table, const std::string& weights_path) {
  const std::vector<uint8_t> bytes = read_file_bytes(weights_path);
  const SafetensorsFile file = parse_safetensors(bytes.data(), bytes.size());
  Parameters params;
  params.table = table;
  params.allocate();
  for (const TensorSpec& spec : table.tensors()) {
    store_parameter(params, spec, file.read_f32(*file.find(spec.name)).data());
  }
  return params;
}

// Both parameter sets hold the same compact matrices: the same floats, and for int8 the same bytes and row scales.
void check_same_compact(const Parameters& loaded, const Parameters& whole, Residency residency) {
  REQUIRE(loaded.compact.count() == whole.compact.count());
  for (size_t slot = 0; slot < loaded.compact.count(); ++slot) {
    const MatrixView view = loaded.compact.view(slot);
    const size_t size = size_t(view.rows) * view.cols;
    std::vector<float> ours(size), theirs(size);
    loaded.compact.to_float(slot, ours.data());
    whole.compact.to_float(slot, theirs.data());
    CHECK(ours == theirs);
    if (residency == Residency::Int8) {
      std::vector<int8_t> our_bytes(size), their_bytes(size);
      loaded.compact.int8_rows(slot, 0, view.rows, our_bytes.data());
      whole.compact.int8_rows(slot, 0, view.rows, their_bytes.data());
      CHECK(our_bytes == their_bytes);
      CHECK(std::equal(view.scales, view.scales + view.rows, whole.compact.view(slot).scales));
    }
  }
}

}  // namespace

TEST_CASE("hf checkpoint: tensors stream into place a block of rows at a time, the same bits as stored whole") {
  for (DType dtype : {DType::F32, DType::F16, DType::BF16}) {
    TempDir folder("tinylm-hf-place");
    write_folder(folder, dtype);
    for (Residency residency : {Residency::Float, Residency::F16, Residency::Int8}) {
      CAPTURE(dtype_name(dtype));
      CAPTURE(int(residency));
      HfLoadOptions options;
      options.residency = residency;
      const auto model = load_hf_network(read_hf_checkpoint(folder.path.string()), options);
      const Parameters& loaded = model->parameters();
      const Parameters whole = stored_whole(loaded.table, folder.file("model.safetensors"));
      CHECK(loaded.values == whole.values);
      CHECK(loaded.compact.count() == (residency == Residency::Float ? 0u : 5u));  // embedding, qkv, o, gate+up, down
      check_same_compact(loaded, whole, residency);
    }
  }
}

TEST_CASE("safetensors: a reader's range of a tensor's values is that range of the whole, in every float dtype") {
  TempDir folder("tinylm-hf-place");
  Rng rng(12);
  const std::vector<float> values = random_values(70000, rng);  // F16 and BF16 convert 32768 values at a time
  for (DType dtype : {DType::F32, DType::F16, DType::BF16}) {
    CAPTURE(dtype_name(dtype));
    const std::string path = folder.file(std::string("t_") + dtype_name(dtype) + ".safetensors");
    write_file_atomic(path, serialize_safetensors({{"before", {3}, values.data(), dtype},
                                                   {"m", {700, 100}, values.data(), dtype}}, {}));
    SafetensorsFileReader reader(path);
    const SafetensorsEntry& entry = *reader.header().find("m");
    const std::vector<float> all = reader.read_f32(entry);
    REQUIRE(all.size() == 70000);
    for (const auto& [first, count] : std::vector<std::pair<uint64_t, uint64_t>>{
             {0, 70000}, {0, 1}, {1, 32768}, {100, 40000}, {69999, 1}, {70000, 0}}) {
      std::vector<float> part(count + 1, -7.0f);  // a sentinel past the range
      reader.read_f32(entry, first, count, part.data());
      CHECK(std::equal(part.begin(), part.begin() + count, all.begin() + first));
      CHECK(part[count] == -7.0f);
    }
    std::vector<float> out(2);
    CHECK_THROWS_WITH_AS(reader.read_f32(entry, 69999, 2, out.data()), doctest::Contains("are not in tensor 'm'"),
                         Error);
  }
}

TEST_CASE("safetensors: a band of a matrix's columns is those columns of the whole, in every float dtype") {
  TempDir folder("tinylm-hf-place");
  Rng rng(15);
  const std::vector<float> values = random_values(300 * 70, rng);
  for (DType dtype : {DType::F32, DType::F16, DType::BF16}) {
    CAPTURE(dtype_name(dtype));
    const std::string path = folder.file(std::string("c_") + dtype_name(dtype) + ".safetensors");
    write_file_atomic(path, serialize_safetensors({{"before", {3}, values.data(), dtype},
                                                   {"m", {300, 70}, values.data(), dtype}}, {}));
    HfWeightReader reader(open_file_source(path));
    const SafetensorsEntry& entry = *reader.header().find("m");
    const std::vector<float> all = reader.read_f32(entry);
    for (const auto& [first, count] : std::vector<std::pair<uint64_t, uint64_t>>{{0, 70}, {0, 1}, {13, 20}, {69, 1}}) {
      std::vector<float> band(300 * count + 1, -7.0f);  // a sentinel past the band
      reader.read_f32_columns(entry, first, count, band.data());
      for (uint64_t r = 0; r < 300; ++r) {
        CHECK(std::equal(band.begin() + r * count, band.begin() + (r + 1) * count, all.begin() + r * 70 + first));
      }
      CHECK(band.back() == -7.0f);
    }
    std::vector<float> out(600);
    CHECK_THROWS_WITH_AS(reader.read_f32_columns(entry, 69, 2, out.data()), doctest::Contains("are not in tensor 'm'"),
                         Error);
  }
}

TEST_CASE("hf checkpoint: GPT-2 for a shorter context keeps wpe's first rows and generates the same tokens") {
  TempDir folder("tinylm-hf-place");
  const nlohmann::json config = {{"architectures", {"GPT2LMHeadModel"}}, {"vocab_size", 11}, {"n_positions", 6},
                                 {"n_embd", 8}, {"n_head", 2}, {"n_layer", 1}};
  const std::string text = config.dump();
  write_file_atomic(folder.file("config.json"), std::vector<uint8_t>(text.begin(), text.end()));
  const std::vector<std::pair<std::string, Shape>> shapes = {
      {"wte.weight", {11, 8}},          {"wpe.weight", {6, 8}},          {"h.0.ln_1.weight", {8}},
      {"h.0.ln_1.bias", {8}},           {"h.0.attn.bias", {1, 1, 6, 6}}, {"h.0.attn.c_attn.weight", {8, 24}},
      {"h.0.attn.c_attn.bias", {24}},   {"h.0.attn.c_proj.weight", {8, 8}}, {"h.0.attn.c_proj.bias", {8}},
      {"h.0.ln_2.weight", {8}},         {"h.0.ln_2.bias", {8}},          {"h.0.mlp.c_fc.weight", {8, 32}},
      {"h.0.mlp.c_fc.bias", {32}},      {"h.0.mlp.c_proj.weight", {32, 8}}, {"h.0.mlp.c_proj.bias", {8}},
      {"ln_f.weight", {8}},             {"ln_f.bias", {8}}};
  Rng rng(13);
  std::vector<std::vector<float>> values;
  std::vector<TensorToWrite> tensors;
  for (const auto& [name, shape] : shapes) values.push_back(random_values(size_t(shape_numel(shape)), rng));
  for (size_t i = 0; i < shapes.size(); ++i) tensors.push_back({shapes[i].first, shapes[i].second, values[i].data()});
  write_file_atomic(folder.file("model.safetensors"), serialize_safetensors(tensors, {{"format", "pt"}}));
  const HfCheckpoint checkpoint = read_hf_checkpoint(folder.path.string());
  for (Residency residency : {Residency::Float, Residency::Int8}) {
    CAPTURE(int(residency));
    HfLoadOptions options;
    options.residency = residency;
    const auto whole = load_hf_network(checkpoint, options);
    options.max_context = 4;
    const auto cut = load_hf_network(checkpoint, options);
    CHECK(dynamic_cast<const GptLM&>(*whole).config().context_size == 6);
    CHECK(dynamic_cast<const GptLM&>(*cut).config().context_size == 4);
    if (residency == Residency::Float) {
      const float* wpe = cut->parameters().value("transformer.wpe.weight");
      CHECK(std::equal(wpe, wpe + 4 * 8, values[1].begin()));
    }
    // Four steps fill the shorter window: the same positions, the same logits.
    for (int32_t token : {3, 7, 1, 9}) {
      const float* expected = whole->step(token);
      const std::vector<float> reference(expected, expected + 11);
      CHECK(relative_error(cut->step(token), reference.data(), 11) <= 1e-6);
    }
  }
  HfLoadOptions longer;
  longer.max_context = 100;  // more than the table has: the table's 6
  CHECK(dynamic_cast<const GptLM&>(*load_hf_network(checkpoint, longer)).config().context_size == 6);
}

TEST_CASE("hf checkpoint: GPT-2's Conv1D weights transpose into place a block of rows at a time, the same bits") {
  // C 320: c_attn (960 × 320), c_fc (1280 × 320) and mlp.c_proj (320 × 1280) each span two of the loader's 1 MB
  // blocks of rows, so a block's band of stored columns starts inside the stored rows too.
  constexpr int kC = 320;
  const nlohmann::json config = {{"architectures", {"GPT2LMHeadModel"}}, {"vocab_size", 11}, {"n_positions", 4},
                                 {"n_embd", kC}, {"n_head", 2}, {"n_layer", 1}};
  const std::vector<std::pair<std::string, Shape>> shapes = {
      {"wte.weight", {11, kC}},          {"wpe.weight", {4, kC}},           {"h.0.ln_1.weight", {kC}},
      {"h.0.ln_1.bias", {kC}},           {"h.0.attn.c_attn.weight", {kC, 3 * kC}},
      {"h.0.attn.c_attn.bias", {3 * kC}}, {"h.0.attn.c_proj.weight", {kC, kC}}, {"h.0.attn.c_proj.bias", {kC}},
      {"h.0.ln_2.weight", {kC}},         {"h.0.ln_2.bias", {kC}},           {"h.0.mlp.c_fc.weight", {kC, 4 * kC}},
      {"h.0.mlp.c_fc.bias", {4 * kC}},   {"h.0.mlp.c_proj.weight", {4 * kC, kC}}, {"h.0.mlp.c_proj.bias", {kC}},
      {"ln_f.weight", {kC}},             {"ln_f.bias", {kC}}};
  Rng rng(14);
  std::vector<std::vector<float>> values;
  for (const auto& [name, shape] : shapes) values.push_back(random_values(size_t(shape_numel(shape)), rng, 0.1f));
  for (DType dtype : {DType::F32, DType::F16, DType::BF16}) {
    TempDir folder("tinylm-hf-place");
    const std::string text = config.dump();
    write_file_atomic(folder.file("config.json"), std::vector<uint8_t>(text.begin(), text.end()));
    std::vector<TensorToWrite> tensors;
    for (size_t i = 0; i < shapes.size(); ++i) {
      tensors.push_back({"transformer." + shapes[i].first, shapes[i].second, values[i].data(), dtype});
    }
    write_file_atomic(folder.file("model.safetensors"), serialize_safetensors(tensors, {{"format", "pt"}}));
    for (Residency residency : {Residency::Float, Residency::F16, Residency::Int8}) {
      CAPTURE(dtype_name(dtype));
      CAPTURE(int(residency));
      HfLoadOptions options;
      options.residency = residency;
      const auto model = load_hf_network(read_hf_checkpoint(folder.path.string()), options);
      const Parameters& loaded = model->parameters();
      // The old way: each tensor converted whole, a Conv1D weight transposed whole, and stored at once.
      const std::vector<uint8_t> bytes = read_file_bytes(folder.file("model.safetensors"));
      const SafetensorsFile file = parse_safetensors(bytes.data(), bytes.size());
      Parameters whole;
      whole.table = loaded.table;
      whole.allocate();
      for (const TensorSpec& spec : whole.table.tensors()) {
        std::vector<float> stored = file.read_f32(*file.find(spec.name));
        const bool conv1d = spec.shape.size() == 2 && (spec.name.find(".attn.c_") != std::string::npos ||
                                                       spec.name.find(".mlp.c_") != std::string::npos);
        if (conv1d) {
          const int64_t rows = spec.shape[0], cols = spec.shape[1];
          std::vector<float> transposed(stored.size());
          for (int64_t c = 0; c < cols; ++c)
            for (int64_t r = 0; r < rows; ++r) transposed[r * cols + c] = stored[c * rows + r];
          stored = std::move(transposed);
        }
        store_parameter(whole, spec, stored.data());
      }
      CHECK(loaded.values == whole.values);
      check_same_compact(loaded, whole, residency);
    }
  }
}
