// GPT-2 and Llama as Hugging Face folders describe them: config.json onto GptConfig / LlamaConfig (transformers'
// defaults where a field is left out: save_pretrained writes only the fields that differ from them), and the file's
// tensor names onto the model's parameters (hf_architectures.hpp).
#include "io/hf_architectures.hpp"

#include <algorithm>
#include <cmath>

#include "models/gpt.hpp"
#include "models/llama.hpp"
#include "tinylm/error.hpp"

namespace tinylm {

// ---- config fields --------------------------------------------------------------------------------------------

namespace {
const nlohmann::json* field_or_null(const nlohmann::json& config, const char* field) {
  auto it = config.find(field);
  return it == config.end() || it->is_null() ? nullptr : &*it;
}
}  // namespace

int hf_int(const nlohmann::json& config, const char* field, int fallback) {
  const nlohmann::json* value = field_or_null(config, field);
  if (!value) return fallback;
  check(value->is_number_integer() && value->get<int64_t>() >= INT32_MIN && value->get<int64_t>() <= INT32_MAX,
        "config.json: '", field, "' must be an integer, got ", value->dump());
  return value->get<int>();
}

float hf_float(const nlohmann::json& config, const char* field, float fallback) {
  const nlohmann::json* value = field_or_null(config, field);
  if (!value) return fallback;
  check(value->is_number(), "config.json: '", field, "' must be a number, got ", value->dump());
  return value->get<float>();
}

bool hf_bool(const nlohmann::json& config, const char* field, bool fallback) {
  const nlohmann::json* value = field_or_null(config, field);
  if (!value) return fallback;
  check(value->is_boolean(), "config.json: '", field, "' must be true or false, got ", value->dump());
  return value->get<bool>();
}

std::string hf_string(const nlohmann::json& config, const char* field, const std::string& fallback) {
  const nlohmann::json* value = field_or_null(config, field);
  if (!value) return fallback;
  check(value->is_string(), "config.json: '", field, "' must be a string, got ", value->dump());
  return value->get<std::string>();
}

// ---- GPT-2 ----------------------------------------------------------------------------------------------------

namespace {

GptConfig gpt2_config(const nlohmann::json& config) {
  // transformers' GPT2Config defaults: the 124M model.
  GptConfig gpt;
  gpt.vocab_size = hf_int(config, "vocab_size", 50257);
  gpt.context_size = hf_int(config, "n_positions", 1024);
  gpt.embed_size = hf_int(config, "n_embd", 768);
  gpt.num_layers = hf_int(config, "n_layer", 12);
  gpt.num_heads = hf_int(config, "n_head", 12);
  gpt.bias = true;
  // GPT-2 has three dropout rates (embeddings, residual branches, attention), equal in every published model; GptLM
  // has nanoGPT's one, which applies to all three places: the residual branches' rate.
  gpt.dropout = hf_float(config, "resid_pdrop", 0.1f);
  const std::string activation = hf_string(config, "activation_function", "gelu_new");
  if (activation == "gelu_new" || activation == "gelu_pytorch_tanh" || activation == "gelu_fast") {
    gpt.gelu = GeluKind::Tanh;  // three spellings of the tanh approximation
  } else if (activation == "gelu") {
    gpt.gelu = GeluKind::Exact;
  } else {
    fail("config.json: activation_function '", activation, "' is not one tinylm's GPT has (gelu_new, ",
         "gelu_pytorch_tanh, gelu_fast: the tanh approximation; gelu: exact)");
  }
  const int inner = hf_int(config, "n_inner", 4 * gpt.embed_size);
  check(inner == 4 * gpt.embed_size, "config.json: n_inner ", inner, " is not 4 × n_embd = ", 4 * gpt.embed_size,
        ": tinylm's GPT has nanoGPT's 4× MLP");
  const float eps = hf_float(config, "layer_norm_epsilon", 1e-5f);
  check(std::fabs(eps - 1e-5f) <= 1e-12f, "config.json: layer_norm_epsilon ", eps,
        " is not 1e-5, the LayerNorm epsilon tinylm's GPT uses");
  check(hf_bool(config, "scale_attn_weights", true), "config.json: scale_attn_weights false (attention without its ",
        "1/√D scale) is not supported");
  check(!hf_bool(config, "scale_attn_by_inverse_layer_idx", false),
        "config.json: scale_attn_by_inverse_layer_idx true is not supported");
  check(hf_bool(config, "tie_word_embeddings", true), "config.json: tie_word_embeddings false is not supported: ",
        "tinylm's GPT ties the LM head to the token embedding, as GPT-2 does");
  gpt.validate();
  return gpt;
}

// "h.0.attn.c_attn.weight" → "attn.c_attn.weight" with layer 0, or nullopt when `name` is not h.<layer>.<rest>.
std::optional<std::pair<int, std::string>> layer_part(const std::string& name, const std::string& prefix) {
  if (name.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  const size_t dot = name.find('.', prefix.size());
  if (dot == std::string::npos || dot == prefix.size()) return std::nullopt;
  const std::string digits = name.substr(prefix.size(), dot - prefix.size());
  if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 6) return std::nullopt;
  return std::make_pair(std::stoi(digits), name.substr(dot + 1));
}

}  // namespace

HfArchitecture gpt2_architecture(const nlohmann::json& config, const HfLoadOptions& options) {
  HfArchitecture architecture;
  GptConfig gpt = gpt2_config(config);
  const int positions = gpt.context_size;
  gpt.context_size = std::min(positions, options.max_context);
  auto model = std::make_unique<GptLM>(gpt, GptLM::Allocation::Deferred, options.residency);
  architecture.allocate = [model = model.get()] { model->allocate(); };
  architecture.model = std::move(model);
  const ParameterTable* table = &architecture.model->parameters().table;
  architecture.place = [table, positions](const std::string& stored) -> std::optional<HfTensorPlace> {
    const std::string name = stored.compare(0, 12, "transformer.") == 0 ? stored.substr(12) : stored;
    if (name == "wpe.weight") {
      return HfTensorPlace{HfTensorPlace::Kind::Parameter, "transformer.wpe.weight", false, positions};
    }
    if (name == "lm_head.weight") return HfTensorPlace{HfTensorPlace::Kind::TiedHead, "transformer.wte.weight"};
    if (auto layer = layer_part(name, "h.")) {
      const std::string& rest = layer->second;
      if (rest == "attn.bias" || rest == "attn.masked_bias") return HfTensorPlace{HfTensorPlace::Kind::Ignored, ""};
      const bool conv1d = rest == "attn.c_attn.weight" || rest == "attn.c_proj.weight" ||
                          rest == "mlp.c_fc.weight" || rest == "mlp.c_proj.weight";
      const std::string ours = "transformer." + name;
      if (!table->try_find(ours)) return std::nullopt;
      return HfTensorPlace{HfTensorPlace::Kind::Parameter, ours, conv1d};
    }
    const std::string ours = "transformer." + name;
    if (!table->try_find(ours)) return std::nullopt;
    return HfTensorPlace{HfTensorPlace::Kind::Parameter, ours, false};
  };
  return architecture;
}

// ---- Llama ----------------------------------------------------------------------------------------------------

namespace {

RopeConfig llama_rope(const nlohmann::json& config) {
  RopeConfig rope;
  rope.theta = hf_float(config, "rope_theta", 10000.0f);
  const float partial = hf_float(config, "partial_rotary_factor", 1.0f);
  check(partial == 1.0f, "config.json: partial_rotary_factor ", partial,
        " is not supported (tinylm rotates whole heads)");
  const nlohmann::json* scaling = field_or_null(config, "rope_scaling");
  if (!scaling) return rope;
  check(scaling->is_object(), "config.json: rope_scaling must be an object or null, got ", scaling->dump());
  // "rope_type" since transformers 4.42; "type" before.
  const std::string type = hf_string(*scaling, "rope_type", hf_string(*scaling, "type", "default"));
  if (type == "default") return rope;
  check(type == "linear" || type == "dynamic" || type == "llama3", "config.json: rope_scaling type '", type,
        "' is not supported (tinylm implements default, linear, dynamic and llama3; yarn and longrope also scale ",
        "the attention logits)");
  parse_rope_scaling(type, &rope.scaling);
  check(scaling->contains("factor"), "config.json: rope_scaling of type '", type, "' needs a 'factor'");
  rope.factor = hf_float(*scaling, "factor", 1.0f);
  if (rope.scaling == RopeScaling::Llama3) {
    for (const char* field : {"low_freq_factor", "high_freq_factor", "original_max_position_embeddings"})
      check(scaling->contains(field), "config.json: llama3 rope_scaling needs '", field, "'");
    rope.low_freq_factor = hf_float(*scaling, "low_freq_factor", 1.0f);
    rope.high_freq_factor = hf_float(*scaling, "high_freq_factor", 4.0f);
    rope.original_context = hf_int(*scaling, "original_max_position_embeddings", 8192);
  }
  return rope;
}

LlamaConfig llama_config(const nlohmann::json& config, const HfLoadOptions& options) {
  // transformers' LlamaConfig defaults: Llama 1's 7B.
  LlamaConfig llama;
  llama.vocab_size = hf_int(config, "vocab_size", 32000);
  llama.hidden_size = hf_int(config, "hidden_size", 4096);
  llama.intermediate_size = hf_int(config, "intermediate_size", 11008);
  llama.num_layers = hf_int(config, "num_hidden_layers", 32);
  llama.num_heads = hf_int(config, "num_attention_heads", 32);
  llama.num_kv_heads = hf_int(config, "num_key_value_heads", llama.num_heads);
  check(llama.num_heads > 0 && (field_or_null(config, "head_dim") || llama.hidden_size % llama.num_heads == 0),
        "config.json: hidden_size ", llama.hidden_size, " is not divisible by num_attention_heads ", llama.num_heads);
  llama.head_size = hf_int(config, "head_dim", llama.num_heads > 0 ? llama.hidden_size / llama.num_heads : 0);
  const int positions = hf_int(config, "max_position_embeddings", 2048);
  check(positions >= 1, "config.json: max_position_embeddings must be positive, got ", positions);
  llama.context_size = std::min(positions, options.max_context);
  llama.rms_norm_eps = hf_float(config, "rms_norm_eps", 1e-6f);
  llama.rope = llama_rope(config);
  llama.tie_embeddings = hf_bool(config, "tie_word_embeddings", false);
  llama.attention_bias = hf_bool(config, "attention_bias", false);
  llama.mlp_bias = hf_bool(config, "mlp_bias", false);
  llama.attention_dropout = hf_float(config, "attention_dropout", 0.0f);
  const std::string activation = hf_string(config, "hidden_act", "silu");
  check(activation == "silu", "config.json: hidden_act '", activation, "' is not supported (Llama's MLP is SwiGLU: ",
        "silu)");
  llama.validate();
  return llama;
}

}  // namespace

HfArchitecture llama_architecture(const nlohmann::json& config, const HfLoadOptions& options) {
  HfArchitecture architecture;
  const LlamaConfig llama = llama_config(config, options);
  auto model = std::make_unique<LlamaLM>(llama, LlamaLM::Allocation::Deferred, options.residency);
  architecture.allocate = [model = model.get()] { model->allocate(); };
  architecture.model = std::move(model);
  const ParameterTable* table = &architecture.model->parameters().table;
  const bool tied = llama.tie_embeddings;
  architecture.place = [table, tied](const std::string& name) -> std::optional<HfTensorPlace> {
    if (name == "lm_head.weight" && tied)
      return HfTensorPlace{HfTensorPlace::Kind::TiedHead, "model.embed_tokens.weight"};
    if (auto layer = layer_part(name, "model.layers."); layer && layer->second == "self_attn.rotary_emb.inv_freq")
      return HfTensorPlace{HfTensorPlace::Kind::Ignored, ""};
    if (!table->try_find(name)) return std::nullopt;
    return HfTensorPlace{HfTensorPlace::Kind::Parameter, name, false};
  };
  return architecture;
}

}  // namespace tinylm
