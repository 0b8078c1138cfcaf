// bench_int8_accuracy: how far int8 weights move a decoder's logits from its float weights, for the two products an
// int8 model could step with:
//   w8·f32  int8 weights (per row) times float activations — tinylm's int8 arithmetic before the integer product;
//   w8·a8   the same int8 weights times activations quantised per token, summed in int32 (sgemm_q8_panels) — now.
// The float model is the reference. Its product matrices (every 2-D weight but GPT's position table) are rounded
// through int8 and back to floats in place, and stepped in float (w8·f32) and with int8 step copies (w8·a8: the
// copies re-quantise the rounded rows to the same bytes). Models: the shipped moby-bpe-gpt (trained) and
// random-weight GPT-2-small (124M) and SmolLM2-135M shapes. One JSON object per model and product on stdout:
//   {"model":…,"product":"w8a8","max_rel":…,"mean_rel":…,"top1_agree":…,"greedy_same_prefix":…,"greedy_agree":…}
// max_rel / mean_rel: over T teacher-forced positions, max_i |Δlogit_i| / max_i |logit_i| (worst and mean);
// top1_agree: positions whose argmax equals the float model's; greedy_*: G greedy tokens after the stream's first half
// (prefilled), the length of the identical prefix and the share of equal tokens. One near-tie decided the other way
// changes the rest of a greedy text, so top1_agree is the steadier measure.
// Usage: bench_int8_accuracy [--models DIR] [--positions T] [--generate G] [--skip-random]
// (built by cmake --build build --target bench_int8_accuracy: the benchmarks are not in the default build)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "kernels/kernels.hpp"
#include "models/gpt.hpp"
#include "models/llama.hpp"
#include "tinylm/model.hpp"
#include "tinylm/rng.hpp"
#include "tinylm/tokenizer.hpp"

using namespace tinylm;

namespace {

enum class Product { Float, W8F32, W8A8 };

// Every 2-D weight but a position table, rounded to int8 per row and back (the values int8 residency holds).
void round_matrices_through_int8(TrainableModel& model) {
  Parameters& params = model.parameters();
  for (const TensorSpec& spec : params.table.tensors()) {
    if (spec.shape.size() != 2 || spec.compact || spec.name.find("wpe") != std::string::npos) continue;
    const int rows = int(spec.shape[0]), cols = int(spec.shape[1]);
    float* values = params.values.data() + spec.offset;
    std::vector<int8_t> q(size_t(rows) * cols);
    std::vector<float> scales(static_cast<size_t>(rows));
    if (!quantize_rows_int8(q.data(), scales.data(), values, rows, cols)) throw Error(spec.name + " is not finite");
    for (size_t e = 0; e < q.size(); ++e) values[e] = scales[e / size_t(cols)] * float(q[e]);
  }
}

template <typename Network>
void set_product(Network& network, Product product) {
  network.set_step_precision(product == Product::W8A8 ? Network::StepPrecision::Int8 : Network::StepPrecision::Float);
  network.reset_state();
}

int argmax(const float* logits, int V) { return int(std::max_element(logits, logits + V) - logits); }

struct Run {
  std::vector<std::vector<float>> logits;  // per teacher-forced position (V)
  std::vector<int32_t> greedy;             // G tokens
};

Run run(LanguageModel& model, const std::vector<int32_t>& stream, const std::vector<int32_t>& prompt, int G) {
  const int V = model.vocab_size();
  Run out;
  model.reset_state();
  for (int32_t token : stream) {
    const float* logits = model.step(token);
    out.logits.emplace_back(logits, logits + V);
  }
  model.reset_state();
  const float* logits = model.prefill(prompt.data(), int(prompt.size()));
  for (int i = 0; i < G; ++i) {
    out.greedy.push_back(argmax(logits, V));
    logits = model.step(out.greedy.back());
  }
  return out;
}

void report(const std::string& name, const char* product, const Run& reference, const Run& got) {
  const int V = int(reference.logits[0].size()), T = int(reference.logits.size()), G = int(reference.greedy.size());
  double worst = 0, mean = 0;
  int top1 = 0;
  for (int t = 0; t < T; ++t) {
    const std::vector<float>& a = reference.logits[t];
    const std::vector<float>& b = got.logits[t];
    double max_diff = 0, max_abs = 0;
    for (int i = 0; i < V; ++i) {
      max_diff = std::max(max_diff, double(std::fabs(a[i] - b[i])));
      max_abs = std::max(max_abs, double(std::fabs(a[i])));
    }
    const double rel = max_diff / std::max(max_abs, 1e-30);
    worst = std::max(worst, rel);
    mean += rel / T;
    top1 += argmax(a.data(), V) == argmax(b.data(), V);
  }
  int prefix = 0, same = 0;
  while (prefix < G && got.greedy[prefix] == reference.greedy[prefix]) ++prefix;
  for (int i = 0; i < G; ++i) same += got.greedy[i] == reference.greedy[i];
  std::printf("{\"model\":\"%s\",\"product\":\"%s\",\"max_rel\":%.3e,\"mean_rel\":%.3e,\"top1_agree\":\"%d/%d\","
              "\"greedy_same_prefix\":\"%d/%d\",\"greedy_agree\":\"%d/%d\"}\n",
              name.c_str(), product, worst, mean, top1, T, prefix, G, same, G);
  std::fflush(stdout);
}

template <typename Network>
void measure(const std::string& name, Network& network, const std::vector<int32_t>& stream, int G) {
  const std::vector<int32_t> prompt(stream.begin(), stream.begin() + stream.size() / 2);
  set_product(network, Product::Float);
  const Run reference = run(network, stream, prompt, G);
  round_matrices_through_int8(network);
  set_product(network, Product::W8F32);
  report(name, "w8f32", reference, run(network, stream, prompt, G));
  set_product(network, Product::W8A8);
  report(name, "w8a8", reference, run(network, stream, prompt, G));
}

std::vector<int32_t> random_ids(int n, int V, uint64_t seed) {
  Rng rng(seed);
  std::vector<int32_t> ids(n);
  for (int32_t& id : ids) id = int32_t(rng.below(uint32_t(V)));
  return ids;
}

}  // namespace

int main(int argc, char** argv) {
  std::string models = "models";
  int T = 64, G = 48;
  bool random_models = true;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--skip-random") random_models = false;
    else if (i + 1 < argc && flag == "--models") models = argv[++i];
    else if (i + 1 < argc && flag == "--positions") T = std::atoi(argv[++i]);
    else if (i + 1 < argc && flag == "--generate") G = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: bench_int8_accuracy [--models DIR] [--positions T] [--generate G] [--skip-random]\n");
      return 2;
    }
  }
  try {
    for (const char* file : {"moby-bpe-gpt", "moby-char-gpt"}) {
      Model model = load_model(models + "/" + file + ".safetensors");
      auto& gpt = dynamic_cast<GptLM&>(*model.network);
      const std::string text =
          "Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse, and "
          "nothing particular to interest me on shore, I thought I would sail about a little and see the watery part "
          "of the world.";
      std::vector<int32_t> stream = model.tokenizer->encode(text);
      stream.resize(std::min<size_t>(stream.size(), size_t(T)));
      measure(file, gpt, stream, G);
    }
    if (random_models) {
      GptConfig gpt2;  // GPT-2 small
      gpt2.vocab_size = 50257;
      gpt2.context_size = 1024;
      gpt2.embed_size = 768;
      gpt2.num_layers = 12;
      gpt2.num_heads = 12;
      gpt2.gelu = GeluKind::Tanh;
      GptLM gpt(gpt2);
      Rng rng(1);
      gpt.initialize(rng);
      const std::vector<int32_t> stream = random_ids(T, gpt2.vocab_size, 3);
      measure("random-gpt2-124m", gpt, stream, G);

      LlamaConfig smol;  // its defaults are SmolLM2-135M's shape
      smol.vocab_size = 49152;
      smol.context_size = 2048;
      smol.rope.theta = 100000.0f;
      LlamaLM llama(smol);
      llama.initialize(rng);
      const std::vector<int32_t> llama_stream = random_ids(T, smol.vocab_size, 4);
      measure("random-smollm2-135m", llama, llama_stream, G);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_int8_accuracy: %s\n", e.what());
    return 1;
  }
  return 0;
}
