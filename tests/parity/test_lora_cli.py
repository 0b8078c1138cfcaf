"""LoRA through the CLI: `tinylm train --model DIR --lora-rank R … --out adapter.safetensors`, `generate|eval
--adapter FILE` and `tinylm merge`, on the GPT-2 and Llama folders of test_hf_cli.py (random weights, a tokenizer).

  train     a LoRA fine-tune lowers the loss on its text (Llama's by over 10%; GPT-2's by 1%: that folder's final
            LayerNorm gains, N(0, 0.1), keep every logit small, and LoRA adapts the linears only), leaves the folder's files byte for byte as they were, and
            writes an adapter of PEFT key names and config only (a small fraction of the model's bytes);
  parity    the adapter it wrote, read by the PyTorch reference LoRA of test_lora.py, gives the loss `tinylm eval
            --adapter` prints (within 1e-4 relative); so does the same run saved with --dtype f16 (each value the
            F32 adapter's rounded to half, about half the bytes);
  generate  the same seed gives the same text with the adapter, and a different text from the bare model's;
  merge     the merged model file scores as the model with its adapter (within 1e-4 relative);
  resume    a run stopped by its time limit after one step, with --checkpoint-every, and resumed with --resume
            writes the same bytes as an uninterrupted run: a LoRA run with dropout (GPT-2) and a full AdamW fine-tune
            (Llama);
  errors    out-of-range flags, LoRA without --model, targets matching nothing, an adapter for another model.

Usage: /usr/bin/python3 tests/parity/test_lora_cli.py --tinylm build/tinylm
Prints one line per check and "N passed, M failed"; exits 1 on any failure.
"""
import hashlib
import json
import os
import sys

import torch
from torch.nn import functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_hf_cli as cli  # noqa: E402
import test_lora  # noqa: E402
import tinylm_safetensors  # noqa: E402
from parity_common import relative_error  # noqa: E402

TARGETS = {"gpt2": ["c_attn", "c_proj", "c_fc"], "llama": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                                          "up_proj", "down_proj"]}


def digest(folder):
    return {name: hashlib.sha256(open(os.path.join(folder, name), "rb").read()).hexdigest()
            for name in sorted(os.listdir(folder))}


def check_family(tinylm, workdir, name, folder, model, ids):
    failures = []
    data = os.path.join(workdir, "text.txt")
    with open(data, "w") as stream:
        stream.write(cli.TEXT)
    before = digest(folder)
    base_loss = cli.eval_loss(tinylm, folder, data)
    adapter = os.path.join(workdir, f"{name}-adapter.safetensors")
    cli.run(tinylm, "train", "--model", folder, "--data", data, "--steps", "30", "--batch", "4", "--seq", "32",
            "--lr", "1e-2", "--val-fraction", "0", "--quiet", "--lora-rank", "4", "--lora-alpha", "8",
            "--lora-targets", ",".join(TARGETS[name]), "--out", adapter)
    if digest(folder) != before:
        failures.append(f"{name}: LoRA training changed the model folder")
    tuned = json.loads(cli.run(tinylm, "eval", "--model", folder, "--data", data, "--adapter", adapter))["loss"]
    print(f"     {name} LoRA: eval loss {base_loss:.4f} → {tuned:.4f} after 30 steps; adapter "
          f"{os.path.getsize(adapter)} bytes")
    if not tuned < (0.99 if name == "gpt2" else 0.9) * base_loss:
        failures.append(f"{name}: LoRA fine-tuning left the loss at {tuned} (from {base_loss})")

    tensors, metadata = tinylm_safetensors.load(adapter)
    config = json.loads(metadata["adapter_config"])
    if (config["r"], config["lora_alpha"], sorted(config["target_modules"])) != (4, 8, sorted(TARGETS[name])):
        failures.append(f"{name}: adapter config {config}")
    if not all(key.startswith("base_model.model.") and key.endswith((".lora_A.weight", ".lora_B.weight"))
               for key in tensors):
        failures.append(f"{name}: adapter keys {sorted(tensors)[:3]}…")

    # The PyTorch reference reads the adapter by its PEFT names and scores the text as tinylm does.
    layers = test_lora.add_lora(model, config["target_modules"], config["r"], config["lora_alpha"])
    with torch.no_grad():
        for key, tensor in test_lora.peft_state(layers).items():
            tensor.copy_(tensors[key].double())
        logits = model(torch.tensor([ids]))[0]
        reference = F.cross_entropy(logits[:-1], torch.tensor(ids[1:])).item()
    error = relative_error(torch.tensor([tuned], dtype=torch.float64), torch.tensor([reference]))
    print(f"     {name} adapter in PyTorch: loss {reference:.8f}, tinylm {tuned:.8f}, relative error {error:.1e}")
    if not error <= 1e-4:
        failures.append(f"{name}: eval --adapter {tuned} vs the PyTorch reference's {reference}")

    # The same run saved with --dtype f16: each value the F32 adapter's rounded to half (as torch rounds), about
    # half the file, and the PyTorch reference reading it scores as `tinylm eval --adapter` does.
    half_adapter = os.path.join(workdir, f"{name}-adapter-f16.safetensors")
    cli.run(tinylm, "train", "--model", folder, "--data", data, "--steps", "30", "--batch", "4", "--seq", "32",
            "--lr", "1e-2", "--val-fraction", "0", "--quiet", "--lora-rank", "4", "--lora-alpha", "8",
            "--lora-targets", ",".join(TARGETS[name]), "--dtype", "f16", "--out", half_adapter)
    halves, half_metadata = tinylm_safetensors.load(half_adapter)
    if sorted(halves) != sorted(tensors) or any(halves[key].dtype != torch.float16 or
                                                not torch.equal(halves[key], tensors[key].half()) for key in tensors):
        failures.append(f"{name}: the F16 adapter is not the F32 adapter rounded to half")
    if half_metadata["adapter_config"] != metadata["adapter_config"]:
        failures.append(f"{name}: the F16 adapter's config differs")
    size_ratio = os.path.getsize(half_adapter) / os.path.getsize(adapter)
    if not size_ratio < 0.6:
        failures.append(f"{name}: the F16 adapter is {size_ratio:.2f} of the F32 one's bytes")
    half_tuned = json.loads(cli.run(tinylm, "eval", "--model", folder, "--data", data, "--adapter", half_adapter))["loss"]
    with torch.no_grad():
        for key, tensor in test_lora.peft_state(layers).items():
            tensor.copy_(halves[key].double())
        logits = model(torch.tensor([ids]))[0]
        half_reference = F.cross_entropy(logits[:-1], torch.tensor(ids[1:])).item()
    half_error = relative_error(torch.tensor([half_tuned], dtype=torch.float64), torch.tensor([half_reference]))
    print(f"     {name} F16 adapter ({size_ratio:.2f} of the bytes) in PyTorch: loss {half_reference:.8f}, tinylm "
          f"{half_tuned:.8f}, relative error {half_error:.1e}")
    if not half_error <= 1e-4:
        failures.append(f"{name}: eval --adapter (F16) {half_tuned} vs the PyTorch reference's {half_reference}")

    sample = ("generate", "--model", folder, "--prompt", "call me", "--max-tokens", "24", "--temperature", "0.8",
              "--seed", "3", "--step-precision", "float")
    adapted_text = cli.run(tinylm, *sample, "--adapter", adapter)
    if cli.run(tinylm, *sample, "--adapter", adapter) != adapted_text:
        failures.append(f"{name}: generate --adapter is not reproducible with a seed")
    if cli.run(tinylm, *sample) == adapted_text:
        failures.append(f"{name}: generate --adapter gave the bare model's text")

    merged = os.path.join(workdir, f"{name}-merged.safetensors")
    report = json.loads(cli.run(tinylm, "merge", "--model", folder, "--adapter", adapter, "--out", merged))
    merged_loss = cli.eval_loss(tinylm, merged, data)
    if report["adapted"] != len(layers) or abs(merged_loss - tuned) > 1e-4 * abs(tuned):
        failures.append(f"{name}: merged file scores {merged_loss} vs {tuned} with the adapter ({report})")
    return failures


def check_resume(tinylm, workdir):
    failures = []
    data = os.path.join(workdir, "text.txt")
    runs = {"gpt2 LoRA": ("--model", os.path.join(workdir, "gpt2"), "--lora-rank", "4", "--lora-dropout", "0.1"),
            "llama full": ("--model", os.path.join(workdir, "llama"), "--optimizer", "adamw", "--cosine",
                           "--warmup", "3")}
    for label, flags in runs.items():
        common = ("train", *flags, "--data", data, "--steps", "12", "--batch", "4", "--seq", "32", "--lr", "1e-2",
                  "--val-fraction", "0", "--quiet", "--seed", "4")
        straight, resumed = (os.path.join(workdir, f"{label}-{kind}.safetensors".replace(" ", "_"))
                             for kind in ("straight", "resumed"))
        checkpoint = os.path.join(workdir, "run.checkpoint")
        cli.run(tinylm, *common, "--out", straight)
        cli.run(tinylm, *common, "--out", resumed, "--checkpoint", checkpoint, "--checkpoint-every", "5",
                "--time-limit", "1e-9")
        summary = json.loads(cli.run(tinylm, *common, "--out", resumed, "--resume", checkpoint))
        same = open(straight, "rb").read() == open(resumed, "rb").read()
        print(f"     {label}: resumed from step 1 to step {summary['steps']}, "
              f"{'identical to' if same else 'DIFFERENT from'} the uninterrupted run")
        if not same or summary["steps"] != 12:
            failures.append(f"{label}: the resumed run's weights differ from the uninterrupted run's")
        stderr = cli.run(tinylm, *common, "--batch", "2", "--out", resumed, "--resume", checkpoint,
                         expect_failure=True)
        if "trained with batch = 4, this run has 2" not in stderr:
            failures.append(f"{label}: resuming with another batch: {stderr.strip()}")
    return failures


def check_errors(tinylm, workdir, folder, gpt2_adapter):
    failures = []
    data = os.path.join(workdir, "text.txt")
    train = ("train", "--model", folder, "--data", data, "--steps", "1", "--quiet")
    expectations = [
        ((*train, "--lora-rank", "0"), "--lora-rank must be between 1 and 4096, got 0"),
        ((*train, "--lora-rank", "4", "--lora-dropout", "1"), "--lora-dropout"),
        ((*train, "--lora-rank", "4", "--lora-alpha", "0"), "--lora-alpha must be greater than 0"),
        ((*train, "--lora-rank", "4", "--lora-targets", "q_proj,,v_proj"), "comma-separated module names"),
        ((*train, "--lora-alpha", "8"), "--lora-alpha needs --lora-rank"),
        ((*train, "--lora-rank", "4", "--lora-targets", "c_attn"), "its linears are q_proj, k_proj, v_proj"),
        (("train", "--data", data, "--lora-rank", "4"), "give --model"),
        (("eval", "--model", folder, "--data", data, "--adapter", gpt2_adapter), "another architecture"),
        (("eval", "--model", folder, "--data", data, "--adapter", data), "cannot load adapter"),
    ]
    for arguments, message in expectations:
        stderr = cli.run(tinylm, *arguments, expect_failure=True)
        if message not in stderr:
            failures.append(f"{' '.join(arguments[:1])}: expected '{message}', got: {stderr.strip()}")
    return failures


def main():
    import argparse
    import tempfile
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runner")
    parser.add_argument("--tinylm", required=True)
    args = parser.parse_args()
    passed = failed = 0
    with tempfile.TemporaryDirectory() as workdir:
        checks = [("gpt2 folder", lambda: check_family(args.tinylm, workdir, "gpt2", *cli.gpt2_folder(workdir))),
                  ("llama folder", lambda: check_family(args.tinylm, workdir, "llama", *cli.llama_folder(workdir))),
                  ("resume", lambda: check_resume(args.tinylm, workdir)),
                  ("errors", lambda: check_errors(args.tinylm, workdir, os.path.join(workdir, "llama"),
                                                  os.path.join(workdir, "gpt2-adapter.safetensors")))]
        for label, check in checks:
            failures = check()
            print(f"{'ok' if not failures else 'FAIL':4} {label}")
            for failure in failures:
                print(f"     {failure}")
            passed += not failures
            failed += bool(failures)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
