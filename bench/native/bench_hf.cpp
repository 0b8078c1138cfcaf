// bench_hf: the small open checkpoints' shapes natively — load time and peak memory from a Hugging Face folder,
// batch-1 prefill and generation tokens/s (KV cache) with the weights held as f32 (step()s from float, half and
// int8 copies), f16 or int8 (--weights: compact residency, compact_matrices.hpp). Random weights: the Hub is out
// of reach, and speed does not depend on the values. One JSON object per line on stdout:
//   {"name":"smollm2-135m_f16_load","seconds":…,"model_mb":…,"peak_rss_mb":…,"rss_after_load_mb":…}
//   {"name":"smollm2-135m_f16_prefill","tokens_per_second":…}  {"name":"smollm2-135m_f16_generate",…}
// Shapes: smollm2-135m (30 layers, C 576, 9 heads over 3 key/value heads, MLP 1536, vocab 49152, tied) and
// gpt2-124m (12 layers, C 768, 12 heads, vocab 50257). The folder is written in the published layout (config.json,
// model.safetensors in the dtype asked for: GPT-2's Conv1D weights stored (in, out)), then loaded as the CLI loads it.
// Peak memory is the process's (getrusage maxrss): measure a load in a process that wrote nothing —
// `bench_hf --write-only --dir D` then `bench_hf --load D --weights f16` (bench/native/hf_memory.sh does both).
// Usage: bench_hf [--shape smollm2-135m|gpt2-124m] [--dtype f32|bf16] [--weights f32|f16|int8] [--tokens N]
//                 [--dir DIR [--keep] | --write-only --dir DIR | --load DIR] [--max-context N] [--threads N]
// --threads N (default 1) puts the model on a pool of N threads, as the CLI's --threads does.
#include <stdlib.h>  // mkdtemp
#include <sys/resource.h>
#include <unistd.h>  // sysconf

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "generate/sampler.hpp"
#include "io/hf_checkpoint.hpp"
#include "io/safetensors.hpp"
#include "models/gpt.hpp"
#include "models/llama.hpp"
#include "parallel/thread_pool.hpp"
#include "tinylm/rng.hpp"

using namespace tinylm;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

void write_text(const std::string& path, const std::string& text) {
  write_file_atomic(path, std::vector<uint8_t>(text.begin(), text.end()));
}

// A random model of the shape, written to `dir` as its Hugging Face folder holds it.
void write_folder(const std::string& shape, DType dtype, const std::string& dir) {
  Rng rng(1);
  nlohmann::json config;
  std::vector<TensorToWrite> tensors;
  std::vector<std::vector<float>> transposed;  // GPT-2's Conv1D copies
  std::unique_ptr<TrainableModel> model;
  if (shape == "smollm2-135m") {
    config = {{"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"}, {"vocab_size", 49152},
              {"hidden_size", 576}, {"intermediate_size", 1536}, {"num_hidden_layers", 30},
              {"num_attention_heads", 9}, {"num_key_value_heads", 3}, {"max_position_embeddings", 8192},
              {"rms_norm_eps", 1e-5}, {"rope_theta", 100000.0}, {"tie_word_embeddings", true},
              {"hidden_act", "silu"}, {"torch_dtype", "bfloat16"}};
    LlamaConfig shape_config;  // its defaults are SmolLM2-135M's shape
    shape_config.vocab_size = 49152;
    shape_config.context_size = 8192;
    shape_config.rope.theta = 100000.0f;
    auto llama = std::make_unique<LlamaLM>(shape_config);
    llama->initialize(rng);
    tensors = llama->tensors_to_save();  // Hugging Face's names already
    model = std::move(llama);
  } else {
    config = {{"architectures", {"GPT2LMHeadModel"}}, {"model_type", "gpt2"}, {"vocab_size", 50257},
              {"n_positions", 1024}, {"n_ctx", 1024}, {"n_embd", 768}, {"n_layer", 12}, {"n_head", 12},
              {"activation_function", "gelu_new"}, {"layer_norm_epsilon", 1e-5}};
    GptConfig gpt;
    gpt.vocab_size = 50257;
    gpt.context_size = 1024;
    gpt.embed_size = 768;
    gpt.num_layers = 12;
    gpt.num_heads = 12;
    gpt.gelu = GeluKind::Tanh;
    auto network = std::make_unique<GptLM>(gpt);
    network->initialize(rng);
    for (TensorToWrite tensor : network->tensors_to_save()) {
      if (tensor.name == "lm_head.weight") continue;  // tied: absent from the published file
      tensor.name = tensor.name.substr(std::strlen("transformer."));  // the published file has no prefix
      if (tensor.shape.size() == 2 && tensor.name.rfind("h.", 0) == 0) {  // Conv1D: stored (in, out)
        const int64_t rows = tensor.shape[0], cols = tensor.shape[1];
        std::vector<float>& copy = transposed.emplace_back(size_t(rows * cols));
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = 0; c < cols; ++c) copy[c * rows + r] = tensor.values[r * cols + c];
        tensor.shape = {cols, rows};
        tensor.values = copy.data();
      }
      tensors.push_back(tensor);
    }
    model = std::move(network);
  }
  for (TensorToWrite& tensor : tensors) tensor.dtype = dtype;
  write_text(dir + "/config.json", config.dump(2));
  write_file_atomic(dir + "/model.safetensors", serialize_safetensors(tensors, {{"format", "pt"}}));
}

// Resident set now and at its peak, in MB (Linux: /proc/self/statm; ru_maxrss in kB).
double rss_mb() {
  long pages = 0, resident = 0;
  if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(statm, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(statm);
  }
  return double(resident) * double(sysconf(_SC_PAGESIZE)) / 1e6;
}
double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_maxrss) / 1e3;
}

// Batch-1 prefill (a prompt of `tokens` through the model's prefill(), in the Generator's chunks of 128: batched
// products for GPT and Llama) and generation (each step's token sampled from the last logits).
void run(const std::string& name, LanguageModel& model, int tokens) {
  SamplingOptions sampling;
  sampling.seed = 1;
  Sampler sampler(sampling, model.vocab_size());
  Rng rng(2);
  model.reset_state();
  const auto prefill_start = Clock::now();
  std::vector<int32_t> prompt(tokens);
  for (int32_t& token : prompt) token = int32_t(rng.below(uint32_t(model.vocab_size())));
  const float* logits = nullptr;
  for (int at = 0; at < tokens; at += 128) logits = model.prefill(prompt.data() + at, std::min(128, tokens - at));
  std::printf("{\"name\":\"%s_prefill\",\"tokens_per_second\":%.2f,\"tokens\":%d}\n", name.c_str(),
              tokens / seconds_since(prefill_start), tokens);
  for (int i = 0; i < model.vocab_size(); ++i) {
    if (!std::isfinite(logits[i])) {
      std::fprintf(stderr, "bench_hf: %s: logit %d is %f\n", name.c_str(), i, logits[i]);
      std::exit(1);
    }
  }
  std::vector<int32_t> history = {1};
  model.reset_state();
  logits = model.step(history.back());
  const auto start = Clock::now();
  for (int i = 0; i < tokens; ++i) {
    history.push_back(sampler.sample(logits, history));
    logits = model.step(history.back());
  }
  std::printf("{\"name\":\"%s_generate\",\"tokens_per_second\":%.2f,\"tokens\":%d}\n", name.c_str(),
              tokens / seconds_since(start), tokens);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::string shape = "smollm2-135m", dtype_name_arg = "bf16", weights = "f32", dir, load_dir;
  int tokens = 64, max_context = 2048, threads = 1;
  bool keep = false, write_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--keep") keep = true;
    else if (flag == "--write-only") write_only = keep = true;
    else if (i + 1 < argc && flag == "--shape") shape = argv[++i];
    else if (i + 1 < argc && flag == "--dtype") dtype_name_arg = argv[++i];
    else if (i + 1 < argc && flag == "--weights") weights = argv[++i];
    else if (i + 1 < argc && flag == "--tokens") tokens = std::atoi(argv[++i]);
    else if (i + 1 < argc && flag == "--max-context") max_context = std::atoi(argv[++i]);
    else if (i + 1 < argc && flag == "--threads") threads = std::atoi(argv[++i]);
    else if (i + 1 < argc && flag == "--dir") dir = argv[++i];
    else if (i + 1 < argc && flag == "--load") load_dir = argv[++i];
    else {
      std::fprintf(stderr, "usage: bench_hf [--shape smollm2-135m|gpt2-124m] [--dtype f32|bf16] "
                           "[--weights f32|f16|int8] [--tokens N] [--dir DIR [--keep] | --write-only --dir DIR | "
                           "--load DIR] [--max-context N] [--threads N]\n");
      return 2;
    }
  }
  if (shape != "smollm2-135m" && shape != "gpt2-124m") {
    std::fprintf(stderr, "bench_hf: unknown --shape %s\n", shape.c_str());
    return 2;
  }
  if (threads < 1 || threads > ThreadPool::kMaxThreads) {
    std::fprintf(stderr, "bench_hf: --threads must be 1 to %d\n", ThreadPool::kMaxThreads);
    return 2;
  }
  if (weights != "f32" && weights != "f16" && weights != "int8") {
    std::fprintf(stderr, "bench_hf: --weights must be f32, f16 or int8\n");
    return 2;
  }
  const DType dtype = dtype_name_arg == "f32" ? DType::F32 : DType::BF16;
  try {
    if (load_dir.empty()) {
      if (dir.empty()) {
        std::string pattern = (std::filesystem::temp_directory_path() / "tinylm-bench-hf-XXXXXX").string();
        if (!mkdtemp(pattern.data())) throw Error("cannot create a temporary folder");
        dir = pattern;
      }
      std::filesystem::create_directories(dir);
      const auto write_start = Clock::now();
      write_folder(shape, dtype, dir);
      std::fprintf(stderr, "bench_hf: wrote %s (%s) in %.1f s\n", dir.c_str(), dtype_name_arg.c_str(),
                   seconds_since(write_start));
      if (write_only) return 0;
    } else {
      dir = load_dir;
      keep = true;
    }
    HfLoadOptions options;
    options.max_context = max_context;
    options.residency = weights == "f16" ? Residency::F16 : weights == "int8" ? Residency::Int8 : Residency::Float;
    const double rss_before = rss_mb();
    const auto load_start = Clock::now();
    std::unique_ptr<TrainableModel> model = load_hf_network(read_hf_checkpoint(dir), options);
    const double load_seconds = seconds_since(load_start);
    ThreadPool pool(threads);
    model->set_thread_pool(&pool);
    const Parameters& params = model->parameters();
    const double model_mb = (double(params.values.size()) * 4 + double(params.table.compact_bytes())) / 1e6;
    const std::string name = shape + "_" + weights;
    std::printf("{\"name\":\"%s_load\",\"seconds\":%.2f,\"parameters\":%llu,\"model_mb\":%.1f,"
                "\"rss_before_mb\":%.1f,\"rss_after_load_mb\":%.1f,\"peak_rss_mb\":%.1f}\n",
                name.c_str(), load_seconds, static_cast<unsigned long long>(params.table.count()), model_mb,
                rss_before, rss_mb(), peak_rss_mb());
    std::fflush(stdout);
    if (weights == "f32") {  // step()'s copies of float weights: none, half panels, int8 rows
      const char* names[] = {"_step_float", "_step_half", "_step_int8"};
      for (int precision = 0; precision < 3; ++precision) {
        if (auto* llama = dynamic_cast<LlamaLM*>(model.get())) llama->set_step_precision(LlamaLM::StepPrecision(precision));
        if (auto* gpt = dynamic_cast<GptLM*>(model.get())) gpt->set_step_precision(GptLM::StepPrecision(precision));
        run(name + names[precision], *model, tokens);
      }
    } else {
      run(name, *model, tokens);
    }
    std::printf("{\"name\":\"%s_end\",\"peak_rss_mb\":%.1f}\n", name.c_str(), peak_rss_mb());
    if (!keep) std::filesystem::remove_all(dir);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_hf: %s\n", error.what());
    return 1;
  }
  return 0;
}
