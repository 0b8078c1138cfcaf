// What every trainable architecture shares: size limits, config-field parsing with helpful errors, token-id
// validation, and moving a parameter block to and from safetensors tensors.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/safetensors.hpp"
#include "tensor.hpp"

namespace tinylm {

// Generous for a browser engine, small enough that a corrupt config cannot ask for terabytes.
constexpr int kMaxVocab = 1 << 20;
constexpr int kMaxWidth = 1 << 14;
constexpr int kMaxLayers = 64;
constexpr int kMaxContext = 1 << 16;

// check_dimension("hidden_size", 256, kMaxWidth): 1 ≤ value ≤ limit, else Error "config: hidden_size ...".
void check_dimension(const char* field, int64_t value, int64_t limit);

// Typed config fields; Error names the missing or mistyped field.
std::string json_string_field(const nlohmann::json& json, const char* field);
int json_int_field(const nlohmann::json& json, const char* field);
float json_float_field(const nlohmann::json& json, const char* field);
bool json_bool_field(const nlohmann::json& json, const char* field);

// Every id in [0, V) (targets may also be negative = ignored); Error names the role, position and value.
void check_token_ids(const int32_t* ids, int64_t count, int vocab_size, const char* role);

// Copies every tensor of the table from the file (F32 or F16), after checking that each is present with the
// table's shape and that the file holds no tensor the model does not know.
void load_parameters(Parameters& params, const SafetensorsFile& file);
// The table's tensors as F32 views into params.values.
std::vector<TensorToWrite> parameters_to_write(const Parameters& params);

}  // namespace tinylm
