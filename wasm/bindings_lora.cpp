// LoRA adapters at the Embind seam (lora/; the seam's contract is bindings.cpp's): the adapters resident beside one
// model and the trainer that makes a new one. The trainer is an EngineTrainer (engine_trainer.hpp) over a LoraModel,
// so a LoRA fine-tune steps, validates, checkpoints and resumes exactly as a full one does.
//
// Exposed (JS names):
//   Adapters.create(model) · adapters.names() · adapters.active() · adapters.activate(name | '') ·
//   adapters.moduleNames() · adapters.load(name, bytes, configJson | '') · adapters.serialize(name, dtype) · adapters.copy(from, to) ·
//   adapters.remove(name) · adapters.merge(name) ·
//   LoraTrainer.create(adapters, text, loraOptions, trainerOptions) · trainer.step() · trainer.validate() ·
//   trainer.hasValidation() · trainer.trainTokens() · trainer.validationTokens() · trainer.checkpoint(run) ·
//   trainer.resume(bytes) · trainer.keep(name)
// Adapters refers to its Model and a LoraTrainer to its Adapters: JS deletes them in the reverse order.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "engine_model.hpp"
#include "engine_trainer.hpp"
#include "io/json_text.hpp"
#include "io/safetensors.hpp"
#include "lora/adapter_file.hpp"
#include "lora/adapter_set.hpp"
#include "lora/lora_model.hpp"
#include "seam.hpp"
#include "tinylm/error.hpp"
#include "tinylm/rng.hpp"

namespace tinylm::wasm {
namespace {

struct LoraOptions {
  int rank = 8;             // r
  float alpha = 8;          // scale = alpha / r
  float dropout = 0;        // on each adapted linear's input, training only
  std::string targets;      // PEFT target_modules, comma-separated
  std::string base_model;   // recorded in the adapter's config (base_model_name_or_path)
  double seed = 1;          // A's initialisation
};

// The adapters resident beside one model, at most one active (attached to every forward and step()).
class EngineAdapters {
 public:
  static val create(EngineModel& model) {
    return guarded([&] {
      TrainableModel& trainable = model.trainable();
      check(!trainable.linear_modules().empty(), "LoRA adapters apply to GPT and Llama models; this is a '",
            trainable.arch(), "' model");
      return new EngineAdapters(model);
    });
  }

  val names() const {
    return guarded([&] {
      val names = val::array();
      for (const std::string& name : set_.names()) names.call<void>("push", name);
      return names;
    });
  }
  std::string active() const { return set_.active(); }
  val activate(const std::string& name) {
    return guarded([&] { set_.activate(name); });
  }

  // The paths of the model's linears, in adapter order ("model.layers.0.self_attn.q_proj", …).
  val module_names() {
    return guarded([&] {
      val names = val::array();
      for (const LinearModule& module : model_.trainable().linear_modules()) names.call<void>("push", module.path);
      return names;
    });
  }

  // A PEFT safetensors file (adapter_file.hpp) resident under `name`, replacing one of that name; not activated.
  // config: adapter_config.json's text for a file without the config in its metadata (PEFT's own), else "".
  val load(const std::string& name, const val& bytes, const std::string& config) {
    return guarded([&] {
      const std::vector<uint8_t> data = copy_from_js<uint8_t>(bytes);
      nlohmann::json config_json;
      if (!config.empty()) {
        try {
          config_json = parse_json(config);
        } catch (const nlohmann::json::exception& error) {
          fail("the adapter's config is not valid JSON: ", error.what());
        }
      }
      set_.add(name, load_adapter(parse_safetensors(data.data(), data.size()), model_.trainable().linear_modules(),
                                  config.empty() ? nullptr : &config_json));
    });
  }

  // dtype "f32" | "f16" (half the bytes; values rounded to nearest even).
  val serialize(const std::string& name, const std::string& dtype) {
    return guarded([&] {
      check(dtype == "f32" || dtype == "f16", "an adapter is exported as 'f32' or 'f16', got '", dtype, "'");
      const std::vector<uint8_t> bytes =
          serialize_adapter(set_.get(name), model_.network().arch(), dtype == "f16" ? DType::F16 : DType::F32);
      return copy_to_js(bytes.data(), bytes.size());
    });
  }

  // `from` resident under `to` as well (an exact copy: F32 values through the file format).
  val copy(const std::string& from, const std::string& to) {
    return guarded([&] {
      const std::vector<uint8_t> bytes = serialize_adapter(set_.get(from), model_.network().arch());
      set_.add(to, load_adapter(parse_safetensors(bytes.data(), bytes.size()), model_.trainable().linear_modules()));
    });
  }

  val remove(const std::string& name) {
    return guarded([&] { set_.remove(name); });
  }

  // Folds `name` into the model's weights (W += alpha/r · B·A) and drops it: the model is now the merged one, what
  // export() writes, and no adapter is active.
  val merge(const std::string& name) {
    return guarded([&] {
      LoraAdapter& adapter = set_.get(name);
      const std::string active = set_.active();
      set_.activate("");
      try {
        merge_lora(model_.trainable(), adapter, 1.0f);
      } catch (...) {
        set_.activate(active);  // refused (compact matrices): everything as it was
        throw;
      }
      set_.remove(name);
    });
  }

  EngineModel& model() { return model_; }
  AdapterSet& set() { return set_; }

 private:
  explicit EngineAdapters(EngineModel& model) : model_(model), set_(model.trainable()) {}

  EngineModel& model_;
  AdapterSet set_;
};

// Trains a fresh adapter beside the frozen model: the trainer sees only lora_A and lora_B, the base keeps its
// weights bit for bit and holds no gradients meanwhile. keep(name) makes the adapter resident under `name` and
// active; deleting the trainer without keep() drops it. Either way the model's frozen state and the adapter that
// was active come back (unless keep() chose another).
class EngineLoraTrainer {
 public:
  static val create(EngineAdapters& adapters, const std::string& text, const LoraOptions& lora,
                    const TrainerOptions& options) {
    return guarded([&] { return new EngineLoraTrainer(adapters, text, lora, options); });
  }

  ~EngineLoraTrainer() { restore(); }

  val step() { return trainer_->step(); }
  val validate() { return trainer_->validate(); }
  bool has_validation() const { return trainer_->has_validation(); }
  double train_tokens() const { return trainer_->train_tokens(); }
  double validation_tokens() const { return trainer_->validation_tokens(); }
  val checkpoint(const std::string& run) const { return trainer_->checkpoint(run); }
  val resume(const val& bytes) { return trainer_->resume(bytes); }

  val keep(const std::string& name) {
    return guarded([&] {
      check(adapter_ != nullptr, "the adapter was kept already");
      trainer_.reset();
      lora_model_.reset();
      adapters_.set().add(name, std::move(adapter_));
      active_ = name;  // the destructor activates it
    });
  }

 private:
  EngineLoraTrainer(EngineAdapters& adapters, const std::string& text, const LoraOptions& lora,
                    const TrainerOptions& options)
      : adapters_(adapters), active_(adapters.set().active()) {
    TrainableModel& base = adapters.model().trainable();
    was_frozen_ = base.frozen();
    LoraConfig config;
    config.rank = lora.rank;
    config.alpha = lora.alpha;
    config.dropout = lora.dropout;
    config.base_model = lora.base_model;
    for (size_t begin = 0; begin <= lora.targets.size();) {
      const size_t comma = std::min(lora.targets.find(',', begin), lora.targets.size());
      if (comma > begin) config.targets.push_back(lora.targets.substr(begin, comma - begin));
      begin = comma + 1;
    }
    config.validate();
    const std::vector<LinearModule> modules = base.linear_modules();
    adapter_ = std::make_unique<LoraAdapter>(config, modules, LoraAdapter::targeted_modules(config, modules));
    Rng init_rng(static_cast<uint64_t>(lora.seed));
    adapter_->initialize(init_rng);
    try {
      adapters.set().activate("");  // the new adapter alone beside the base
      lora_model_ = std::make_unique<LoraModel>(base, *adapter_);
      trainer_ = std::make_unique<EngineTrainer>(*lora_model_, adapters.model().tokenizer(), text, options);
    } catch (...) {
      restore();  // a constructor that throws runs no destructor
      throw;
    }
  }

  void restore() {
    trainer_.reset();
    lora_model_.reset();  // detaches the new adapter
    if (!was_frozen_) adapters_.model().trainable().set_frozen(false);
    AdapterSet& set = adapters_.set();
    set.activate(set.contains(active_) ? active_ : "");
  }

  EngineAdapters& adapters_;
  std::string active_;  // activated again when the trainer goes
  bool was_frozen_ = false;
  std::unique_ptr<LoraAdapter> adapter_;
  std::unique_ptr<LoraModel> lora_model_;
  std::unique_ptr<EngineTrainer> trainer_;
};

}  // namespace
}  // namespace tinylm::wasm

EMSCRIPTEN_BINDINGS(tinylm_lora) {
  using namespace emscripten;
  using namespace tinylm::wasm;

  value_object<LoraOptions>("LoraOptions")
      .field("rank", &LoraOptions::rank)
      .field("alpha", &LoraOptions::alpha)
      .field("dropout", &LoraOptions::dropout)
      .field("targets", &LoraOptions::targets)
      .field("baseModel", &LoraOptions::base_model)
      .field("seed", &LoraOptions::seed);
  class_<EngineAdapters>("Adapters")
      .class_function("create", &EngineAdapters::create)
      .function("names", &EngineAdapters::names)
      .function("active", &EngineAdapters::active)
      .function("activate", &EngineAdapters::activate)
      .function("moduleNames", &EngineAdapters::module_names)
      .function("load", &EngineAdapters::load)
      .function("serialize", &EngineAdapters::serialize)
      .function("copy", &EngineAdapters::copy)
      .function("remove", &EngineAdapters::remove)
      .function("merge", &EngineAdapters::merge);
  class_<EngineLoraTrainer>("LoraTrainer")
      .class_function("create", &EngineLoraTrainer::create)
      .function("step", &EngineLoraTrainer::step)
      .function("validate", &EngineLoraTrainer::validate)
      .function("hasValidation", &EngineLoraTrainer::has_validation)
      .function("trainTokens", &EngineLoraTrainer::train_tokens)
      .function("validationTokens", &EngineLoraTrainer::validation_tokens)
      .function("checkpoint", &EngineLoraTrainer::checkpoint)
      .function("resume", &EngineLoraTrainer::resume)
      .function("keep", &EngineLoraTrainer::keep);
}
