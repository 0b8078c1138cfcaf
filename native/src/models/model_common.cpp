#include "models/model_common.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

#include "kernels/kernels.hpp"
#include "tinylm/error.hpp"

namespace tinylm {

EvalStats EvalTally::stats() const {
  EvalStats stats;
  stats.tokens = count_;
  if (count_ > 0) {
    stats.loss = loss_sum_ / double(count_);
    stats.accuracy = double(correct_) / double(count_);
  }
  stats.perplexity = std::exp(stats.loss);
  return stats;
}

namespace {
// The default Evaluation: the model's own evaluate(), in one chunk.
class WholeEvaluation : public Evaluation {
 public:
  WholeEvaluation(LanguageModel& model, std::vector<int32_t> tokens) : model_(model), tokens_(std::move(tokens)) {}
  bool advance(int64_t) override {
    if (!done_) stats_ = model_.evaluate(tokens_);
    done_ = true;
    return false;
  }
  EvalStats stats() const override { return stats_; }
  double progress() const override { return done_ ? 1.0 : 0.0; }

 private:
  LanguageModel& model_;
  std::vector<int32_t> tokens_;
  EvalStats stats_ = EvalTally().stats();
  bool done_ = false;
};
}  // namespace

void TrainableModel::set_linear_adapter(LinearAdapter* adapter) {
  check(adapter == nullptr, "a '", arch(), "' model takes no adapters: LoRA applies to GPT and Llama models");
}

void TrainableModel::set_frozen(bool frozen) {
  if (frozen) {
    check(!linear_modules().empty(), "a '", arch(), "' model cannot be frozen: only GPT and Llama models train adapters");
    std::vector<float>().swap(parameters().grads);  // released, not just emptied
  }
  frozen_ = frozen;
}

std::unique_ptr<Evaluation> LanguageModel::start_evaluation(std::vector<int32_t> tokens) {
  return std::make_unique<WholeEvaluation>(*this, std::move(tokens));
}

EvalStats run_to_end(Evaluation& evaluation) {
  while (evaluation.advance(INT64_MAX)) {
  }
  return evaluation.stats();
}

const float* LanguageModel::prefill(const int32_t* tokens, int n) {
  check(n >= 1, "prefill needs at least one token, got ", n);
  const float* logits = nullptr;
  for (int i = 0; i < n; ++i) logits = step(tokens[i]);
  return logits;
}

void LanguageModel::save_state(GenerationState* state) const {
  fail("a '", arch(), "' model cannot copy its generation state (beam search and sessions need it)");
}

void LanguageModel::load_state(const GenerationState& state) {
  fail("a '", arch(), "' model cannot load a generation state (beam search and sessions need it)");
}

void check_dimension(const char* field, int64_t value, int64_t limit) {
  check(value >= 1 && value <= limit, "config: ", field, " must be between 1 and ", limit, ", got ", value);
}

namespace {
const nlohmann::json& field_of(const nlohmann::json& json, const char* field) {
  check(json.is_object(), "config: expected a JSON object, got ", json.type_name());
  auto it = json.find(field);
  check(it != json.end(), "config: missing field '", field, "'");
  return *it;
}
}  // namespace

std::string json_string_field(const nlohmann::json& json, const char* field) {
  const nlohmann::json& value = field_of(json, field);
  check(value.is_string(), "config: field '", field, "' must be a string, got ", value.dump());
  return value.get<std::string>();
}

int json_int_field(const nlohmann::json& json, const char* field) {
  const nlohmann::json& value = field_of(json, field);
  check(value.is_number_integer(), "config: field '", field, "' must be an integer, got ", value.dump());
  const int64_t number = value.get<int64_t>();
  check(number >= INT32_MIN && number <= INT32_MAX, "config: field '", field, "' is out of range: ", number);
  return static_cast<int>(number);
}

float json_float_field(const nlohmann::json& json, const char* field) {
  const nlohmann::json& value = field_of(json, field);
  check(value.is_number(), "config: field '", field, "' must be a number, got ", value.dump());
  return value.get<float>();
}

bool json_bool_field(const nlohmann::json& json, const char* field) {
  const nlohmann::json& value = field_of(json, field);
  check(value.is_boolean(), "config: field '", field, "' must be true or false, got ", value.dump());
  return value.get<bool>();
}

void check_token_ids(const int32_t* ids, int64_t count, int vocab_size, const char* role) {
  const bool allow_ignored = std::string(role) == "target";
  for (int64_t i = 0; i < count; ++i) {
    const int32_t id = ids[i];
    if (id < vocab_size && (id >= 0 || (allow_ignored && id < 0))) continue;
    fail(role, " token id ", id, " at position ", i, " is outside the vocabulary [0, ", vocab_size, ")");
  }
}

namespace {
constexpr const char* kScaleSuffix = ".scale";

// The structure of an I8 tensor `entry` (rows, cols): 2-D, with an F32 "<name>.scale" of shape (rows).
void check_int8_structure(const SafetensorsEntry& entry, const SafetensorsFile& file) {
  const std::string scale_name = entry.name + kScaleSuffix;
  check(entry.shape.size() == 2, "tensor '", entry.name, "' is I8 with shape ", shape_string(entry.shape),
        ": only 2-D matrices (rows, cols) may be stored as int8");
  const SafetensorsEntry* scale_entry = file.find(scale_name);
  check(scale_entry != nullptr, "tensor '", entry.name, "' is I8 but the file has no '", scale_name,
        "' tensor holding its per-row scales (F32, shape [", entry.shape[0], "])");
  check(scale_entry->dtype == DType::F32, "tensor '", scale_name, "' must be F32, got ",
        dtype_name(scale_entry->dtype));
  check(scale_entry->shape == Shape{entry.shape[0]}, "tensor '", scale_name, "' has shape ",
        shape_string(scale_entry->shape), " but '", entry.name, "' has ", entry.shape[0], " rows: expected [",
        entry.shape[0], "]");
}

// The F32 per-row scales of the I8 tensor `entry`, each checked finite and non-negative.
std::vector<float> int8_scales(const SafetensorsEntry& entry, const SafetensorsFile& file) {
  check_int8_structure(entry, file);
  const std::string scale_name = entry.name + kScaleSuffix;
  std::vector<float> scales = file.read_f32(*file.find(scale_name));
  for (size_t row = 0; row < scales.size(); ++row) {
    check(std::isfinite(scales[row]) && scales[row] >= 0.0f, "tensor '", scale_name, "' row ", row,
          " holds scale ", scales[row], ": scales must be finite and non-negative");
  }
  return scales;
}

// Rows [first_row, first_row + rows) of the I8 tensor `entry` (rows, cols), dequantised with its scales into out,
// read where the file holds them.
void dequantise_rows(float* out, const SafetensorsEntry& entry, const SafetensorsFile& file,
                     const std::vector<float>& scales, int64_t first_row, int64_t rows) {
  const int64_t cols = entry.shape[1];
  const int8_t* quantised = file.i8_values(entry) + first_row * cols;
  for (int64_t row = 0; row < rows; ++row) {
    const float scale = scales[size_t(first_row + row)];
    for (int64_t col = 0; col < cols; ++col) out[row * cols + col] = scale * float(quantised[row * cols + col]);
  }
}

bool is_scale_name(const std::string& name) {
  const size_t suffix_length = std::char_traits<char>::length(kScaleSuffix);
  return name.size() > suffix_length && name.compare(name.size() - suffix_length, suffix_length, kScaleSuffix) == 0;
}
}  // namespace

void check_stored_tensor(const SafetensorsFile& file, const SafetensorsEntry& entry, const Shape& shape,
                         std::set<std::string>* known) {
  check(entry.shape == shape, "tensor '", entry.name, "' has shape ", shape_string(entry.shape),
        " but the config implies ", shape_string(shape));
  known->insert(entry.name);
  if (entry.dtype != DType::I8) return;
  check_int8_structure(entry, file);
  known->insert(entry.name + kScaleSuffix);
}

void check_no_unknown_tensors(const SafetensorsFile& file, const std::set<std::string>& known) {
  for (const SafetensorsEntry& entry : file.tensors) {
    check(known.count(entry.name) > 0, "model file has tensor '", entry.name, "' that this architecture ",
          is_scale_name(entry.name) ? "does not use (a '.scale' tensor belongs to an I8 tensor of the same name, "
                                      "which is not I8 or not in this file)"
                                    : "does not use (wrong arch in the config?)");
  }
}

std::vector<float> read_tensor_as_float(const SafetensorsFile& file, const SafetensorsEntry& entry) {
  if (entry.dtype != DType::I8) return file.read_f32(entry);
  const std::vector<float> scales = int8_scales(entry, file);
  std::vector<float> values(static_cast<size_t>(shape_numel(entry.shape)));
  dequantise_rows(values.data(), entry, file, scales, 0, entry.shape[0]);
  return values;
}

void check_parameters_in_file(const ParameterTable& table, const SafetensorsFile& file) {
  std::set<std::string> known;
  for (const TensorSpec& spec : table.tensors()) {
    const SafetensorsEntry* entry = file.find(spec.name);
    check(entry != nullptr, "model file is missing tensor '", spec.name, "' (expected shape ",
          shape_string(spec.shape), ")");
    check_stored_tensor(file, *entry, spec.shape, &known);
  }
  check_no_unknown_tensors(file, known);
}

namespace {
// Rows [first_row, first_row + rows) of a compact tensor (rows of its matrix slot from spec.first_row on).
void store_compact_rows(Parameters& params, const TensorSpec& spec, int64_t first_row, int64_t rows,
                        const float* values) {
  check(params.compact.set_rows(spec.offset, int(spec.first_row + first_row), int(rows), values), "tensor '",
        spec.name, "' has a value that ", compact_kind_name(params.compact.kind()), " cannot hold (",
        params.compact.kind() == CompactKind::F16 ? "beyond ±65504 or not finite" : "not finite",
        "): load the model with float weights");
}
}  // namespace

void store_parameter(Parameters& params, const TensorSpec& spec, const float* values) {
  if (!spec.compact) {
    std::copy(values, values + shape_numel(spec.shape), params.values.begin() + spec.offset);
    return;
  }
  store_compact_rows(params, spec, 0, spec.shape[0], values);
}

std::map<std::string, DType> read_parameters(Parameters& params, const SafetensorsFile& file) {
  check(params.values.empty() && params.values.capacity() >= params.table.size(),
        "read_parameters: the parameter block is not allocated for appending (Parameters::Fill::Appended)");
  // A block of rows at a time through this buffer: float tensors are appended to the block, compact ones rounded
  // into their matrices, and no tensor is copied whole beside the model.
  constexpr int64_t kBlockFloats = 16384;
  std::vector<float> block;
  std::map<std::string, DType> stored;
  for (const TensorSpec& spec : params.table.tensors()) {
    const SafetensorsEntry& entry = *file.find(spec.name);
    stored[spec.name] = entry.dtype;
    // A 1-D tensor is one row; a matrix (rows, cols) moves whole rows.
    const int64_t rows = spec.shape.size() == 2 ? spec.shape[0] : 1;
    const int64_t cols = rows == 0 ? 0 : shape_numel(spec.shape) / rows;
    const int64_t rows_per_block = std::max<int64_t>(1, kBlockFloats / std::max<int64_t>(cols, 1));
    const std::vector<float> scales = entry.dtype == DType::I8 ? int8_scales(entry, file) : std::vector<float>();
    check(spec.compact || spec.offset == params.values.size(), "read_parameters: tensor '", spec.name,
          "' is not next in the parameter block");
    for (int64_t first = 0; first < rows; first += rows_per_block) {
      const int64_t n = std::min(rows_per_block, rows - first);
      block.resize(size_t(n * cols));
      if (entry.dtype == DType::I8) dequantise_rows(block.data(), entry, file, scales, first, n);
      else file.read_f32(entry, uint64_t(first * cols), uint64_t(n * cols), block.data());
      if (spec.compact) store_compact_rows(params, spec, first, n, block.data());
      else params.values.insert(params.values.end(), block.begin(), block.end());
    }
  }
  check(params.values.size() == params.table.size(), "read_parameters: the file filled ", params.values.size(),
        " of the block's ", params.table.size(), " values");
  return stored;
}

std::map<std::string, DType> load_parameters(Parameters& params, const SafetensorsFile& file) {
  check_parameters_in_file(params.table, file);
  return read_parameters(params, file);
}

std::vector<TensorToWrite> parameters_to_write(const Parameters& params) {
  check(!params.table.holds_compact(), "this model holds its matrices as ",
        compact_kind_name(params.table.compact_kind()),
        " for generation and evaluation only: load it with float weights to save, export or train it");
  std::vector<TensorToWrite> tensors;
  for (const TensorSpec& spec : params.table.tensors())
    tensors.push_back({spec.name, spec.shape, params.values.data() + spec.offset, DType::F32});
  return tensors;
}

StoredTensors tensors_for_storage(const std::vector<TensorToWrite>& tensors, WeightStorage storage) {
  StoredTensors stored;
  stored.int8_copies.reserve(tensors.size());
  stored.scale_copies.reserve(tensors.size());
  for (const TensorToWrite& tensor : tensors) {
    const bool matrix = tensor.shape.size() == 2 && tensor.dtype == DType::F32;
    if (!matrix || storage == WeightStorage::F32) {
      stored.tensors.push_back(tensor);
      continue;
    }
    const int64_t count = shape_numel(tensor.shape);
    if (storage == WeightStorage::F16) {
      // Half holds |w| ≤ 65504; a tensor beyond that keeps its float values rather than turning into infinities.
      const bool fits = std::all_of(tensor.values, tensor.values + count,
                                    [](float value) { return std::fabs(value) <= 65504.0f; });
      stored.tensors.push_back({tensor.name, tensor.shape, tensor.values, fits ? DType::F16 : DType::F32});
      continue;
    }
    const int rows = static_cast<int>(tensor.shape[0]), cols = static_cast<int>(tensor.shape[1]);
    std::vector<int8_t>& quantised = stored.int8_copies.emplace_back(count);
    std::vector<float>& scales = stored.scale_copies.emplace_back(rows);
    check(quantize_rows_int8(quantised.data(), scales.data(), tensor.values, rows, cols), "tensor '", tensor.name,
          "' holds a non-finite value: it cannot be quantised to int8");
    TensorToWrite weights{tensor.name, tensor.shape, nullptr, DType::I8};
    weights.int8_values = quantised.data();
    stored.tensors.push_back(weights);
    stored.tensors.push_back({tensor.name + kScaleSuffix, Shape{rows}, scales.data(), DType::F32});
  }
  return stored;
}

}  // namespace tinylm
