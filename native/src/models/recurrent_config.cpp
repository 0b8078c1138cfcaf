// RecurrentConfig: tinylm's JSON form of a recurrent model's shape (stored in model files), and its validation.
#include "models/model_common.hpp"
#include "models/recurrent_lm.hpp"
#include "tinylm/error.hpp"

namespace tinylm {

nlohmann::json RecurrentConfig::to_json() const {
  return {{"arch", cell_kind_name(cell)}, {"vocab_size", vocab_size}, {"embed_size", embed_size},
          {"hidden_size", hidden_size},   {"num_layers", num_layers}, {"dropout", dropout}};
}

void RecurrentConfig::validate() const {
  check_dimension("vocab_size", vocab_size, kMaxVocab);
  check_dimension("embed_size", embed_size, kMaxWidth);
  check_dimension("hidden_size", hidden_size, kMaxWidth);
  check_dimension("num_layers", num_layers, kMaxLayers);
  check(dropout >= 0.0f && dropout < 1.0f, "config: dropout must be in [0, 1), got ", dropout);
}

RecurrentConfig RecurrentConfig::from_json(const nlohmann::json& json) {
  RecurrentConfig config;
  const std::string arch = json_string_field(json, "arch");
  check(parse_cell_kind(arch, &config.cell), "config: arch '", arch, "' is not a recurrent architecture");
  config.vocab_size = json_int_field(json, "vocab_size");
  config.embed_size = json_int_field(json, "embed_size");
  config.hidden_size = json_int_field(json, "hidden_size");
  config.num_layers = json_int_field(json, "num_layers");
  config.dropout = json.contains("dropout") ? json_float_field(json, "dropout") : 0.0f;
  config.validate();
  return config;
}

}  // namespace tinylm
