"""PyTorch parity for GPT-2 checkpoints in Hugging Face's layouts (GPT2LMHeadModel), loaded onto tinylm's GPT.

For random weights, a folder is written as the Hub publishes one (hf_folders.py) in the layouts that exist:
  published   openai-community/gpt2's file: tensor names without a prefix (h.0.attn.c_attn.weight, wte.weight),
              the causal-mask buffers h.N.attn.bias (1,1,P,P) and h.N.attn.masked_bias (), no lm_head.weight, and
              the published config.json with every field;
  saved       save_pretrained today: "transformer." prefixes, no buffers, no lm_head.weight, config.json with only
              the fields that differ from GPT2Config's defaults, BF16 in shards with an index;
  older       transformers 4.x before the masks stopped being saved: U8 mask buffers, the tied lm_head.weight
              written out, F16.
Conv1D weights are stored (in, out) in all of them. A reference GPT2LMHeadModel written below from the published
architecture (Conv1D as x·W + b, gelu_new — the tanh approximation —, LayerNorm ε 1e-5, tied head) reads the
stored weights; tinylm (tinylm_parity_runner loads the folder) must agree with it on logits and loss of two windows, the
gradients of the second (Conv1D's transposed) and step-by-step generation logits — each within a relative error of
1e-4 (max |ours − torch| / max |torch|). The reference runs in float64 from the stored (dtype-rounded) weights.

Usage: /usr/bin/python3 tests/parity/test_hf_gpt2.py --runner build/tinylm_parity_runner
Prints one line per case and "N passed, M failed"; exits 1 on any failure.
"""
import math
import os
import subprocess
import sys
import zlib

import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_folders  # noqa: E402
import tinylm_safetensors  # noqa: E402
from parity_common import by_kind, relative_error, run_cases, verdict  # noqa: E402

V, POSITIONS, C, NH, L, B, WINDOWS = 41, 12, 24, 3, 2, 3, 2
CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


# ---- the reference: GPT2LMHeadModel from the published architecture ------------------------------------------
class Conv1D(nn.Module):
    """GPT-2's projection: weight (in, out), y = x·W + b."""

    def __init__(self, inputs, outputs):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(inputs, outputs))
        self.bias = nn.Parameter(torch.zeros(outputs))

    def forward(self, x):
        return x @ self.weight + self.bias


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_attn = Conv1D(C, 3 * C)
        self.c_proj = Conv1D(C, C)

    def forward(self, x):
        batch, steps, _ = x.shape
        q, k, v = (t.view(batch, steps, NH, C // NH).transpose(1, 2) for t in self.c_attn(x).split(C, dim=2))
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(C // NH)
        mask = torch.tril(torch.ones(steps, steps, dtype=torch.bool))
        weights = F.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
        return self.c_proj((weights @ v).transpose(1, 2).reshape(batch, steps, C))


class MLP(nn.Module):
    def __init__(self, activation):
        super().__init__()
        self.c_fc = Conv1D(C, 4 * C)
        self.c_proj = Conv1D(4 * C, C)
        self.approximate = "tanh" if activation == "gelu_new" else "none"

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate=self.approximate))


class Block(nn.Module):
    def __init__(self, activation):
        super().__init__()
        self.ln_1 = nn.LayerNorm(C, eps=1e-5)
        self.attn = Attention()
        self.ln_2 = nn.LayerNorm(C, eps=1e-5)
        self.mlp = MLP(activation)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, activation):
        super().__init__()
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(POSITIONS, C)
        self.h = nn.ModuleList([Block(activation) for _ in range(L)])
        self.ln_f = nn.LayerNorm(C, eps=1e-5)


class GPT2LMHeadModel(nn.Module):
    def __init__(self, activation):
        super().__init__()
        self.transformer = Transformer(activation)
        self.lm_head = nn.Linear(C, V, bias=False)
        self.lm_head.weight = self.transformer.wte.weight

    def forward(self, idx):
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(idx.size(1)))
        for block in self.transformer.h:
            x = block(x)
        return self.lm_head(self.transformer.ln_f(x))


# ---- the layouts ----------------------------------------------------------------------------------------------
def published_config(activation):
    """openai-community/gpt2's config.json, shrunk."""
    return {"activation_function": activation, "architectures": ["GPT2LMHeadModel"], "attn_pdrop": 0.1,
            "bos_token_id": V - 1, "embd_pdrop": 0.1, "eos_token_id": V - 1, "initializer_range": 0.02,
            "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": POSITIONS, "n_embd": C, "n_head": NH,
            "n_layer": L, "n_positions": POSITIONS, "resid_pdrop": 0.1, "summary_activation": None,
            "summary_first_dropout": 0.1, "summary_proj_to_labels": True, "summary_type": "cls_index",
            "summary_use_proj": True, "vocab_size": V,
            "task_specific_params": {"text-generation": {"do_sample": True, "max_length": 50}}}


def saved_config():
    """What save_pretrained writes for the same model: the fields that differ from GPT2Config's defaults."""
    return {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "bos_token_id": V - 1, "eos_token_id": V - 1,
            "n_ctx": POSITIONS, "n_embd": C, "n_head": NH, "n_layer": L, "n_positions": POSITIONS, "vocab_size": V,
            "torch_dtype": "bfloat16", "transformers_version": "4.44.0"}


def layout_tensors(state, layout):
    """The state_dict (transformer.* names, tied lm_head) as the layout's file holds it."""
    mask = torch.tril(torch.ones(POSITIONS, POSITIONS)).view(1, 1, POSITIONS, POSITIONS)
    tensors = {}
    for name, tensor in state.items():
        if name == "lm_head.weight":
            continue
        tensors[name[len("transformer."):] if layout == "published" else name] = tensor
        if layout != "saved" and name.endswith(".ln_1.bias"):  # the buffers sit between ln_1 and attn
            prefix = name[:-len("ln_1.bias")]
            if layout == "published":
                prefix = prefix[len("transformer."):]
            tensors[prefix + "attn.bias"] = mask if layout == "published" else mask.to(torch.uint8)
            tensors[prefix + "attn.masked_bias"] = torch.tensor(-1e4)
    if layout == "older":
        tensors["lm_head.weight"] = state["lm_head.weight"]
    return tensors


# ---- one case -------------------------------------------------------------------------------------------------
def check_case(runner, workdir, layout, activation, dtype, shards, steps):
    label = f"{layout}-{activation}-{dtype}-{steps}"
    torch.manual_seed(zlib.crc32(label.encode()) % 1000)
    model = GPT2LMHeadModel(activation).double()
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if parameter.dim() == 2:
                parameter.normal_(0.0, 0.4)
            elif name.endswith("weight"):  # LayerNorm gains
                parameter.copy_(1.0 + 0.2 * torch.randn_like(parameter))
            else:
                parameter.normal_(0.0, 0.2)
    state = {name: tensor.float() for name, tensor in model.state_dict().items()}
    config = saved_config() if layout == "saved" else published_config(activation)
    folder = os.path.join(workdir, label)
    hf_folders.write_folder(folder, config, layout_tensors(state, layout), dtype, shards,
                            {"bos_token_id": V - 1, "eos_token_id": V - 1})
    stored = hf_folders.read_folder(folder)
    prefix = "" if layout == "published" else "transformer."
    model.load_state_dict({name: stored[name[len("transformer."):] if prefix == "" else name].double()
                           for name in state if name != "lm_head.weight"}, strict=False)

    inputs = torch.randint(0, V, (WINDOWS, B, steps))
    targets = torch.randint(0, V, (WINDOWS, B, steps))
    targets[1, 0, 2] = -1  # an ignored position
    batch_path, out_path = os.path.join(workdir, "batch.safetensors"), os.path.join(workdir, "out.safetensors")
    tinylm_safetensors.save(batch_path, {"inputs": inputs.float(), "targets": targets.float()})
    subprocess.run([runner, folder, batch_path, out_path], check=True)
    ours, _ = tinylm_safetensors.load(out_path)

    errors = {}
    for window in range(WINDOWS):
        model.zero_grad()
        logits = model(inputs[window])
        loss = F.cross_entropy(logits.reshape(-1, V), targets[window].reshape(-1), ignore_index=-1)
        loss.backward()
        errors[f"logits.{window}"] = relative_error(ours[f"logits.{window}"], logits.detach())
        errors[f"loss.{window}"] = relative_error(ours["loss"][window:window + 1], loss.detach().reshape(1))
    for name, parameter in model.named_parameters():
        gradient = ours[f"grad.{name}"]
        if name.endswith(CONV1D):  # tinylm holds Linear's (out, in)
            gradient = gradient.t()
        errors[f"grad.{name}"] = relative_error(gradient, parameter.grad)
    with torch.no_grad():  # the runner steps row 0 of window 0 through the KV cache
        errors["step_logits"] = relative_error(ours["step_logits"], model(inputs[0, :1])[0])
    return (*verdict(errors), by_kind(errors))


def main():
    cases = [("published", "gelu_new", "F32", 1, POSITIONS), ("published", "gelu_new", "F32", 1, 5),
             ("saved", "gelu_new", "BF16", 3, POSITIONS), ("older", "gelu", "F16", 1, 7)]
    run_cases(__doc__.splitlines()[0], [(f"gpt2 {' '.join(map(str, case))}", case) for case in cases], check_case)


if __name__ == "__main__":
    main()
