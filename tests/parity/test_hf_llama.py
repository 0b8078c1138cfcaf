"""PyTorch parity for Llama checkpoints in Hugging Face's layout (LlamaForCausalLM: SmolLM2, TinyStories, Llama 2/3).

For random weights, a folder is written exactly as the Hub publishes one (hf_folders.py: config.json with
transformers' field names, model.safetensors or shards with an index, F32/F16/BF16) and read by tinylm
(tinylm_parity_runner loads the folder) and by a reference LlamaForCausalLM written below from the published
architecture (transformers is not a dependency): RMSNorm computed then scaled, rotary embeddings in the rotate_half
convention with inv_freq and angles in float32 as transformers computes them, grouped-query attention by repeating
key/value heads, the SwiGLU MLP, tied or separate head. Over two windows they must agree on logits and loss, the
gradients of the second window and step-by-step generation logits with the KV cache — each within a relative error
of 1e-4 (max |ours − torch| / max |torch|). The reference runs in float64 from the stored (dtype-rounded) weights.
(The optimizer's parity is test_gpt.py's: Adam's first step moves every weight by about ±lr whatever its gradient's
size, so a gradient a millionth of the largest, where float32 rounding is its whole size, would decide the check.)

Usage: /usr/bin/python3 tests/parity/test_hf_llama.py --runner build/tinylm_parity_runner
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

V, C, L, B, WINDOWS = 37, 48, 2, 3, 2


# ---- the reference: LlamaForCausalLM from the published architecture -----------------------------------------
def inverse_frequencies(config, head_size):
    """inv_freq (D/2) in float32, with rope_scaling's rule, as transformers computes it."""
    theta = config.get("rope_theta", 10000.0)
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_size, 2, dtype=torch.int64).float() / head_size))
    scaling = config.get("rope_scaling") or {}
    kind = scaling.get("rope_type", scaling.get("type", "default"))
    if kind == "linear":
        inv_freq = inv_freq / scaling["factor"]
    elif kind == "llama3":
        factor, low, high = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
        old_context = scaling["original_max_position_embeddings"]
        wavelength = 2 * math.pi / inv_freq
        scaled = torch.where(wavelength > old_context / low, inv_freq / factor, inv_freq)
        smooth = (old_context / wavelength - low) / (high - low)
        blended = (1 - smooth) * scaled / factor + smooth * scaled
        middle = ~(wavelength < old_context / high) & ~(wavelength > old_context / low)
        inv_freq = torch.where(middle, blended, scaled)
    return inv_freq  # "dynamic" changes nothing within max_position_embeddings


def rotate_half(x):
    first, second = x.chunk(2, dim=-1)
    return torch.cat((-second, first), dim=-1)


class RMSNorm(nn.Module):
    def __init__(self, size, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


class Attention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.heads, self.kv_heads = config["num_attention_heads"], config.get("num_key_value_heads")
        self.kv_heads = self.kv_heads or self.heads
        self.head_size = config.get("head_dim") or C // self.heads
        bias = config.get("attention_bias", False)
        self.q_proj = nn.Linear(C, self.heads * self.head_size, bias=bias)
        self.k_proj = nn.Linear(C, self.kv_heads * self.head_size, bias=bias)
        self.v_proj = nn.Linear(C, self.kv_heads * self.head_size, bias=bias)
        self.o_proj = nn.Linear(self.heads * self.head_size, C, bias=bias)

    def forward(self, x, cos, sin):
        batch, steps, _ = x.shape
        q = self.q_proj(x).view(batch, steps, self.heads, self.head_size).transpose(1, 2)
        k = self.k_proj(x).view(batch, steps, self.kv_heads, self.head_size).transpose(1, 2)
        v = self.v_proj(x).view(batch, steps, self.kv_heads, self.head_size).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        group = self.heads // self.kv_heads
        k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
        scores = (q @ k.transpose(-2, -1)) * self.head_size ** -0.5
        mask = torch.tril(torch.ones(steps, steps, dtype=torch.bool))
        weights = F.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
        y = (weights @ v).transpose(1, 2).reshape(batch, steps, self.heads * self.head_size)
        return self.o_proj(y)


class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        hidden, bias = config["intermediate_size"], config.get("mlp_bias", False)
        self.gate_proj = nn.Linear(C, hidden, bias=bias)
        self.up_proj = nn.Linear(C, hidden, bias=bias)
        self.down_proj = nn.Linear(hidden, C, bias=bias)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, config):
        super().__init__()
        eps = config.get("rms_norm_eps", 1e-6)
        self.input_layernorm = RMSNorm(C, eps)
        self.self_attn = Attention(config)
        self.post_attention_layernorm = RMSNorm(C, eps)
        self.mlp = MLP(config)

    def forward(self, x, cos, sin):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embed_tokens = nn.Embedding(V, C)
        self.layers = nn.ModuleList([DecoderLayer(config) for _ in range(L)])
        self.norm = RMSNorm(C, config.get("rms_norm_eps", 1e-6))


class LlamaForCausalLM(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.model = LlamaModel(config)
        self.lm_head = nn.Linear(C, V, bias=False)
        if config.get("tie_word_embeddings", False):
            self.lm_head.weight = self.model.embed_tokens.weight

    def forward(self, idx):
        head_size = self.model.layers[0].self_attn.head_size
        # transformers: angles position × inv_freq in float32, cos/sin in float32, then the model's dtype.
        angles = torch.arange(idx.size(1)).float()[:, None] * inverse_frequencies(self.config, head_size)[None, :]
        angles = torch.cat((angles, angles), dim=-1)
        cos, sin = angles.cos().double(), angles.sin().double()
        x = self.model.embed_tokens(idx)
        for layer in self.model.layers:
            x = layer(x, cos, sin)
        return self.lm_head(self.model.norm(x))


# ---- the cases ------------------------------------------------------------------------------------------------
def llama_config(heads, kv_heads, context, tied, biases=False, **fields):
    """config.json as transformers writes a LlamaConfig (every field, as published repositories carry them)."""
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": V, "hidden_size": C,
              "intermediate_size": 64, "num_hidden_layers": L, "num_attention_heads": heads,
              "num_key_value_heads": kv_heads, "hidden_act": "silu", "max_position_embeddings": context,
              "initializer_range": 0.02, "rms_norm_eps": 1e-5, "use_cache": True, "bos_token_id": 1,
              "eos_token_id": 2, "pretraining_tp": 1, "tie_word_embeddings": tied, "rope_theta": 100000.0,
              "rope_scaling": None, "attention_bias": biases, "attention_dropout": 0.0, "mlp_bias": biases,
              "torch_dtype": "bfloat16", "transformers_version": "4.44.0"}
    config.update(fields)
    return config


# LlamaConfig's defaults: save_pretrained leaves out every field that equals them.
LLAMA_DEFAULTS = {"vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
                  "num_attention_heads": 32, "num_key_value_heads": None, "hidden_act": "silu",
                  "max_position_embeddings": 2048, "initializer_range": 0.02, "rms_norm_eps": 1e-6, "use_cache": True,
                  "bos_token_id": 1, "eos_token_id": 2, "pretraining_tp": 1, "tie_word_embeddings": False,
                  "rope_theta": 10000.0, "rope_scaling": None, "attention_bias": False, "attention_dropout": 0.0,
                  "mlp_bias": False, "head_dim": None}


def without_defaults(config):
    return {key: value for key, value in config.items() if key not in LLAMA_DEFAULTS or LLAMA_DEFAULTS[key] != value}


def random_state(model):
    with torch.no_grad():  # larger than the 0.02 initialisation so every path carries a visible gradient
        for name, parameter in model.named_parameters():
            if parameter.dim() == 2:
                parameter.normal_(0.0, 0.3)
            elif name.endswith("norm.weight"):
                parameter.copy_(1.0 + 0.2 * torch.randn_like(parameter))
            else:
                parameter.normal_(0.0, 0.2)
    return {name: tensor.float() for name, tensor in model.state_dict().items()}


def check_case(runner, workdir, label, config, dtype, shards, steps, head_in_file=False):
    torch.manual_seed(zlib.crc32(label.encode()) % 1000)
    model = LlamaForCausalLM(config).double()
    state = random_state(model)
    if config.get("tie_word_embeddings") and not head_in_file:
        del state["lm_head.weight"]  # save_pretrained stores a tied head once
    folder = os.path.join(workdir, label.replace(" ", "_"))
    hf_folders.write_folder(folder, config, state, dtype, shards, {"bos_token_id": 1, "eos_token_id": 2})
    stored = hf_folders.read_folder(folder)
    model.load_state_dict({name: tensor.double() for name, tensor in stored.items()}, strict=False)

    context = config["max_position_embeddings"]
    inputs = torch.randint(0, V, (WINDOWS, B, steps))
    targets = torch.randint(0, V, (WINDOWS, B, steps))
    targets[1, 0, 2] = -1  # an ignored position
    batch_path, out_path = os.path.join(workdir, "batch.safetensors"), os.path.join(workdir, "out.safetensors")
    tinylm_safetensors.save(batch_path, {"inputs": inputs.float(), "targets": targets.float()})
    subprocess.run([runner, folder, batch_path, out_path], check=True)
    ours, _ = tinylm_safetensors.load(out_path)
    assert steps <= context

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
    with torch.no_grad():  # the runner steps row 0 of window 0 through the KV cache
        errors["step_logits"] = relative_error(ours["step_logits"], model(inputs[0, :1])[0])
    return (*verdict(errors), by_kind(errors))


def main():
    llama3 = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
              "original_max_position_embeddings": 8}
    cases = [
        # SmolLM2's shape in miniature: tied, 6 query heads over 2 key/value heads, θ = 100000.
        ("smollm2-like tied gqa F32", llama_config(6, 2, 16, True), "F32", 1, 16, False),
        ("smollm2-like tied gqa BF16 T=7", llama_config(6, 2, 16, True), "BF16", 1, 7, False),
        # Llama 2 / TinyStories-style: untied multi-head, biases, linear rope scaling, sharded BF16.
        ("untied mha biases linear BF16 sharded",
         llama_config(4, 4, 12, False, True, rope_scaling={"type": "linear", "factor": 2.0}), "BF16", 3, 12, False),
        # Multi-query, Llama 3's rope rule, head_dim ≠ hidden/heads, F16, a tied head also present in the file.
        ("mqa llama3 head_dim F16 head in file",
         llama_config(4, 1, 16, True, head_dim=10, rope_theta=500000.0, rope_scaling=llama3), "F16", 2, 16, True),
        ("dynamic rope F32", llama_config(6, 3, 16, False, rope_scaling={"type": "dynamic", "factor": 2.0}),
         "F32", 1, 9, False),
        # save_pretrained's config.json: the fields equal to LlamaConfig's defaults (ε 1e-6, θ 10000, …) left out.
        ("defaults left out F32",
         without_defaults(llama_config(4, 4, 10, False, rms_norm_eps=1e-6, rope_theta=10000.0, bos_token_id=1)),
         "F32", 1, 10, False),
    ]
    run_cases(__doc__.splitlines()[0], [(case[0], case) for case in cases], check_case)


if __name__ == "__main__":
    main()
