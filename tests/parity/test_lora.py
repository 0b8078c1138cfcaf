"""PyTorch parity for LoRA adapters on GPT-2 and Llama checkpoints, in PEFT's convention and file layout.

A reference LoRA layer written below wraps each targeted linear of the reference models of test_hf_gpt2.py (Conv1D
layers) and test_hf_llama.py (nn.Linear): y = base(x) + lora_B(lora_A(x))·alpha/r, lora_A (r, in), lora_B (out, r),
the base frozen. For random base weights (a Hugging Face folder, hf_folders.py) and a random adapter (B ≠ 0),
  PEFT → tinylm  the adapter is written as PEFT saves one — adapter_model.safetensors with base_model.model.<module>
                 .lora_A.weight / .lora_B.weight keys and {"format": "pt"} metadata, beside adapter_config.json —;
                 tinylm_parity_runner loads the folder and the adapter and must agree with the reference on the logits
                 and loss of two windows, the adapter's gradients of the second, and step-by-step generation logits;
  tinylm → PEFT  the runner saves the adapter after one Adam step (its own writer: the config in the metadata); the
                 reference reads that file by its PEFT names and config, and its logits must equal those tinylm
                 computes with the same file.
Each within a relative error of 1e-4 (max |ours − torch| / max |torch|); the reference runs in float64.

Usage: /usr/bin/python3 tests/parity/test_lora.py --runner build/tinylm_parity_runner
Prints one line per case and "N passed, M failed"; exits 1 on any failure.
"""
import json
import os
import subprocess
import sys
import zlib

import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_folders  # noqa: E402
import test_hf_gpt2 as gpt2  # noqa: E402
import test_hf_llama as llama  # noqa: E402
import tinylm_safetensors  # noqa: E402
from parity_common import by_kind, relative_error, run_cases, verdict  # noqa: E402

B, WINDOWS = 3, 2


class LoraLayer(nn.Module):
    """PEFT's LoRA layer without dropout: base(x) + lora_B(lora_A(x)) · scaling, the base frozen."""

    def __init__(self, base, in_features, out_features, r, alpha):
        super().__init__()
        self.base = base
        for parameter in self.base.parameters():
            parameter.requires_grad_(False)
        self.lora_A = nn.Linear(in_features, r, bias=False).double()
        self.lora_B = nn.Linear(r, out_features, bias=False).double()
        self.scaling = alpha / r

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(x)) * self.scaling


def features(module):
    """(in, out) of a Linear (weight (out, in)) or a GPT-2 Conv1D (weight (in, out))."""
    if isinstance(module, nn.Linear):
        return module.in_features, module.out_features
    return module.weight.shape[0], module.weight.shape[1]


def targeted(name, targets):
    """PEFT's target_modules matching: the module's name equals a target or ends with "." + target."""
    return any(name == target or name.endswith("." + target) for target in targets)


def add_lora(model, targets, r, alpha):
    """Wraps every targeted linear; returns {module name: LoraLayer}."""
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    layers = {}
    for name, module in list(model.named_modules()):
        if targeted(name, targets) and hasattr(module, "weight") and module.weight.dim() == 2:
            parent_name, child = name.rsplit(".", 1)
            layer = LoraLayer(module, *features(module), r, alpha)
            setattr(model.get_submodule(parent_name), child, layer)
            layers[name] = layer
    return layers


def peft_state(layers):
    """The adapter's tensors under the names PEFT saves them with."""
    state = {}
    for name, layer in layers.items():
        state[f"base_model.model.{name}.lora_A.weight"] = layer.lora_A.weight
        state[f"base_model.model.{name}.lora_B.weight"] = layer.lora_B.weight
    return state


def write_peft_folder(folder, layers, config):
    """adapter_model.safetensors and adapter_config.json, as PEFT's save_pretrained writes them."""
    os.makedirs(folder, exist_ok=True)
    tensors = {name: tensor.detach().float() for name, tensor in peft_state(layers).items()}
    tinylm_safetensors.save(os.path.join(folder, "adapter_model.safetensors"), tensors, {"format": "pt"})
    with open(os.path.join(folder, "adapter_config.json"), "w") as stream:
        json.dump(config, stream, indent=2)


def gpt2_model(label):
    """A GPT-2 reference with random weights and its folder (the "saved" layout, F32)."""
    model = gpt2.GPT2LMHeadModel("gelu_new").double()
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if parameter.dim() == 2:
                parameter.normal_(0.0, 0.4)
            elif name.endswith("weight"):
                parameter.copy_(1.0 + 0.2 * torch.randn_like(parameter))
            else:
                parameter.normal_(0.0, 0.2)
    state = {name: tensor.float() for name, tensor in model.state_dict().items()}
    return model, gpt2.saved_config(), gpt2.layout_tensors(state, "saved"), gpt2.V, gpt2.POSITIONS


def llama_model(label):
    """A SmolLM2-like Llama reference (tied, 6 query heads over 2 key/value heads) with random weights."""
    config = llama.llama_config(6, 2, 16, True)
    model = llama.LlamaForCausalLM(config).double()
    state = llama.random_state(model)
    del state["lm_head.weight"]
    return model, config, state, llama.V, config["max_position_embeddings"]


def check_case(runner, workdir, label, build, targets, r, alpha):
    torch.manual_seed(zlib.crc32(label.encode()) % 1000)
    model, config, tensors, V, steps = build(label)
    folder = os.path.join(workdir, label.replace(" ", "_"))
    hf_folders.write_folder(folder, config, tensors, "F32", 1, {"bos_token_id": 1, "eos_token_id": 2})
    stored = hf_folders.read_folder(folder)
    model.load_state_dict({name: stored[name].double() for name in stored if name in model.state_dict()},
                          strict=False)
    layers = add_lora(model, targets, r, alpha)
    with torch.no_grad():
        for layer in layers.values():
            layer.lora_A.weight.normal_(0.0, 0.3)
            layer.lora_B.weight.normal_(0.0, 0.3)  # PEFT starts B at zero; a trained adapter's is not
    peft_config = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": r, "lora_alpha": alpha, "lora_dropout": 0.0,
                   "target_modules": targets, "bias": "none", "base_model_name_or_path": label,
                   "fan_in_fan_out": build is gpt2_model, "inference_mode": True, "use_rslora": False,
                   "use_dora": False, "rank_pattern": {}, "alpha_pattern": {}}
    adapter_folder = os.path.join(folder, "adapter")
    write_peft_folder(adapter_folder, layers, peft_config)
    # Reload what was written, so the reference runs from the float32-rounded adapter tinylm reads.
    written, _ = tinylm_safetensors.load(os.path.join(adapter_folder, "adapter_model.safetensors"))
    with torch.no_grad():
        for name, tensor in peft_state(layers).items():
            tensor.copy_(written[name].double())

    inputs = torch.randint(0, V, (WINDOWS, B, steps))
    targets_ids = torch.randint(0, V, (WINDOWS, B, steps))
    targets_ids[1, 0, 2] = -1  # an ignored position
    batch_path, out_path = os.path.join(workdir, "batch.safetensors"), os.path.join(workdir, "out.safetensors")
    saved_adapter = os.path.join(workdir, "tinylm_adapter.safetensors")
    tinylm_safetensors.save(batch_path, {"inputs": inputs.float(), "targets": targets_ids.float()})
    subprocess.run([runner, folder, batch_path, out_path, adapter_folder, saved_adapter], check=True)
    ours, _ = tinylm_safetensors.load(out_path)

    errors = {}
    for window in range(WINDOWS):
        model.zero_grad()
        logits = model(inputs[window])
        loss = F.cross_entropy(logits.reshape(-1, V), targets_ids[window].reshape(-1), ignore_index=-1)
        loss.backward()
        errors[f"logits.{window}"] = relative_error(ours[f"logits.{window}"], logits.detach())
        errors[f"loss.{window}"] = relative_error(ours["loss"][window:window + 1], loss.detach().reshape(1))
    grads = [name for name in ours if name.startswith("grad.")]
    assert sorted(grads) == sorted(f"grad.{name}" for name in peft_state(layers)), "adapter tensors differ"
    for name, parameter in peft_state(layers).items():
        errors[f"grad.{name}"] = relative_error(ours[f"grad.{name}"], parameter.grad)
    with torch.no_grad():  # the runner steps row 0 of window 0 through the KV cache
        errors["step_logits"] = relative_error(ours["step_logits"], model(inputs[0, :1])[0])

    # tinylm → PEFT: the adapter tinylm saved, read by its PEFT names and metadata config, gives tinylm's logits.
    tensors_saved, metadata = tinylm_safetensors.load(saved_adapter)
    saved_config = json.loads(metadata["adapter_config"])
    assert saved_config["r"] == r and saved_config["lora_alpha"] == alpha, saved_config
    assert sorted(saved_config["target_modules"]) == sorted(targets), saved_config
    assert metadata.get("format") == "pt"
    with torch.no_grad():
        for name, tensor in peft_state(layers).items():
            tensor.copy_(tensors_saved[name].double())
            errors[f"adam.{name}"] = relative_error(tensors_saved[name], ours[f"adam.{name}"])
    subprocess.run([runner, folder, batch_path, out_path, saved_adapter], check=True)
    reloaded, _ = tinylm_safetensors.load(out_path)
    with torch.no_grad():
        errors["saved_adapter_logits"] = relative_error(reloaded["logits.0"], model(inputs[0]))
    return (*verdict(errors), by_kind(errors))


def main():
    everything_gpt2 = ["c_attn", "c_proj", "c_fc"]
    everything_llama = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    cases = [
        ("gpt2 all linears r4", gpt2_model, everything_gpt2, 4, 8),
        ("gpt2 c_attn r2", gpt2_model, ["c_attn"], 2, 16),
        ("llama all linears r4", llama_model, everything_llama, 4, 8),
        ("llama q_proj v_proj r8", llama_model, ["q_proj", "v_proj"], 8, 16),
    ]
    run_cases(__doc__.splitlines()[0], [(f"lora {case[0]}", case) for case in cases], check_case)


if __name__ == "__main__":
    main()
