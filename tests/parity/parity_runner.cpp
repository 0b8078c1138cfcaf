// tinylm_parity_runner MODEL BATCH OUT — the C++ half of the PyTorch parity tests (tests/parity/test_*.py).
//
// MODEL: a safetensors file with a model config in __metadata__["config"] (no tokenizer needed); the config's
//        arch picks the model ("gpt", "llama", or a recurrent cell). Or a Hugging Face checkpoint folder
//        (io/hf_checkpoint.hpp: GPT-2 or Llama, one file or shards, F32/F16/BF16).
// BATCH: a safetensors file with "inputs" and "targets" (W,B,T) as F32-encoded integer ids.
// For each of the W windows in turn — carrying recurrent state from one to the next, as stateful truncated BPTT
// does — it runs forward, records loss and logits, zeroes the gradients and runs backward. It then writes OUT:
//   "loss" (W), "logits.<w>" (B,T,V), "grad.<name>" (gradients of the LAST window), "adam.<name>" (parameters
//   after one Adam step, lr 1e-2, on those gradients), "step_logits" (T,V): step() over row 0 of window 0.
// ADAPTER (optional): a LoRA adapter file (lora/adapter_file.hpp) trained on the frozen model instead: the loss,
//   logits and steps include it, "grad.<name>" and "adam.<name>" are the adapter's tensors (PEFT names), and with
//   ADAPTER_OUT the adapter after the Adam step is saved there as tinylm saves adapters.
#include <cstdio>
#include <string>
#include <vector>

#include "io/hf_checkpoint.hpp"
#include "io/safetensors.hpp"
#include "lora/adapter_file.hpp"
#include "lora/lora_model.hpp"
#include "models/gpt.hpp"
#include "models/llama.hpp"
#include "models/recurrent_lm.hpp"
#include "tinylm/error.hpp"
#include "train/optimizer.hpp"

using namespace tinylm;

namespace {

std::unique_ptr<TrainableModel> build(const std::string& path) {
  if (is_hf_checkpoint(path)) return load_hf_network(read_hf_checkpoint(path));
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  const SafetensorsFile file = parse_safetensors(bytes.data(), bytes.size());
  const auto config = nlohmann::json::parse(file.metadata.at("config"));
  if (config.value("arch", "") == "gpt") return GptLM::from_file(config, file);
  if (config.value("arch", "") == "llama") return LlamaLM::from_file(config, file);
  return RecurrentLM::from_file(config, file);
}

std::vector<int32_t> ids(const SafetensorsFile& file, const std::string& name) {
  const SafetensorsEntry* entry = file.find(name);
  check(entry != nullptr, "batch file has no '", name, "'");
  std::vector<int32_t> out;
  for (float value : file.read_f32(*entry)) out.push_back(static_cast<int32_t>(value));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4 || argc > 6) {
    std::fprintf(stderr, "usage: tinylm_parity_runner MODEL BATCH OUT [ADAPTER [ADAPTER_OUT]]\n");
    return 2;
  }
  try {
    const std::vector<uint8_t> batch_bytes = read_file_bytes(argv[2]);
    const SafetensorsFile batch_file = parse_safetensors(batch_bytes.data(), batch_bytes.size());
    std::unique_ptr<TrainableModel> base = build(argv[1]);
    std::unique_ptr<LoraAdapter> adapter;
    std::unique_ptr<TrainableModel> model;
    if (argc >= 5) {
      adapter = load_adapter_file(argv[4], base->linear_modules());
      model = std::make_unique<LoraModel>(*base, *adapter);
    }
    TrainableModel* network = model ? model.get() : base.get();
    const Shape batch_shape = batch_file.find("inputs")->shape;  // (W,B,T)
    const int W = int(batch_shape[0]), B = int(batch_shape[1]), T = int(batch_shape[2]);
    const int V = network->vocab_size();
    const std::vector<int32_t> inputs = ids(batch_file, "inputs"), targets = ids(batch_file, "targets");

    std::vector<float> losses(W);
    std::vector<std::vector<float>> logits(W);
    Parameters& params = network->parameters();
    network->reset_train_state();
    for (int w = 0; w < W; ++w) {
      const int64_t offset = int64_t(w) * B * T;
      losses[w] = network->forward(&inputs[offset], &targets[offset], B, T, false, nullptr);
      logits[w].assign(network->logits(), network->logits() + int64_t(B) * T * V);
      params.zero_grad();
      network->backward();
    }
    std::vector<float> grads = params.grads;

    std::vector<float> step_logits;
    if (auto* recurrent = dynamic_cast<RecurrentLM*>(base.get()))  // the exact path; Half is checked natively
      recurrent->set_step_precision(RecurrentLM::StepPrecision::Float);
    if (auto* gpt = dynamic_cast<GptLM*>(base.get())) gpt->set_step_precision(GptLM::StepPrecision::Float);
    if (auto* llama = dynamic_cast<LlamaLM*>(base.get())) llama->set_step_precision(LlamaLM::StepPrecision::Float);
    network->reset_state();
    for (int t = 0; t < T; ++t) {
      const float* row = network->step(inputs[t]);
      step_logits.insert(step_logits.end(), row, row + V);
    }

    OptimizerOptions adam;
    adam.kind = OptimizerKind::Adam;
    adam.learning_rate = 1e-2f;
    Optimizer optimizer(adam, params.table);
    optimizer.step(nullptr, params, adam.learning_rate);

    std::vector<TensorToWrite> out;
    out.push_back({"loss", {W}, losses.data()});
    for (int w = 0; w < W; ++w) out.push_back({"logits." + std::to_string(w), {B, T, V}, logits[w].data()});
    out.push_back({"step_logits", {T, V}, step_logits.data()});
    for (const TensorSpec& spec : params.table.tensors()) {
      out.push_back({"grad." + spec.name, spec.shape, grads.data() + spec.offset});
      out.push_back({"adam." + spec.name, spec.shape, params.values.data() + spec.offset});
    }
    write_file_atomic(argv[3], serialize_safetensors(out, {}));
    if (argc == 6) save_adapter(argv[5], *adapter, base->arch());
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "tinylm_parity_runner: %s\n", error.what());
    return 1;
  }
}
