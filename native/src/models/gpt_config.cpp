// GptConfig: tinylm's JSON form of a GPT's shape (stored in model files), and its validation.
#include "models/gpt.hpp"
#include "models/model_common.hpp"
#include "tinylm/error.hpp"

namespace tinylm {

nlohmann::json GptConfig::to_json() const {
  return {{"arch", "gpt"},           {"vocab_size", vocab_size}, {"context_size", context_size},
          {"embed_size", embed_size}, {"num_layers", num_layers}, {"num_heads", num_heads},
          {"bias", bias},             {"dropout", dropout},       {"gelu", gelu_kind_name(gelu)}};
}

void GptConfig::validate() const {
  check_dimension("vocab_size", vocab_size, kMaxVocab);
  check_dimension("context_size", context_size, kMaxContext);
  check_dimension("embed_size", embed_size, kMaxWidth);
  check_dimension("num_layers", num_layers, kMaxLayers);
  check_dimension("num_heads", num_heads, embed_size);
  check(embed_size % num_heads == 0, "config: embed_size ", embed_size, " must be divisible by num_heads ",
        num_heads);
  check(dropout >= 0.0f && dropout < 1.0f, "config: dropout must be in [0, 1), got ", dropout);
}

GptConfig GptConfig::from_json(const nlohmann::json& json) {
  GptConfig config;
  const std::string arch = json_string_field(json, "arch");
  check(arch == "gpt", "config: arch '", arch, "' is not 'gpt'");
  config.vocab_size = json_int_field(json, "vocab_size");
  config.context_size = json_int_field(json, "context_size");
  config.embed_size = json_int_field(json, "embed_size");
  config.num_layers = json_int_field(json, "num_layers");
  config.num_heads = json_int_field(json, "num_heads");
  config.bias = json_bool_field(json, "bias");
  config.dropout = json.contains("dropout") ? json_float_field(json, "dropout") : 0.0f;
  const std::string gelu = json_string_field(json, "gelu");
  check(parse_gelu_kind(gelu, &config.gelu), "config: field 'gelu' must be \"tanh\" or \"exact\", got \"", gelu,
        "\"");
  config.validate();
  return config;
}

}  // namespace tinylm
