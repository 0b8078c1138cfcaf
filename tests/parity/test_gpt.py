"""PyTorch parity for the GPT decoder (nanoGPT's architecture and tensor names), with and without biases, with
both GELU variants.

For random weights, one safetensors file (nanoGPT's state_dict, tied lm_head.weight included) is read by tinylm
(through tinylm_parity_runner) and by a reference GPT module written below with nanoGPT's module names. Over two
independent windows they must agree on logits and loss of both windows, the gradients of the second window,
step-by-step generation logits with the KV cache, and the parameters after one Adam step — each within a
relative error of 1e-4 (max |ours − torch| / max |torch|). The reference runs in float64 from the same float32
weights.

Usage: /usr/bin/python3 tests/parity/test_gpt.py --runner build/tinylm_parity_runner [--tinylm build/tinylm]
Prints one line per case and "N passed, M failed"; exits 1 on any failure.
"""
import json
import math
import os
import subprocess
import sys
import zlib

import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tinylm_safetensors  # noqa: E402
from parity_common import relative_error, run_cases, verdict  # noqa: E402

V, CONTEXT, C, NH, L, B, WINDOWS = 23, 9, 12, 3, 2, 3, 2


# ---- the reference: nanoGPT's model.py, reduced to what the parity needs (no dropout, no flash path) ----------
class LayerNorm(nn.Module):
    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, bias):
        super().__init__()
        self.c_attn = nn.Linear(C, 3 * C, bias=bias)
        self.c_proj = nn.Linear(C, C, bias=bias)

    def forward(self, x):
        batch, steps, _ = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(batch, steps, NH, C // NH).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        mask = torch.tril(torch.ones(steps, steps, dtype=torch.bool))
        att = F.softmax(att.masked_fill(~mask, float("-inf")), dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(batch, steps, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, bias, gelu):
        super().__init__()
        self.c_fc = nn.Linear(C, 4 * C, bias=bias)
        self.gelu = nn.GELU(approximate="tanh" if gelu == "tanh" else "none")
        self.c_proj = nn.Linear(4 * C, C, bias=bias)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, bias, gelu):
        super().__init__()
        self.ln_1 = LayerNorm(C, bias)
        self.attn = CausalSelfAttention(bias)
        self.ln_2 = LayerNorm(C, bias)
        self.mlp = MLP(bias, gelu)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, bias, gelu):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(V, C),
            wpe=nn.Embedding(CONTEXT, C),
            h=nn.ModuleList([Block(bias, gelu) for _ in range(L)]),
            ln_f=LayerNorm(C, bias),
        ))
        self.lm_head = nn.Linear(C, V, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # tied, as nanoGPT does

    def forward(self, idx):
        positions = torch.arange(idx.size(1))
        x = self.transformer.wte(idx) + self.transformer.wpe(positions)
        for block in self.transformer.h:
            x = block(x)
        return self.lm_head(self.transformer.ln_f(x))


# ---- one case -------------------------------------------------------------------------------------------------
def check_case(runner, workdir, bias, gelu, steps):
    torch.manual_seed(zlib.crc32(repr((bias, gelu, steps)).encode()) % 1000)  # hash() of a str varies per run
    model = GPT(bias, gelu).double()
    with torch.no_grad():  # larger than nanoGPT's 0.02 so every path carries a visible gradient
        for name, parameter in model.named_parameters():
            if parameter.dim() == 2:
                parameter.normal_(0.0, 0.4)
            elif name.endswith("weight"):  # LayerNorm gains
                parameter.copy_(1.0 + 0.2 * torch.randn_like(parameter))
            else:
                parameter.normal_(0.0, 0.2)
    config = {"arch": "gpt", "vocab_size": V, "context_size": CONTEXT, "embed_size": C, "num_layers": L,
              "num_heads": NH, "bias": bias, "dropout": 0.0, "gelu": gelu}
    model_path = os.path.join(workdir, "model.safetensors")
    batch_path = os.path.join(workdir, "batch.safetensors")
    out_path = os.path.join(workdir, "out.safetensors")
    state_dict = {name: tensor.float() for name, tensor in model.state_dict().items()}
    assert "lm_head.weight" in state_dict  # the tied head travels under both names, as in nanoGPT's files
    tinylm_safetensors.save(model_path, state_dict, {"config": json.dumps(config)})
    inputs = torch.randint(0, V, (WINDOWS, B, steps))
    targets = torch.randint(0, V, (WINDOWS, B, steps))
    targets[1, 0, 2] = -1  # an ignored position
    tinylm_safetensors.save(batch_path, {"inputs": inputs.float(), "targets": targets.float()})
    subprocess.run([runner, model_path, batch_path, out_path], check=True)
    ours, _ = tinylm_safetensors.load(out_path)

    model.load_state_dict({name: tensor.double() for name, tensor in state_dict.items()})
    errors = {}
    for window in range(WINDOWS):
        model.zero_grad()
        logits = model(inputs[window])
        loss = F.cross_entropy(logits.reshape(-1, V), targets[window].reshape(-1), ignore_index=-1)
        loss.backward()
        errors[f"logits.{window}"] = relative_error(ours[f"logits.{window}"], logits.detach())
        errors[f"loss.{window}"] = relative_error(ours["loss"][window:window + 1], loss.detach().reshape(1))
    for name, parameter in model.named_parameters():
        errors[f"grad.{name}"] = relative_error(ours[f"grad.{name}"], parameter.grad)

    with torch.no_grad():  # the runner steps row 0 of window 0 through the KV cache: causal = the full forward
        errors["step_logits"] = relative_error(ours["step_logits"], model(inputs[0, :1])[0])

    # The key part of c_attn.bias adds q·b_k to every score of a row, which softmax ignores: its true gradient is
    # exactly zero and both sides hold rounding noise there. Adam normalises a gradient by its own magnitude, so
    # noise steps by ±lr; that slice is checked as "gradient ≈ 0" instead of through the Adam step.
    key_bias = slice(C, 2 * C)
    for name, parameter in model.named_parameters():
        if name.endswith("attn.c_attn.bias"):
            gradient = ours[f"grad.{name}"]
            scale = max(gradient.abs().max().item(), 1e-30)
            errors[f"grad.{name}[k]=0"] = gradient[key_bias].abs().max().item() / scale
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    optimizer.step()
    for name, parameter in model.named_parameters():
        mine, reference = ours[f"adam.{name}"], parameter.detach()
        if name.endswith("attn.c_attn.bias"):
            mine, reference = torch.cat([mine[:C], mine[2 * C:]]), torch.cat([reference[:C], reference[2 * C:]])
        errors[f"adam.{name}"] = relative_error(mine, reference)

    return verdict(errors)


def main():
    cases = [(f"gpt bias={bias} gelu={gelu} T={steps}", (bias, gelu, steps))
             for bias in (True, False) for gelu in ("tanh", "exact")
             for steps in (CONTEXT, 5)]  # the full context, and windows shorter than it
    run_cases(__doc__.splitlines()[0], cases, check_case)


if __name__ == "__main__":
    main()
