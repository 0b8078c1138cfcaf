#include "lora/lora_model.hpp"

#include "io/safetensors.hpp"
#include "kernels/kernels.hpp"
#include "memory_limits.hpp"
#include "models/model_common.hpp"
#include "tinylm/error.hpp"

namespace tinylm {

LoraModel::LoraModel(TrainableModel& base, LoraAdapter& adapter) : base_(base), adapter_(adapter) {
  adapter_.check_fits(base_.linear_modules());
  base_.set_frozen(true);
  base_.set_linear_adapter(&adapter_);
  pool_ = base_.thread_pool();  // a Trainer driving this model splits its optimizer over the base's pool
}

LoraModel::~LoraModel() { base_.set_linear_adapter(nullptr); }

nlohmann::json LoraModel::config_json() const {
  nlohmann::json config = base_.config_json();
  const LoraConfig& lora = adapter_.config();
  config["lora"] = {{"r", lora.rank}, {"lora_alpha", lora.alpha}, {"lora_dropout", lora.dropout},
                    {"target_modules", lora.targets}};
  return config;
}

std::vector<TensorToWrite> LoraModel::tensors_to_save() const { return parameters_to_write(adapter_.parameters()); }

float LoraModel::forward(const int32_t* inputs, const int32_t* targets, int B, int T, bool training, Rng* rng) {
  adapter_.set_dropout_rng(training ? rng : nullptr);
  try {
    const float loss = base_.forward(inputs, targets, B, T, training, rng);
    adapter_.set_dropout_rng(nullptr);
    return loss;
  } catch (...) {
    adapter_.set_dropout_rng(nullptr);
    throw;
  }
}

uint64_t LoraModel::forward_bytes(int B, int T) const {
  return saturating_add(base_.forward_bytes(B, T), adapter_.cache_bytes(saturating_product(B, T)));
}

void merge_lora(TrainableModel& model, const LoraAdapter& adapter, float sign) {
  adapter.check_fits(model.linear_modules());
  Parameters& params = model.parameters();
  const int r = adapter.config().rank;
  for (const LoraAdapter::Term& term : adapter.terms()) {
    const TensorSpec& spec = params.table.find(term.linear.path + ".weight");
    check(!spec.compact, "LoRA merge: '", spec.name, "' is held as ", compact_kind_name(params.table.compact_kind()),
          ": load the model with float weights to merge an adapter into it (or keep the adapter attached)");
    check(spec.shape == Shape{term.linear.out, term.linear.in}, "LoRA merge: '", spec.name, "' has shape ",
          shape_string(spec.shape), ", the adapter expects [", term.linear.out, ", ", term.linear.in, "]");
    const LoraWeights w = adapter.weights(term);
    // (O, I) += sign·scale · B (O, r) · A (r, I), with the scale folded into B's rows' product.
    std::vector<float> scaled_b(w.B, w.B + int64_t(term.linear.out) * r);
    for (float& value : scaled_b) value *= sign * w.scale;
    sgemm_nn(params.values.data() + spec.offset, term.linear.in, scaled_b.data(), r, w.A, term.linear.in,
             term.linear.out, term.linear.in, r, 1.0f);
  }
  model.reset_state();  // generation's half-precision copies are taken again from the merged weights
}

}  // namespace tinylm
