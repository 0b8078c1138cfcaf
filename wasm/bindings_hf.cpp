// Hugging Face checkpoint folders at the Embind seam (the seam's contract is bindings.cpp's): Model.loadHf builds a
// model from a folder whose files JS holds (js_files.hpp, io/hf_checkpoint.hpp), and model.checkpointInfo() answers
// what a chat needs from it — its template and the tokens that end a turn. Only such a folder carries those, so
// they are worked out once, at load, and kept with the Model.
//
// Exposed (JS names): Model.loadHf(files, label, maxContext, weights) · model.checkpointInfo()
// (both registered with the Model class in bindings.cpp).
#include <emscripten/val.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "engine_model.hpp"
#include "io/hf_checkpoint.hpp"
#include "js_files.hpp"
#include "seam.hpp"
#include "tinylm/error.hpp"
#include "tokenizer/hf_tokenizer.hpp"

namespace tinylm::wasm {
namespace {

// checkpoint_info()'s object: { architecture, chatTemplate, bosToken, eosToken, endTokens }.
val describe_checkpoint(const HfCheckpoint& checkpoint, const Tokenizer& tokenizer) {
  const auto* hf = dynamic_cast<const HfTokenizer*>(&tokenizer);
  check(hf != nullptr, "a Hugging Face checkpoint loaded without its tokenizer.json");
  std::vector<std::string> end_tokens;
  const auto add_end = [&](const std::string& text) {
    if (!text.empty() && std::find(end_tokens.begin(), end_tokens.end(), text) == end_tokens.end())
      end_tokens.push_back(text);
  };
  add_end(hf->eos_token());
  const nlohmann::json& generation = checkpoint.generation_config;
  if (generation.is_object() && generation.contains("eos_token_id")) {
    nlohmann::json ids = generation["eos_token_id"];
    if (!ids.is_array()) ids = nlohmann::json::array({ids});
    for (const nlohmann::json& id : ids) {
      check(id.is_number_integer() && id.get<int64_t>() >= 0 && id.get<int64_t>() < hf->vocab_size(),
            "generation_config.json: eos_token_id ", id.dump(), " is not a token id of the vocabulary [0, ",
            hf->vocab_size(), ")");
      add_end(hf->decode({int32_t(id.get<int64_t>())}, false));
    }
  }
  val info = val::object();
  info.set("architecture", checkpoint.architecture);
  info.set("chatTemplate", well_formed(hf->chat_template()));
  info.set("bosToken", well_formed(hf->bos_token()));
  info.set("eosToken", well_formed(hf->eos_token()));
  val ends = val::array();
  for (const std::string& text : end_tokens) ends.call<void>("push", well_formed(text));
  info.set("endTokens", ends);
  return info;
}

}  // namespace

val EngineModel::load_hf(const val& files, const std::string& label, int max_context, const std::string& weights) {
  return guarded([&] {
    HfLoadOptions options;
    options.residency = residency_named(weights);
    const HfCheckpoint checkpoint = read_hf_checkpoint(std::make_shared<JsFiles>(files, label));
    check(max_context > 0, "maxContext must be a positive number of positions, got ", max_context);
    options.max_context = max_context;
    auto engine_model = std::make_unique<EngineModel>(load_hf_model(checkpoint, options));
    engine_model->checkpoint_ = describe_checkpoint(checkpoint, engine_model->tokenizer());
    return engine_model.release();
  });
}

}  // namespace tinylm::wasm
