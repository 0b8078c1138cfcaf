// LlamaConfig: tinylm's JSON form of a Llama model's shape (stored in model files), and its validation.
#include <cmath>

#include "models/llama.hpp"
#include "models/model_common.hpp"
#include "tinylm/error.hpp"

namespace tinylm {

namespace {

nlohmann::json rope_scaling_json(const RopeConfig& rope) {
  switch (rope.scaling) {
    case RopeScaling::None: return nullptr;
    case RopeScaling::Linear:
    case RopeScaling::Dynamic: return {{"type", rope_scaling_name(rope.scaling)}, {"factor", rope.factor}};
    case RopeScaling::Llama3:
      return {{"type", "llama3"},
              {"factor", rope.factor},
              {"low_freq_factor", rope.low_freq_factor},
              {"high_freq_factor", rope.high_freq_factor},
              {"original_max_position_embeddings", rope.original_context}};
  }
  return nullptr;
}

RopeConfig rope_from_json(const nlohmann::json& json) {
  RopeConfig rope;
  rope.theta = json_float_field(json, "rope_theta");
  if (!json.contains("rope_scaling") || json["rope_scaling"].is_null()) return rope;
  const nlohmann::json& scaling = json["rope_scaling"];
  const std::string type = json_string_field(scaling, "type");
  check(parse_rope_scaling(type, &rope.scaling), "config: rope_scaling type '", type,
        "' is not one tinylm implements (none, linear, dynamic, llama3)");
  if (rope.scaling == RopeScaling::None) return rope;
  rope.factor = json_float_field(scaling, "factor");
  if (rope.scaling == RopeScaling::Llama3) {
    rope.low_freq_factor = json_float_field(scaling, "low_freq_factor");
    rope.high_freq_factor = json_float_field(scaling, "high_freq_factor");
    rope.original_context = json_int_field(scaling, "original_max_position_embeddings");
  }
  return rope;
}

}  // namespace

nlohmann::json LlamaConfig::to_json() const {
  return {{"arch", "llama"},
          {"vocab_size", vocab_size},
          {"context_size", context_size},
          {"hidden_size", hidden_size},
          {"intermediate_size", intermediate_size},
          {"num_layers", num_layers},
          {"num_heads", num_heads},
          {"num_kv_heads", num_kv_heads},
          {"head_size", head_size},
          {"rms_norm_eps", rms_norm_eps},
          {"rope_theta", rope.theta},
          {"rope_scaling", rope_scaling_json(rope)},
          {"tie_embeddings", tie_embeddings},
          {"attention_bias", attention_bias},
          {"mlp_bias", mlp_bias},
          {"attention_dropout", attention_dropout}};
}

void LlamaConfig::validate() const {
  check_dimension("vocab_size", vocab_size, kMaxVocab);
  check_dimension("context_size", context_size, kMaxContext);
  check_dimension("hidden_size", hidden_size, kMaxWidth);
  check_dimension("intermediate_size", intermediate_size, 4 * kMaxWidth);
  check_dimension("num_layers", num_layers, kMaxLayers);
  check_dimension("num_heads", num_heads, kMaxWidth);
  check_dimension("num_kv_heads", num_kv_heads, num_heads);
  check(num_heads % num_kv_heads == 0, "config: num_heads ", num_heads, " must be a multiple of num_kv_heads ",
        num_kv_heads, " (each key/value head serves the same number of query heads)");
  check_dimension("head_size", head_size, kMaxWidth);
  check(head_size % 2 == 0, "config: head_size ", head_size, " must be even: rotary embeddings rotate pairs");
  check(int64_t(num_heads) * head_size <= 4 * kMaxWidth, "config: num_heads × head_size = ",
        int64_t(num_heads) * head_size, " is beyond tinylm's limit ", 4 * kMaxWidth);
  check(rms_norm_eps > 0.0f && std::isfinite(rms_norm_eps), "config: rms_norm_eps must be positive, got ", rms_norm_eps);
  check(rope.theta > 1.0f && std::isfinite(rope.theta), "config: rope_theta must be a finite number above 1, got ",
        rope.theta);
  if (rope.scaling != RopeScaling::None) {
    check(rope.factor > 0.0f && std::isfinite(rope.factor), "config: rope_scaling factor must be positive, got ",
          rope.factor);
  }
  if (rope.scaling == RopeScaling::Llama3) {
    check(rope.high_freq_factor > rope.low_freq_factor && rope.low_freq_factor > 0.0f,
          "config: llama3 rope_scaling needs 0 < low_freq_factor < high_freq_factor, got ", rope.low_freq_factor,
          " and ", rope.high_freq_factor);
    check_dimension("rope_scaling original_max_position_embeddings", rope.original_context, 1 << 30);
  }
  check(attention_dropout >= 0.0f && attention_dropout < 1.0f, "config: attention_dropout must be in [0, 1), got ",
        attention_dropout);
}

LlamaConfig LlamaConfig::from_json(const nlohmann::json& json) {
  LlamaConfig config;
  const std::string arch = json_string_field(json, "arch");
  check(arch == "llama", "config: arch '", arch, "' is not 'llama'");
  config.vocab_size = json_int_field(json, "vocab_size");
  config.context_size = json_int_field(json, "context_size");
  config.hidden_size = json_int_field(json, "hidden_size");
  config.intermediate_size = json_int_field(json, "intermediate_size");
  config.num_layers = json_int_field(json, "num_layers");
  config.num_heads = json_int_field(json, "num_heads");
  config.num_kv_heads = json_int_field(json, "num_kv_heads");
  config.head_size = json_int_field(json, "head_size");
  config.rms_norm_eps = json_float_field(json, "rms_norm_eps");
  config.rope = rope_from_json(json);
  config.tie_embeddings = json_bool_field(json, "tie_embeddings");
  config.attention_bias = json_bool_field(json, "attention_bias");
  config.mlp_bias = json_bool_field(json, "mlp_bias");
  config.attention_dropout = json.contains("attention_dropout") ? json_float_field(json, "attention_dropout") : 0.0f;
  config.validate();
  return config;
}

}  // namespace tinylm
