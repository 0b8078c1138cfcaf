// Loading a model file writes each weight where the model holds it a block of rows at a time (read_parameters),
// without zeroing the block first or copying a tensor whole beside it. These cases pin down that what lands is,
// bit for bit, what the file holds: F32 as stored, F16 widened, int8 as scale[row]·q (computed here from the raw
// bytes), for an LSTM, a GPT and a Llama stored as F32, F16 and int8; and, for the compact residencies, the same
// bytes and scales a whole-tensor CompactMatrices::set_rows of those values gives. The widths are chosen so that
// several matrices span more than one block (16384 floats) and end in a partial one.
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "compact_matrices.hpp"
#include "half.hpp"
#include "io/safetensors.hpp"
#include "kernels/kernels.hpp"
#include "models/gpt.hpp"
#include "models/llama.hpp"
#include "models/model_common.hpp"
#include "models/recurrent_lm.hpp"
#include "tinylm/error.hpp"
#include "tinylm/model.hpp"
#include "tinylm/rng.hpp"

using namespace tinylm;

namespace {

const char* const kText = "call me ishmael. some years ago, never mind how long precisely, having little money";

Model lstm_model() {
  Model model;
  model.tokenizer = fit_char_tokenizer(kText);
  RecurrentConfig config;
  config.vocab_size = model.tokenizer->vocab_size();
  config.embed_size = 24;
  config.hidden_size = 72;  // weight_hh (288, 72): two blocks, the second partial
  config.num_layers = 2;
  auto network = std::make_unique<RecurrentLM>(config);
  Rng rng(5);
  network->initialize(rng);
  model.network = std::move(network);
  return model;
}

Model gpt_model() {
  Model model;
  model.tokenizer = fit_char_tokenizer(kText);
  GptConfig config;
  config.vocab_size = model.tokenizer->vocab_size();
  config.context_size = 16;
  config.embed_size = 72;  // c_fc (288, 72) and c_attn (216, 72): more than a block each
  config.num_layers = 2;
  config.num_heads = 2;
  auto network = std::make_unique<GptLM>(config);
  Rng rng(7);
  network->initialize(rng);
  model.network = std::move(network);
  return model;
}

Model llama_model() {
  Model model;
  model.tokenizer = fit_char_tokenizer(kText);
  LlamaConfig config;
  config.vocab_size = model.tokenizer->vocab_size();
  config.context_size = 8;
  config.hidden_size = 64;
  config.intermediate_size = 300;  // gate/up (300, 64), down (64, 300): more than a block each
  config.num_layers = 2;
  config.num_heads = 4;
  config.num_kv_heads = 2;
  config.head_size = 16;
  config.tie_embeddings = false;
  auto network = std::make_unique<LlamaLM>(config);
  Rng rng(9);
  network->initialize(rng);
  model.network = std::move(network);
  return model;
}

// A tensor's values as the file holds them, decoded here on their own: F32 bytes, F16 widened, I8 times its row's
// scale.
std::vector<float> stored_values(const SafetensorsFile& file, const std::string& name) {
  const SafetensorsEntry& entry = *file.find(name);
  const size_t count = size_t(shape_numel(entry.shape));
  const uint8_t* bytes = file.data.data() + entry.begin;
  std::vector<float> values(count);
  if (entry.dtype == DType::F32) {
    std::memcpy(values.data(), bytes, count * sizeof(float));
  } else if (entry.dtype == DType::F16) {
    for (size_t i = 0; i < count; ++i) {
      uint16_t bits;
      std::memcpy(&bits, bytes + 2 * i, sizeof bits);
      values[i] = half_to_float(bits);
    }
  } else {
    REQUIRE(entry.dtype == DType::I8);
    const SafetensorsEntry& scale_entry = *file.find(name + ".scale");
    const size_t cols = size_t(entry.shape[1]);
    for (size_t i = 0; i < count; ++i) {
      float scale;
      std::memcpy(&scale, file.data.data() + scale_entry.begin + (i / cols) * sizeof(float), sizeof scale);
      values[i] = scale * float(static_cast<int8_t>(bytes[i]));
    }
  }
  return values;
}

bool same_bits(const void* a, const void* b, size_t bytes) { return bytes == 0 || std::memcmp(a, b, bytes) == 0; }

// Every tensor of the loaded model's table holds the file's values bit for bit: float ones in the block, compact
// ones in the same bytes (and scales) a whole-tensor set_rows of those values gives.
void check_loaded_exactly(const SafetensorsFile& file, Parameters& params) {
  CHECK(params.values.size() == params.table.size());
  CompactMatrices expected_compact(params.table.compact_kind());
  for (const ParameterTable::MatrixShape& shape : params.table.compact_shapes()) expected_compact.add(shape.rows, shape.cols);
  expected_compact.allocate();
  for (const TensorSpec& spec : params.table.tensors()) {
    CAPTURE(spec.name);
    const std::vector<float> expected = stored_values(file, spec.name);
    if (spec.compact) {
      REQUIRE(expected_compact.set_rows(spec.offset, int(spec.first_row), int(spec.shape[0]), expected.data()));
      continue;
    }
    CHECK(same_bits(params.values.data() + spec.offset, expected.data(), expected.size() * sizeof(float)));
  }
  for (size_t slot = 0; slot < expected_compact.count(); ++slot) {
    CAPTURE(slot);
    const MatrixView loaded = params.compact.view(slot), expected = expected_compact.view(slot);
    if (params.table.compact_kind() == CompactKind::F16) {
      CHECK(same_bits(loaded.f16_panels, expected.f16_panels,
                      size_t(half_panels_size(loaded.rows, loaded.cols)) * sizeof(uint16_t)));
    } else {
      CHECK(same_bits(loaded.int8_panels, expected.int8_panels, size_t(q8_panels_size(loaded.rows, loaded.cols))));
      CHECK(same_bits(loaded.scales, expected.scales, size_t(loaded.rows) * sizeof(float)));
    }
  }
}

void check_every_storage(const Model& model) {
  for (WeightStorage storage : {WeightStorage::F32, WeightStorage::F16, WeightStorage::Int8}) {
    CAPTURE(int(storage));
    const std::vector<uint8_t> bytes = serialize_model(model, storage);
    const SafetensorsFile file = parse_safetensors(bytes.data(), bytes.size());
    Model loaded = load_model_bytes(bytes.data(), bytes.size());
    check_loaded_exactly(file, dynamic_cast<TrainableModel&>(*loaded.network).parameters());
  }
}

}  // namespace

TEST_CASE("model load: an LSTM's weights land as the file holds them, bit for bit, from F32, F16 and int8") {
  check_every_storage(lstm_model());
}

TEST_CASE("model load: a GPT's weights land as the file holds them, bit for bit, in float and compact residency") {
  const Model model = gpt_model();
  check_every_storage(model);
  for (WeightStorage storage : {WeightStorage::F32, WeightStorage::Int8}) {
    const std::vector<uint8_t> bytes = serialize_model(model, storage);
    const SafetensorsFile file = parse_safetensors(bytes.data(), bytes.size());
    for (Residency residency : {Residency::F16, Residency::Int8}) {
      CAPTURE(int(storage));
      CAPTURE(int(residency));
      Model loaded = load_model_bytes(bytes.data(), bytes.size(), residency);
      Parameters& params = dynamic_cast<TrainableModel&>(*loaded.network).parameters();
      CHECK(params.table.holds_compact());
      check_loaded_exactly(file, params);
    }
  }
}

TEST_CASE("model load: a Llama's weights land as the file holds them, bit for bit, in float and compact residency") {
  const Model model = llama_model();
  check_every_storage(model);
  const std::vector<uint8_t> bytes = serialize_model(model, WeightStorage::Int8);
  const SafetensorsFile file = parse_safetensors(bytes.data(), bytes.size());
  Model loaded = load_model_bytes(bytes.data(), bytes.size(), Residency::Int8);
  check_loaded_exactly(file, dynamic_cast<TrainableModel&>(*loaded.network).parameters());
}

TEST_CASE("model load: read_parameters refuses a block that was not allocated for appending") {
  Model model = lstm_model();
  const std::vector<uint8_t> bytes = serialize_model(model);
  const SafetensorsFile file = parse_safetensors(bytes.data(), bytes.size());
  Parameters& params = dynamic_cast<TrainableModel&>(*model.network).parameters();  // allocated with zeros
  CHECK_THROWS_WITH_AS(read_parameters(params, file), doctest::Contains("not allocated for appending"), Error);
}
