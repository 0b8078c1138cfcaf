// tinylm train: fit a tokenizer on the text, train a model with a live progress line, validate on the held-out
// tail, keep the best checkpoint (atomic writes), and stop on the step budget, the time limit, early stopping,
// or a non-finite loss (the checkpoint on disk stays the last good one). With --model (a model file or a Hugging
// Face checkpoint folder), fine-tune that model with its own tokenizer instead; with --lora-rank too, train a LoRA
// adapter beside the frozen model (lora/) and save the adapter as --out. --checkpoint-every N writes a training
// checkpoint (train/checkpoint.hpp) to --checkpoint FILE every N steps and when the time limit stops the run;
// --resume FILE continues such a run exactly, given the same flags and text. --dtype f16 (or int8, for a model)
// stores --out's matrices compactly: an F16 adapter is half the bytes.
#include <chrono>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "args.hpp"
#include "common.hpp"
#include "generate/generator.hpp"
#include "io/hf_checkpoint.hpp"
#include "lora/adapter_file.hpp"
#include "lora/lora_model.hpp"
#include "lora_options.hpp"
#include "models/gpt.hpp"
#include "models/ngram.hpp"
#include "models/recurrent_lm.hpp"
#include "parallel/thread_pool.hpp"
#include "tinylm/error.hpp"
#include "tinylm/model.hpp"
#include "train/checkpoint.hpp"
#include "train/trainer.hpp"

namespace tinylm::cli {

namespace {

std::unique_ptr<Tokenizer> fit_tokenizer(const Args& args, const std::string& text) {
  const std::string kind = args.text("tokenizer", "char");
  if (kind == "char") {
    CharTokenizerOptions options;
    options.lowercase = args.flag("lowercase");
    options.max_vocab = args.integer_in("vocab", 0, 0, INT32_MAX);
    options.always_include = named_character_set(args.text("charset", ""));
    return fit_char_tokenizer(text, options);
  }
  if (kind == "word") {
    WordTokenizerOptions options;
    options.lowercase = !args.flag("keep-case");
    options.max_vocab = args.integer_in("vocab", 0, 0, INT32_MAX);
    return fit_word_tokenizer(text, options);
  }
  if (kind == "bpe") {
    BpeTokenizerOptions options;
    options.vocab_size = args.integer_in("vocab", options.vocab_size, 1, INT32_MAX);
    return fit_bpe_tokenizer(text, options);
  }
  throw UsageError("--tokenizer must be char, word or bpe, got '" + kind + "'");
}

TrainOptions train_options(const Args& args) {
  TrainOptions options;
  options.steps = args.integer_in("steps", 1000, 1, INT32_MAX);
  options.batch = args.integer_in("batch", 32, 1, INT32_MAX);
  options.seq = args.integer_in("seq", 64, 1, INT32_MAX);
  const std::string optimizer = args.text("optimizer", "adam");
  if (!parse_optimizer_kind(optimizer, &options.optimizer.kind))
    throw UsageError("--optimizer must be adam, adamw, rmsprop or sgd, got '" + optimizer + "'");
  options.optimizer.learning_rate = float(args.number_in("lr", 2e-3, 0, INFINITY));
  options.optimizer.momentum = float(args.number_in("momentum", 0, 0, 1, true));
  options.optimizer.nesterov = args.flag("nesterov");
  options.optimizer.weight_decay =
      float(args.number_in("weight-decay", options.optimizer.kind == OptimizerKind::AdamW ? 0.01 : 0.0, 0, INFINITY));
  options.clip = float(args.number_in("clip", 0, 0, INFINITY));
  options.warmup_steps = args.integer_in("warmup", 0, 0, INT32_MAX);
  options.cosine = args.flag("cosine");
  options.eval_batches = args.integer_in("eval-batches", 50, 1, INT32_MAX);
  options.patience = args.integer_in("patience", 0, 0, INT32_MAX);
  options.stateful = args.flag("stateful");
  options.seed = static_cast<uint64_t>(args.integer_in("seed", 1, 0, INT32_MAX));
  return options;
}

void print_samples(LanguageModel& network, const Tokenizer& tokenizer, int count, int length) {
  for (int i = 0; i < count; ++i) {
    GenerateOptions options;
    options.max_tokens = length;
    options.sampling.temperature = 0.8f;
    options.sampling.seed = static_cast<uint64_t>(i + 1);
    Generator generator(network, tokenizer, options);
    generator.start("\n");
    std::string text, piece;
    while (generator.next(&piece)) text += piece;
    text += piece;
    std::printf("--- sample %d (seed %d, temperature 0.8) ---\n%s\n", i + 1, i + 1, text.c_str());
  }
}

int train_ngram(const Args& args, Model& model, const std::vector<int32_t>& train,
                const std::vector<int32_t>& validation) {
  const int order = args.integer_in("order", 5, 1, NgramModel::kMaxOrder);
  const auto started = std::chrono::steady_clock::now();
  auto ngram = NgramModel::fit(train, model.tokenizer->vocab_size(), order);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  nlohmann::json report = {{"arch", "ngram"}, {"order", order}, {"train_tokens", train.size()},
                           {"fit_seconds", seconds}};
  if (validation.size() > 1) {
    const EvalStats stats = ngram->evaluate(validation);
    report["val_loss"] = stats.loss;
    report["val_perplexity"] = stats.perplexity;
    report["val_accuracy"] = stats.accuracy;
  }
  std::cout << report.dump() << std::endl;
  model.network = std::move(ngram);
  if (args.has("out")) save_model(model, args.text("out", ""));
  print_samples(*model.network, *model.tokenizer, args.integer_in("samples", 0, 0, INT32_MAX), 200);
  return 0;
}

// The network --arch asks for, initialised from --seed; *shape describes it for the start-up line.
//   recurrent: --layers --hidden --embed --dropout
//   gpt:       --layers --heads --embed --context [--no-bias] [--gelu tanh|exact] --dropout; --seq ≤ --context
std::unique_ptr<TrainableModel> build_network(const Args& args, const std::string& arch, int vocab_size,
                                              std::string* shape) {
  Rng init_rng(static_cast<uint64_t>(args.integer("seed", 1)));
  if (arch == "gpt") {
    GptConfig config;
    config.vocab_size = vocab_size;
    config.num_layers = args.integer("layers", 4);
    config.num_heads = args.integer("heads", 4);
    config.embed_size = args.integer("embed", 128);
    config.context_size = args.integer("context", 128);
    config.bias = !args.flag("no-bias");
    config.dropout = float(args.number_in("dropout", 0, 0, 1, true));
    const std::string gelu = args.text("gelu", "exact");
    if (!parse_gelu_kind(gelu, &config.gelu)) throw UsageError("--gelu must be tanh or exact, got '" + gelu + "'");
    const int seq = args.integer("seq", 64);
    if (seq > config.context_size)
      throw UsageError("--seq " + std::to_string(seq) + " exceeds the GPT's --context " +
                       std::to_string(config.context_size) + ": a window cannot be longer than the context");
    auto network = std::make_unique<GptLM>(config);
    network->initialize(init_rng);
    *shape = std::to_string(config.num_layers) + " layers × " + std::to_string(config.num_heads) + " heads, C=" +
             std::to_string(config.embed_size) + ", context " + std::to_string(config.context_size);
    return network;
  }
  RecurrentConfig config;
  if (!parse_cell_kind(arch, &config.cell))
    throw UsageError("--arch must be lstm, gru, rnn, rnn_tanh, rnn_relu, gpt or ngram, got '" + arch + "'");
  config.vocab_size = vocab_size;
  config.embed_size = args.integer("embed", 64);
  config.hidden_size = args.integer("hidden", 256);
  config.num_layers = args.integer("layers", 2);
  config.dropout = float(args.number_in("dropout", 0, 0, 1, true));
  auto network = std::make_unique<RecurrentLM>(config);
  network->initialize(init_rng);
  *shape = std::to_string(config.num_layers) + "×" + std::to_string(config.hidden_size);
  return network;
}

// --model: the loaded network, to fine-tune; its shape and tokenizer are the file's, so flags describing a new
// model are refused rather than ignored.
std::unique_ptr<TrainableModel> loaded_network(const Args& args, Model& model, std::string* shape) {
  for (const char* flag : {"arch", "layers", "hidden", "embed", "heads", "context", "gelu", "no-bias", "tokenizer",
                           "vocab", "charset", "lowercase", "keep-case", "order"}) {
    if (args.has(flag))
      throw UsageError(std::string("--") + flag + " describes a new model; --model fine-tunes the one it loads");
  }
  model = load_model_or_checkpoint(args.text("model", ""));
  auto* trainable = dynamic_cast<TrainableModel*>(model.network.get());
  if (!trainable) throw UsageError("--model: a " + model.network->arch() + " model has no weights to fine-tune");
  model.network.release();
  *shape = "fine-tuning " + args.text("model", "") + ", context " + std::to_string(trainable->context_size());
  return std::unique_ptr<TrainableModel>(trainable);
}

}  // namespace

int train_command(int argc, char** argv) {
  const Args args(std::vector<std::string>(argv + 2, argv + argc),
                  {"arch", "layers", "hidden", "embed", "data", "steps", "batch", "seq", "optimizer", "lr", "clip",
                   "dropout", "seed", "out", "tokenizer", "vocab", "momentum", "weight-decay", "warmup",
                   "eval-every", "eval-batches", "patience", "val-fraction", "time-limit", "order", "samples", "log",
                   "heads", "context", "gelu", "charset", "model", "lora-rank", "lora-alpha", "lora-dropout",
                   "lora-targets", "resume", "checkpoint", "checkpoint-every", "threads", "dtype"},
                  {"lowercase", "keep-case", "nesterov", "cosine", "stateful", "quiet", "no-bias"});
  // Every numeric flag is checked before the text is read or a model built: a usage error costs nothing.
  ThreadPool pool(thread_count(args));
  const TrainOptions options = train_options(args);
  const int eval_every = args.integer_in("eval-every", 200, 1, INT32_MAX);
  const double time_limit = args.number_in("time-limit", 0, 0, INFINITY);
  const int checkpoint_every = args.has("checkpoint-every") ? args.integer_in("checkpoint-every", 1, 1, INT32_MAX) : 0;
  const std::string checkpoint_path = args.text("checkpoint", args.text("resume", ""));
  if (args.has("checkpoint-every") && checkpoint_path.empty())
    throw UsageError("--checkpoint-every needs --checkpoint FILE (or --resume FILE) to write to");
  const float val_fraction = float(args.number_in("val-fraction", 0.1, 0, 1, true));
  const int samples = args.integer_in("samples", 0, 0, INT32_MAX);
  args.integer_in("order", 5, 1, NgramModel::kMaxOrder);
  const bool lora = args.has("lora-rank");
  const WeightStorage storage = dtype_flag(args, "f32");  // how --out stores its matrices
  if (lora && storage == WeightStorage::Int8)
    throw UsageError("--dtype int8 is for model files: a LoRA adapter is saved as f32 or f16");
  for (const char* flag : kLoraFlags)
    if (args.has(flag) && !args.has("model"))
      throw UsageError(std::string("--") + flag + " trains an adapter for an existing model: give --model FILE|DIR");
  if (args.has("model")) lora_config_from_args(args, "llama");  // range checks before anything is loaded
  const std::string data_path = args.has("data") ? args.text("data", "") : default_corpus_path();
  const std::string text = read_text_file(data_path);

  Model model;
  std::string shape;
  std::unique_ptr<TrainableModel> network;
  if (args.has("model")) network = loaded_network(args, model, &shape);
  else model.tokenizer = fit_tokenizer(args, text);
  const std::vector<int32_t> tokens = model.tokenizer->encode(text);
  std::vector<int32_t> train, validation;
  split_tokens(tokens, val_fraction, &train, &validation);

  const std::string arch = network ? network->arch() : args.text("arch", "lstm");
  if (arch == "ngram") return train_ngram(args, model, train, validation);
  if (!network) network = build_network(args, arch, model.tokenizer->vocab_size(), &shape);
  network->set_thread_pool(&pool);

  // LoRA: the trainer sees the adapter's parameters only; the network stays frozen as loaded.
  std::unique_ptr<LoraAdapter> adapter;
  std::unique_ptr<LoraModel> lora_model;
  if (lora) {
    LoraConfig config = lora_config_from_args(args, arch);
    config.base_model = args.text("model", "");
    const std::vector<LinearModule> modules = network->linear_modules();
    check(!modules.empty(), "--lora-rank: a '", arch, "' model takes no LoRA adapters (GPT and Llama models do)");
    adapter = std::make_unique<LoraAdapter>(config, modules, LoraAdapter::targeted_modules(config, modules));
    Rng init_rng(options.seed);
    adapter->initialize(init_rng);
    lora_model = std::make_unique<LoraModel>(*network, *adapter);
    shape += ", LoRA r=" + std::to_string(config.rank) + " on " + std::to_string(adapter->terms().size()) + " linears";
  }
  TrainableModel& trained = lora_model ? static_cast<TrainableModel&>(*lora_model) : *network;
  Trainer trainer(trained, train, validation, options);
  if (args.has("resume")) {
    load_checkpoint(args.text("resume", ""), trainer);
    std::fprintf(stderr, "resuming from step %d of %s\n", trainer.steps_done(), args.text("resume", "").c_str());
  }
  const std::string out = args.text("out", "");
  std::ofstream log;
  if (args.has("log")) {
    log.open(args.text("log", ""));
    check(log.is_open(), "cannot open the --log file '", args.text("log", ""), "' for writing: ", std::strerror(errno));
  }

  std::fprintf(stderr,
               "training %s: %s, %zu parameters, vocab %d, %zu train / %zu validation tokens, %d thread%s\n",
               arch.c_str(), shape.c_str(), trained.parameters().values.size(), network->vocab_size(), train.size(),
               validation.size(), pool.size(), pool.size() == 1 ? "" : "s");
  ProgressLine progress(args.flag("quiet"));
  const auto started = std::chrono::steady_clock::now();
  double val_loss = NAN;
  int checkpoint_step = 0;
  model.network = std::move(network);  // the same object: `trained` still refers to it (or to its adapter)
  auto save_out = [&]() {
    if (adapter) save_adapter(out, *adapter, arch, storage == WeightStorage::F16 ? DType::F16 : DType::F32);
    else save_model(model, out, storage);
  };
  auto validate_and_checkpoint = [&](double elapsed) {
    const EvalStats stats = trainer.validate();
    val_loss = stats.loss;
    const bool best = trainer.record_validation(stats.loss);
    if (best && !out.empty()) {
      save_out();
      checkpoint_step = trainer.steps_done();
    }
    if (log.is_open()) {
      log << nlohmann::json{{"step", trainer.steps_done()}, {"val_loss", stats.loss},
                            {"val_perplexity", stats.perplexity}, {"val_accuracy", stats.accuracy},
                            {"seconds", elapsed}}.dump()
          << std::endl;
    }
  };

  int64_t tokens_seen = 0;
  std::string stop_note;
  try {
    while (!trainer.should_stop()) {
      const StepReport report = trainer.step();
      tokens_seen += report.tokens;
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      const bool validate_now = trainer.has_validation() &&
                                (report.step % eval_every == 0 || report.step == options.steps);
      if (validate_now) validate_and_checkpoint(elapsed);
      if (checkpoint_every > 0 && report.step % checkpoint_every == 0) save_checkpoint(checkpoint_path, trainer);
      const double rate = tokens_seen / std::max(elapsed, 1e-9);
      const double eta = (options.steps - report.step) * double(report.tokens) / std::max(rate, 1e-9);
      char line[256];
      std::snprintf(line, sizeof(line), "step %d/%d | loss %.4f | val %s | %s tok/s | ETA %s", report.step,
                    options.steps, report.loss,
                    std::isnan(val_loss) ? "-" : std::to_string(val_loss).substr(0, 6).c_str(),
                    format_rate(rate).c_str(), format_duration(eta).c_str());
      progress.update(line, validate_now);
      if (time_limit > 0 && elapsed >= time_limit) {
        stop_note = "time limit reached";
        if (!checkpoint_path.empty() && args.has("checkpoint-every")) save_checkpoint(checkpoint_path, trainer);
        if (!validate_now && trainer.has_validation()) validate_and_checkpoint(elapsed);
        break;
      }
    }
  } catch (const Error& error) {
    progress.finish();
    std::fprintf(stderr, "training stopped: %s\n", error.what());
    if (checkpoint_step > 0)
      std::fprintf(stderr, "the last good checkpoint is %s (step %d, validation loss %.4f)\n", out.c_str(),
                   checkpoint_step, trainer.best_validation_loss());
    return 1;
  }
  progress.finish();
  if (stop_note.empty() && trainer.steps_done() < options.steps)
    stop_note = "early stopping: no validation improvement in " + std::to_string(options.patience) + " validations";
  if (!out.empty() && checkpoint_step == 0) {  // no validation ran: keep the final weights
    save_out();
    checkpoint_step = trainer.steps_done();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  nlohmann::json summary = {{"steps", trainer.steps_done()}, {"seconds", seconds},
                            {"tokens_per_second", tokens_seen / std::max(seconds, 1e-9)}};
  if (trainer.has_validation()) summary["best_val_loss"] = trainer.best_validation_loss();
  if (!stop_note.empty()) summary["note"] = stop_note;
  if (!out.empty()) summary["checkpoint"] = {{"path", out}, {"step", checkpoint_step}};
  std::cout << summary.dump() << std::endl;
  print_samples(*model.network, *model.tokenizer, samples, 300);
  return 0;
}

}  // namespace tinylm::cli
