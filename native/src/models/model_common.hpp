// What every trainable architecture shares: size limits, config-field parsing with helpful errors, token-id
// validation, and moving a parameter block to and from safetensors tensors (F32, F16, or int8 per-row scaled).
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/safetensors.hpp"
#include "tensor.hpp"
#include "tinylm/model.hpp"

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

// Model files are checked whole before the model allocates: every tensor's presence, shape and dtype against the
// table the config implies (ParameterTable holds names and shapes only), and no tensor the model does not know.
// The safetensors parse already checked each byte range against the file, so after these checks a model's
// allocation is bounded by the file's size.
void check_parameters_in_file(const ParameterTable& table, const SafetensorsFile& file);
// One stored tensor against the shape the config implies; an I8 one also needs its F32 "<name>.scale" (rows).
// Adds the tensor's name (and its scale's) to *known, for check_no_unknown_tensors.
void check_stored_tensor(const SafetensorsFile& file, const SafetensorsEntry& entry, const Shape& shape,
                         std::set<std::string>* known);
void check_no_unknown_tensors(const SafetensorsFile& file, const std::set<std::string>& known);

// Stores a tensor's values (shape_numel(spec.shape) floats) where the model holds it: the float block, or its
// compact matrices (rounded to half or quantised per row); Error naming the tensor if the compact form cannot
// hold a value.
void store_parameter(Parameters& params, const TensorSpec& spec, const float* values);
// Copies every tensor of the table from the file, after checking that each is present with the table's shape
// and that the file holds no tensor the model does not know (check_parameters_in_file, then read_parameters).
// F32, F16 and BF16 tensors are read as they are; a 2-D I8 tensor (rows, cols) is dequantised with its companion
// F32 tensor "<name>.scale" (rows): w = scale[row]·q. Returns the dtype each table tensor was stored in, so a model
// loaded from int8 can generate from int8. params must be allocated with Parameters::Fill::Appended: the float
// tensors are appended to the empty block in the table's order, each value written once.
std::map<std::string, DType> load_parameters(Parameters& params, const SafetensorsFile& file);
// load_parameters without the check, for a loader that checked the file against its table itself.
std::map<std::string, DType> read_parameters(Parameters& params, const SafetensorsFile& file);
// One tensor as float, whatever it is stored as (the I8 case as load_parameters describes, its "<name>.scale"
// checked) — for loaders that walk their own tensor list.
std::vector<float> read_tensor_as_float(const SafetensorsFile& file, const SafetensorsEntry& entry);
// Advances `evaluation` until every prediction is scored; its stats. A model's evaluate(tokens) is
// run_to_end(*start_evaluation(tokens)) when its start_evaluation scores in chunks.
EvalStats run_to_end(Evaluation& evaluation);

// The table's tensors as F32 views into params.values.
std::vector<TensorToWrite> parameters_to_write(const Parameters& params);

// A model's tensors as a file stores them (model_file.cpp describes the naming): with F16 every 2-D tensor is
// written in half precision (one that does not fit half's range stays F32); with Int8 every 2-D tensor (rows,
// cols) becomes I8 + F32 "<name>.scale" (rows), quantised per row (quantize_rows_int8). 1-D tensors — biases and
// norms — stay F32. Owns the converted copies the TensorToWrite entries point into.
struct StoredTensors {
  std::vector<TensorToWrite> tensors;
  std::vector<std::vector<int8_t>> int8_copies;  // one per I8 tensor
  std::vector<std::vector<float>> scale_copies;  // one per I8 tensor: (rows)
};
StoredTensors tensors_for_storage(const std::vector<TensorToWrite>& tensors, WeightStorage storage);

}  // namespace tinylm
