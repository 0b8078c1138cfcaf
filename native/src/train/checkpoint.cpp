#include "train/checkpoint.hpp"

#include <map>
#include <set>

#include "io/json_text.hpp"
#include "io/safetensors.hpp"
#include "models/model_common.hpp"
#include "tinylm/error.hpp"

namespace tinylm {

namespace {
constexpr int kCheckpointVersion = 1;
constexpr const char* kMetadataKey = "tinylm_checkpoint";
constexpr const char* kRunKey = "tinylm_run";
}  // namespace

nlohmann::json train_options_json(const TrainOptions& options) {
  const OptimizerOptions& o = options.optimizer;
  return {{"steps", options.steps},           {"batch", options.batch},
          {"seq", options.seq},               {"optimizer", optimizer_kind_name(o.kind)},
          {"lr", o.learning_rate},            {"beta1", o.beta1},
          {"beta2", o.beta2},                 {"eps", o.eps},
          {"rms_alpha", o.rms_alpha},         {"momentum", o.momentum},
          {"nesterov", o.nesterov},           {"weight_decay", o.weight_decay},
          {"clip", options.clip},             {"warmup_steps", options.warmup_steps},
          {"cosine", options.cosine},         {"min_lr_ratio", options.min_lr_ratio},
          {"stateful", options.stateful},     {"seed", options.seed}};
}

std::vector<uint8_t> serialize_checkpoint(const Trainer& trainer, const std::string& run_record) {
  Trainer& run = const_cast<Trainer&>(trainer);
  const Trainer::Progress progress = trainer.progress();
  std::vector<TensorToWrite> tensors = parameters_to_write(run.model().parameters());
  const int64_t P = int64_t(run.model().parameters().values.size());
  if (!progress.first_moment.empty())
    tensors.push_back({"optimizer.first_moment", {P}, progress.first_moment.data()});
  if (!progress.second_moment.empty())
    tensors.push_back({"optimizer.second_moment", {P}, progress.second_moment.data()});
  if (!progress.carried_state.empty())
    tensors.push_back({"trainer.carried_state", {int64_t(progress.carried_state.size())},
                       progress.carried_state.data()});
  const nlohmann::json state = {
      {"version", kCheckpointVersion},
      {"steps_done", progress.steps_done},
      {"optimizer_steps", progress.optimizer_steps},
      {"rng_state", {progress.rng_state[0], progress.rng_state[1], progress.rng_state[2], progress.rng_state[3]}},
      {"batcher_cursor", progress.batcher_cursor},
      {"best_validation_loss", progress.best_validation_loss},
      {"validations_since_best", progress.validations_since_best},
      {"options", train_options_json(trainer.options())},
      {"model_config", run.model().config_json()}};
  std::map<std::string, std::string> metadata = {{kMetadataKey, state.dump()}};
  if (!run_record.empty()) metadata[kRunKey] = run_record;
  return serialize_safetensors(tensors, metadata);
}

void save_checkpoint(const std::string& path, const Trainer& trainer) {
  write_file_atomic(path, serialize_checkpoint(trainer));
}

void restore_checkpoint(Trainer& trainer, const uint8_t* bytes, size_t size) {
  const SafetensorsFile file = parse_safetensors(bytes, size);
  check(file.metadata.count(kMetadataKey) > 0, "not a tinylm training checkpoint (no '", kMetadataKey,
        "' metadata): --resume takes a file written by --checkpoint-every");
  nlohmann::json state;
  try {
    state = parse_json(file.metadata.at(kMetadataKey));
  } catch (const nlohmann::json::exception& error) {
    fail("checkpoint metadata is not valid JSON: ", error.what());
  }
  check(state.is_object() && state.value("version", 0) == kCheckpointVersion, "checkpoint version ",
        state.is_object() ? state.value("version", 0) : 0, " is not ", kCheckpointVersion);
  // The run must repeat the checkpointed one: same options, same model.
  const nlohmann::json options = train_options_json(trainer.options());
  const nlohmann::json& stored_options = state.at("options");
  for (auto field = options.begin(); field != options.end(); ++field) {
    check(stored_options.contains(field.key()) && stored_options[field.key()] == field.value(),
          "the checkpoint was trained with ", field.key(), " = ",
          stored_options.contains(field.key()) ? stored_options[field.key()].dump() : std::string("(none)"),
          ", this run has ", field.value().dump(), ": resume with the checkpointed run's options");
  }
  Parameters& params = trainer.model().parameters();
  check(state.at("model_config") == trainer.model().config_json(), "the checkpoint's model config ",
        state.at("model_config").dump(), " differs from this run's ", trainer.model().config_json().dump());
  std::set<std::string> known = {"optimizer.first_moment", "optimizer.second_moment", "trainer.carried_state"};
  for (const TensorSpec& spec : params.table.tensors()) {
    const SafetensorsEntry* entry = file.find(spec.name);
    check(entry != nullptr, "checkpoint is missing tensor '", spec.name, "': was it written by another model?");
    check(entry->dtype == DType::F32 && entry->shape == spec.shape, "checkpoint tensor '", spec.name, "' is ",
          dtype_name(entry->dtype), " ", shape_string(entry->shape), ", expected F32 ", shape_string(spec.shape));
    known.insert(spec.name);
  }
  check_no_unknown_tensors(file, known);

  Trainer::Progress progress;
  auto flat = [&](const char* name) {
    const SafetensorsEntry* entry = file.find(name);
    return entry ? file.read_f32(*entry) : std::vector<float>();
  };
  progress.first_moment = flat("optimizer.first_moment");
  progress.second_moment = flat("optimizer.second_moment");
  progress.carried_state = flat("trainer.carried_state");
  progress.steps_done = state.at("steps_done").get<int>();
  progress.optimizer_steps = state.at("optimizer_steps").get<int64_t>();
  progress.batcher_cursor = state.at("batcher_cursor").get<int64_t>();
  progress.best_validation_loss = state.at("best_validation_loss").get<double>();
  progress.validations_since_best = state.at("validations_since_best").get<int>();
  const nlohmann::json& rng = state.at("rng_state");
  check(rng.is_array() && rng.size() == 4, "checkpoint rng_state must hold 4 numbers");
  for (int i = 0; i < 4; ++i) progress.rng_state[i] = rng[i].get<uint32_t>();
  std::vector<float> values(params.values.size());
  for (const TensorSpec& spec : params.table.tensors()) {
    const std::vector<float> tensor = file.read_f32(*file.find(spec.name));
    std::copy(tensor.begin(), tensor.end(), values.begin() + spec.offset);
  }
  trainer.restore(progress);  // checks the moments' sizes before changing anything
  params.values = std::move(values);
  trainer.model().reset_state();  // generation reads the restored weights
}

void load_checkpoint(const std::string& path, Trainer& trainer) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  try {
    restore_checkpoint(trainer, bytes.data(), bytes.size());
  } catch (const Error& error) {
    fail("cannot resume from '", path, "': ", error.what());
  }
}

std::string checkpoint_run(const uint8_t* bytes, size_t size) {
  const SafetensorsFile file = parse_safetensors(bytes, size);
  check(file.metadata.count(kMetadataKey) > 0, "not a tinylm training checkpoint (no '", kMetadataKey, "' metadata)");
  const auto run = file.metadata.find(kRunKey);
  return run == file.metadata.end() ? std::string() : run->second;
}

}  // namespace tinylm
