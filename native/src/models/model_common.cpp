#include "models/model_common.hpp"

#include <algorithm>
#include <set>

#include "tinylm/error.hpp"

namespace tinylm {

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

void load_parameters(Parameters& params, const SafetensorsFile& file) {
  std::set<std::string> expected;
  for (const TensorSpec& spec : params.table.tensors()) {
    expected.insert(spec.name);
    const SafetensorsEntry* entry = file.find(spec.name);
    check(entry != nullptr, "model file is missing tensor '", spec.name, "' (expected shape ",
          shape_string(spec.shape), ")");
    check(entry->shape == spec.shape, "tensor '", spec.name, "' has shape ", shape_string(entry->shape),
          " but the config implies ", shape_string(spec.shape));
    const std::vector<float> values = file.read_f32(*entry);
    std::copy(values.begin(), values.end(), params.values.begin() + spec.offset);
  }
  for (const SafetensorsEntry& entry : file.tensors) {
    check(expected.count(entry.name) > 0, "model file has tensor '", entry.name,
          "' that this architecture does not use (wrong arch in the config?)");
  }
}

std::vector<TensorToWrite> parameters_to_write(const Parameters& params) {
  std::vector<TensorToWrite> tensors;
  for (const TensorSpec& spec : params.table.tensors())
    tensors.push_back({spec.name, spec.shape, params.values.data() + spec.offset, DType::F32});
  return tensors;
}

}  // namespace tinylm
