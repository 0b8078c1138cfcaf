// HfTokenizer's edges: the post-processor (tokens put around the encoded text), tokenizer_config.json (bos, eos,
// chat template), and the "hf" tokenizer JSON kind that carries both files inside a tinylm model file.
// See hf_tokenizer.hpp.
#include "tinylm/error.hpp"
#include "tokenizer/hf_tokenizer.hpp"
#include "tokenizer/tokenizer_json.hpp"

namespace tinylm {

// ---- post-processor ----------------------------------------------------------------------------------------

void HfTokenizer::read_post_processor(const hf::Field& field, int depth) {
  if (field.is_null()) return;
  check(depth < hf::kMaxComponentDepth, field.path, " nests Sequences deeper than ", hf::kMaxComponentDepth,
        " levels");
  const std::string type = field.at("type").string();
  // Each processor wraps what the previous ones produced: its tokens go outside theirs.
  std::vector<int32_t> before, after;
  auto check_id = [this](const hf::Field& id_field) {
    return static_cast<int32_t>(id_field.integer(0, hf::kMaxVocabSize - 1));
  };
  if (type == "Sequence") {
    const hf::Field list = field.at("processors");
    for (size_t index = 0; index < list.array().size(); ++index) read_post_processor(list.at(index), depth + 1);
    return;
  }
  if (type == "ByteLevel") return;  // only trims offsets, which tinylm does not report
  if (type == "TemplateProcessing") {
    const hf::Field single = field.at("single");
    const hf::Field special_tokens = field.at("special_tokens");
    special_tokens.object();
    bool seen_sequence = false;
    for (size_t index = 0; index < single.array().size(); ++index) {
      const hf::Field piece = single.at(index);
      const nlohmann::json& object = piece.object();
      if (object.size() == 1 && object.contains("Sequence")) {
        const std::string id = piece.at("Sequence").at("id").string();
        check(id == "A" && !seen_sequence, piece.path, " must be the one sequence A of a single-sequence template, "
              "got ", hf::describe(piece.at("Sequence").at("id").value));
        seen_sequence = true;
      } else if (object.size() == 1 && object.contains("SpecialToken")) {
        const hf::Field name = piece.at("SpecialToken").at("id");
        const hf::Field special = special_tokens.at(name.string().c_str());
        check(!special.is_null(), name.path, " is ", hf::describe(name.value), ", which ", special_tokens.path,
              " does not define");
        const hf::Field ids = special.at("ids");
        for (size_t id_index = 0; id_index < ids.array().size(); ++id_index) {
          (seen_sequence ? after : before).push_back(check_id(ids.at(id_index)));
        }
      } else {
        piece.fail_expected("{\"Sequence\": ...} or {\"SpecialToken\": ...}");
      }
    }
    check(seen_sequence, single.path, " has no sequence A: it would drop the text");
  } else if (type == "RobertaProcessing" || type == "BertProcessing") {
    // {"cls": ["<s>", 0], "sep": ["</s>", 2]}: cls A sep
    for (const char* key : {"cls", "sep"}) {
      const hf::Field pair = field.at(key);
      if (pair.array().size() != 2) pair.fail_expected("a [token, id] pair");
      (key[0] == 'c' ? before : after).push_back(check_id(pair.at(1)));
    }
  } else {
    fail(field.path, ".type is \"", type, "\"; tinylm reads the post-processors Sequence, ByteLevel, "
         "TemplateProcessing, RobertaProcessing and BertProcessing");
  }
  for (int32_t id : before) vocab_size_ = std::max(vocab_size_, id + 1);
  for (int32_t id : after) vocab_size_ = std::max(vocab_size_, id + 1);
  prefix_ids_.insert(prefix_ids_.begin(), before.begin(), before.end());
  suffix_ids_.insert(suffix_ids_.end(), after.begin(), after.end());
}

// ---- tokenizer_config.json ---------------------------------------------------------------------------------

namespace {

// A token named in tokenizer_config.json: a string, or an AddedToken object {"content": ...}; "" when null.
std::string config_token(const hf::Field& field) {
  if (field.is_null()) return "";
  if (field.value.is_object()) return field.at("content").string();
  return field.string();
}

}  // namespace

void HfTokenizer::read_config(const nlohmann::json& config) {
  const hf::Field root{config, "tokenizer_config.json"};
  root.object();
  bos_token_ = config_token(root.at("bos_token"));
  eos_token_ = config_token(root.at("eos_token"));
  // Without a config entry, the defaults of transformers' Llama ("<s>", "</s>") and GPT-2 ("<|endoftext|>")
  // tokenizers, when the file holds them as special tokens.
  for (const char* candidate : {"<s>", "<|endoftext|>"}) {
    if (bos_token_.empty() && root.at("bos_token").is_null() && is_special(token_id(candidate))) bos_token_ = candidate;
  }
  for (const char* candidate : {"</s>", "<|endoftext|>"}) {
    if (eos_token_.empty() && root.at("eos_token").is_null() && is_special(token_id(candidate))) eos_token_ = candidate;
  }

  const hf::Field chat_template = root.at("chat_template");
  if (chat_template.value.is_array()) {  // [{"name": "default", "template": "..."}, {"name": "tool_use", ...}]
    for (size_t index = 0; index < chat_template.array().size(); ++index) {
      const hf::Field entry = chat_template.at(index);
      const std::string name = entry.at("name").string();
      const std::string text = entry.at("template").string();
      if (index == 0 || name == "default") chat_template_ = text;
    }
  } else {
    chat_template_ = chat_template.string_or("");
  }

  // transformers' LlamaTokenizerFast rebuilds its post-processor from these flags whatever tokenizer.json says.
  const std::string tokenizer_class = root.at("tokenizer_class").string_or("");
  if (tokenizer_class == "LlamaTokenizer" || tokenizer_class == "LlamaTokenizerFast") {
    prefix_ids_.clear();
    suffix_ids_.clear();
    if (root.at("add_bos_token").boolean(true)) {
      check(bos_id() >= 0, "tokenizer_config.json: add_bos_token is true but bos_token ", hf::describe(bos_token_),
            " is not a token of tokenizer.json");
      prefix_ids_.push_back(bos_id());
    }
    if (root.at("add_eos_token").boolean(false)) {
      check(eos_id() >= 0, "tokenizer_config.json: add_eos_token is true but eos_token ", hf::describe(eos_token_),
            " is not a token of tokenizer.json");
      suffix_ids_.push_back(eos_id());
    }
  }
}

// ---- the "hf" JSON kind ------------------------------------------------------------------------------------

nlohmann::json HfTokenizer::to_json() const {
  return {{"kind", "hf"},
          {"version", 1},
          {"tokenizer_json", tokenizer_json_},
          {"tokenizer_config_json", tokenizer_config_json_}};
}

std::unique_ptr<HfTokenizer> load_hf_tokenizer(const std::string& tokenizer_json,
                                               const std::string& tokenizer_config_json) {
  return std::make_unique<HfTokenizer>(tokenizer_json, tokenizer_config_json);
}

std::unique_ptr<Tokenizer> hf_tokenizer_from_json(const nlohmann::json& json) {
  const std::string kind = "hf";
  check_tokenizer_json_fields(json, kind, {"kind", "version", "tokenizer_json", "tokenizer_config_json"});
  return load_hf_tokenizer(tokenizer_json_string(json, kind, "tokenizer_json"),
                           tokenizer_json_string(json, kind, "tokenizer_config_json"));
}

}  // namespace tinylm
