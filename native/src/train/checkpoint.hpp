// Training checkpoints: everything needed to continue a run exactly where it stopped, so an interrupted run that
// resumes ends with the same weights, bit for bit, as one that never stopped (same options, text and build).
// One safetensors file, written atomically (temp file + rename):
//   tensors       the trained parameters under their own names (a model's weights, or a LoRA adapter's PEFT-named
//                 matrices), "optimizer.first_moment" / "optimizer.second_moment" (P) when the optimizer keeps them,
//                 "trainer.carried_state" when a recurrent model carries one — all F32, as held
//   __metadata__  "tinylm_checkpoint": {"version": 1, "steps_done", "optimizer_steps", "rng_state" [4 u32],
//                 "batcher_cursor", "best_validation_loss", "validations_since_best", "options" {…},
//                 "model_config" {…}}
//                 "tinylm_run": the caller's own description of the run, when it gives one (the package keeps the
//                 identity of the base weights, text and options there, and its progress report's running figures)
// Resuming checks that the run's options and model config equal the checkpoint's (Error names the first that
// differs) and that every parameter has its name and shape, before anything is changed.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/trainer.hpp"

namespace tinylm {

// The options that shape a run's arithmetic, as JSON (what a resumed run must repeat).
nlohmann::json train_options_json(const TrainOptions& options);

// `run_record`, when not empty, is stored as the "tinylm_run" metadata (checkpoint_run reads it back).
std::vector<uint8_t> serialize_checkpoint(const Trainer& trainer, const std::string& run_record = "");
void save_checkpoint(const std::string& path, const Trainer& trainer);  // atomic

// Restores parameters and progress into a trainer built as the checkpointed run's was.
void restore_checkpoint(Trainer& trainer, const uint8_t* bytes, size_t size);
void load_checkpoint(const std::string& path, Trainer& trainer);

// The "tinylm_run" metadata of a training checkpoint ("" when it has none), after checking that the bytes are a
// whole safetensors file holding a tinylm training checkpoint (Error otherwise).
std::string checkpoint_run(const uint8_t* bytes, size_t size);

}  // namespace tinylm
