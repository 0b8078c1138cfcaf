// bench_lora: LoRA fine-tuning next to full fine-tuning of a SmolLM2-135M-shaped Llama (30 layers, C 576, 9 heads
// over 3 key/value heads, MLP 1536, vocab 49152, tied; random weights — speed and memory do not depend on them),
// natively. One mode per process, so the peak resident memory (getrusage) is that mode's alone:
//   bench_lora --mode lora [--rank 8] [--targets q_proj,v_proj]   the base frozen, the adapter trained (Adam)
//   bench_lora --mode full                                          every weight trained (Adam)
// Common: [--batch 4] [--seq 64] [--steps 6]; the first step (buffer allocation) is not timed. One JSON object on
// stdout: {"name", "tokens_per_second", "peak_rss_mb", "trainable_parameters", "adapter_bytes" (LoRA)}.
// peak_rss_mb is the peak while training (Linux's VmHWM, reset once the model is built and, for LoRA, frozen): a
// model constructed or loaded today allocates its gradient block before freezing releases it, a transient
// 4 bytes per weight that this figure leaves out; "load_peak_rss_mb" is the peak before the reset.
// bench/lora.sh runs both modes back to back.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>

#include "lora/adapter_file.hpp"
#include "lora/lora_model.hpp"
#include "models/llama.hpp"
#include "tinylm/rng.hpp"
#include "train/trainer.hpp"

using namespace tinylm;
using Clock = std::chrono::steady_clock;

namespace {

// Peak resident MiB so far (VmHWM); reset_peak() starts a new peak from the current resident set.
double peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return -1;
}
void reset_peak() { std::ofstream("/proc/self/clear_refs") << "5"; }

}  // namespace

int main(int argc, char** argv) {
  std::string mode = "lora", targets = "q_proj,v_proj";
  int rank = 8, batch = 4, seq = 64, steps = 6;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--mode") mode = value;
    else if (flag == "--targets") targets = value;
    else if (flag == "--rank") rank = std::stoi(value);
    else if (flag == "--batch") batch = std::stoi(value);
    else if (flag == "--seq") seq = std::stoi(value);
    else if (flag == "--steps") steps = std::stoi(value);
    else {
      std::fprintf(stderr, "bench_lora: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (mode != "lora" && mode != "full") {
    std::fprintf(stderr, "bench_lora: --mode must be lora or full\n");
    return 2;
  }
  try {
    LlamaConfig config;  // its defaults are SmolLM2-135M's shape
    config.vocab_size = 49152;
    config.context_size = 2048;
    config.rope.theta = 100000.0f;
    LlamaLM model(config);
    Rng rng(1);
    model.initialize(rng);

    std::unique_ptr<LoraAdapter> adapter;
    std::unique_ptr<LoraModel> lora;
    if (mode == "lora") {
      LoraConfig lora_config;
      lora_config.rank = rank;
      lora_config.alpha = 2.0f * rank;
      for (size_t start = 0; start <= targets.size();) {
        const size_t comma = std::min(targets.find(',', start), targets.size());
        lora_config.targets.push_back(targets.substr(start, comma - start));
        start = comma + 1;
      }
      const std::vector<LinearModule> modules = model.linear_modules();
      adapter = std::make_unique<LoraAdapter>(lora_config, modules, LoraAdapter::targeted_modules(lora_config, modules));
      adapter->initialize(rng);
      lora = std::make_unique<LoraModel>(model, *adapter);
    }
    TrainableModel& trained = lora ? static_cast<TrainableModel&>(*lora) : model;
    const double load_peak = peak_rss_mb();
    reset_peak();

    std::vector<int32_t> text(20000);
    for (int32_t& id : text) id = int32_t(rng.below(uint32_t(config.vocab_size)));
    TrainOptions options;
    options.steps = steps + 1;
    options.batch = batch;
    options.seq = seq;
    options.optimizer.kind = OptimizerKind::Adam;
    options.optimizer.learning_rate = 1e-4f;
    Trainer trainer(trained, text, {}, options);
    trainer.step();  // allocation
    const auto start = Clock::now();
    for (int i = 0; i < steps; ++i) trainer.step();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

    nlohmann::json result = {
        {"name", "smollm2-135m_" + mode + (lora ? "_r" + std::to_string(rank) + "_" + targets : std::string()) +
                     "_train"},
        {"batch", batch},
        {"seq", seq},
        {"tokens_per_second", double(steps) * batch * seq / seconds},
        {"peak_rss_mb", peak_rss_mb()},
        {"load_peak_rss_mb", load_peak},
        {"trainable_parameters", trained.parameters().values.size()}};
    if (adapter) result["adapter_bytes"] = serialize_adapter(*adapter, model.arch()).size();
    std::printf("%s\n", result.dump().c_str());
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_lora: %s\n", error.what());
    return 1;
  }
}
