"""Random-weight GPT-2-124M and SmolLM2-135M checkpoint folders and their ONNX exports with a KV cache, for the
onnxruntime-web peer of `npm run bench:hf-wasm` (hf_peer.mjs).

    /usr/bin/python3 bench/wasm/export_hf_onnx.py gpt2|smollm2 DIR

DIR holds tokenizer.json and tokenizer_config.json (written by hf_peer.mjs) and vocab.json ({"vocab_size": V}); this
writes, in the published layouts (tests/parity's writers and reference modules):
  DIR/config.json, generation_config.json, model.safetensors   GPT-2: openai-community/gpt2's names, F32;
                                                              SmolLM2: LlamaForCausalLM, BF16, tied head
  DIR/f32.onnx, DIR/int8.onnx, DIR/onnx.json                   the exports and the shape hf_peer_ort.mjs needs
  DIR/check.json                                               tokens and logits to check ORT's outputs against
Each graph takes T new tokens after P cached positions (P may be 0) and returns the last position's logits and the
grown cache (generation reads no other):
    inputs   tokens (1, T) int64 · past_keys, past_values (L, KVH, P, D) float32
    outputs  logits (1, V) float32 · present_keys, present_values (L, KVH, P+T, D) float32
Weights are the folder's stored values as float32. Matrices are held (in, out) for MatMul; the tied embedding once,
as (C, V), gathered along its columns for the input and multiplied for the head. Q/K/V and SwiGLU's gate/up are
stacked into one product each, as tinylm stacks them.

int8: onnxruntime's dynamic quantization, the form `quantize_dynamic` writes and ORT's wasm backend runs as integer
GEMM (MLAS; its optimizer fuses the chain into DynamicQuantizeMatMul): every matrix int8 with a symmetric scale
per output column (tinylm's per-row rule), activations quantized per tensor to uint8 at run time
(DynamicQuantizeLinear → MatMulInteger → Cast → Mul by both scales). A weight-only DequantizeLinear graph would
dequantize every matrix on every token, so it would only show ORT slower than it can be. The int8 embedding is
gathered and scaled per column.

Checks before export: the cached graph's math, run in PyTorch, equals the reference module of tests/parity
(test_hf_gpt2.py / test_hf_llama.py, float64) within 1e-4 relative on a prompt's last logits and on a cached step;
hf_peer_ort.mjs checks ORT's outputs against check.json the same way.
"""
import json
import math
import os
import sys

import torch
from torch.nn import functional as F

PARITY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "parity")
sys.path.insert(0, PARITY)
import hf_folders  # noqa: E402
import test_hf_gpt2 as gpt2  # noqa: E402
import test_hf_llama as llama  # noqa: E402

GPT2_SHAPE = {"C": 768, "NH": 12, "L": 12, "POSITIONS": 1024}
SMOLLM2_SHAPE = {"C": 576, "NH": 9, "KVH": 3, "L": 30, "HIDDEN": 1536, "POSITIONS": 2048}


# ---- int8 products: onnxruntime's dynamic quantization, emulated in PyTorch and exported as its ops --------------
def quantize_columns(weight):
    """(in, out) float → (in, out) int8 and (out) scales: symmetric, max |column| ↦ 127."""
    scale = weight.abs().amax(dim=0).clamp(min=1e-30) / 127.0
    return torch.round(weight / scale).clamp(-127, 127).to(torch.int8), scale.float()


class DynamicInt8MatMul(torch.autograd.Function):
    """x (…, in) float · wq (in, out) int8 · scale (out) → (…, out) float, as ORT computes it."""

    @staticmethod
    def forward(ctx, x, wq, scale):
        low, high = torch.clamp(x.min(), max=0.0), torch.clamp(x.max(), min=0.0)
        x_scale = (high - low) / 255.0
        zero = torch.clamp(torch.round(-low / x_scale), 0, 255)
        xq = torch.clamp(torch.round(x / x_scale) + zero, 0, 255)
        return ((xq - zero).double() @ wq.double()).float() * (x_scale * scale)

    @staticmethod
    def symbolic(g, x, wq, scale):
        xq, x_scale, zero = g.op("DynamicQuantizeLinear", x, outputs=3)
        product = g.op("Cast", g.op("MatMulInteger", xq, wq, zero), to_i=1)  # int32 → float
        return g.op("Mul", product, g.op("Mul", x_scale, scale))


class Weights:
    """The folder's matrices as (in, out), float32 or int8 + per-column scales; vectors float32."""

    def __init__(self, int8):
        self.int8, self.tensors = int8, {}

    def add_matrix(self, name, weight_in_out):
        self.tensors[name] = quantize_columns(weight_in_out) if self.int8 else weight_in_out.float().contiguous()

    def matmul(self, x, name):
        if self.int8:
            return DynamicInt8MatMul.apply(x, *self.tensors[name])
        return x @ self.tensors[name]

    def embed(self, tokens, name):
        """Rows `tokens` (1, T) of the (C, V) table → (1, T, C)."""
        if self.int8:
            table, scale = self.tensors[name]
            return table[:, tokens].permute(1, 2, 0).float() * scale[tokens].unsqueeze(-1)
        return self.tensors[name][:, tokens].permute(1, 2, 0)


def attend(q, k, v, positions):
    """q (1, NH, T, D); k, v (1, KVH, S, D) with S = P + T → (1, T, NH·D). Query head h reads key/value head
    h // (NH / KVH) (grouped-query attention without copying the cache); new position t sees 0 … P + t."""
    _, heads, steps, size = q.shape
    kv_heads, span = k.shape[1], k.shape[2]
    q = q.reshape(1, kv_heads, heads // kv_heads, steps, size)
    scores = (q @ k.unsqueeze(2).transpose(-2, -1)) / math.sqrt(size)  # (1, KVH, G, T, S)
    visible = torch.arange(span).unsqueeze(0) <= positions.unsqueeze(1)  # (T, S)
    weights = torch.softmax(scores.masked_fill(~visible, float("-inf")), dim=-1)
    return (weights @ v.unsqueeze(2)).reshape(1, heads, steps, size).transpose(1, 2).reshape(1, steps, heads * size)


# ---- the cached models ------------------------------------------------------------------------------------------
class CachedGpt2(torch.nn.Module):
    def __init__(self, stored, config, int8):
        super().__init__()
        self.C, self.NH, self.L = config["n_embd"], config["n_head"], config["n_layer"]
        self.approximate = "tanh" if config["activation_function"] == "gelu_new" else "none"
        self.w = Weights(int8)
        self.v = {name: tensor.float() for name, tensor in stored.items() if tensor.dim() == 1}
        self.wpe = stored["wpe.weight"].float()
        self.w.add_matrix("wte", stored["wte.weight"].float().t())
        for layer in range(self.L):
            for part in gpt2.CONV1D:
                self.w.add_matrix(f"h.{layer}.{part}", stored[f"h.{layer}.{part}"].float())

    def linear(self, x, name):
        return self.w.matmul(x, name + ".weight") + self.v[name + ".bias"]

    def layernorm(self, x, name):
        return F.layer_norm(x, (self.C,), self.v[name + ".weight"], self.v[name + ".bias"], 1e-5)

    def forward(self, tokens, past_keys, past_values):
        steps, past = tokens.shape[1], past_keys.shape[2]
        size = self.C // self.NH
        positions = torch.arange(steps) + past
        x = self.w.embed(tokens, "wte") + self.wpe[positions]
        keys_out, values_out = [], []
        for layer in range(self.L):
            h = f"h.{layer}"
            q, k, v = self.linear(self.layernorm(x, f"{h}.ln_1"), f"{h}.attn.c_attn").split(self.C, dim=2)
            q, k, v = (t.view(1, steps, self.NH, size).transpose(1, 2) for t in (q, k, v))  # (1, NH, T, D)
            k = torch.cat([past_keys[layer:layer + 1], k], dim=2)
            v = torch.cat([past_values[layer:layer + 1], v], dim=2)
            keys_out.append(k)
            values_out.append(v)
            x = x + self.linear(attend(q, k, v, positions), f"{h}.attn.c_proj")
            hidden = F.gelu(self.linear(self.layernorm(x, f"{h}.ln_2"), f"{h}.mlp.c_fc"), approximate=self.approximate)
            x = x + self.linear(hidden, f"{h}.mlp.c_proj")
        logits = self.w.matmul(self.layernorm(x[:, -1], "ln_f"), "wte")
        return logits, torch.cat(keys_out, dim=0), torch.cat(values_out, dim=0)


class CachedLlama(torch.nn.Module):
    def __init__(self, stored, config, int8):
        super().__init__()
        self.C, self.L = config["hidden_size"], config["num_hidden_layers"]
        self.NH, self.KVH = config["num_attention_heads"], config["num_key_value_heads"]
        self.D = self.C // self.NH
        self.eps = config["rms_norm_eps"]
        self.inv_freq = llama.inverse_frequencies(config, self.D)
        self.w = Weights(int8)
        self.v = {name: tensor.float() for name, tensor in stored.items() if tensor.dim() == 1}
        self.w.add_matrix("embed", stored["model.embed_tokens.weight"].float().t())
        for layer in range(self.L):
            p = f"model.layers.{layer}"
            self.w.add_matrix(f"{p}.qkv", torch.cat([stored[f"{p}.self_attn.{n}_proj.weight"] for n in "qkv"]).float().t())
            self.w.add_matrix(f"{p}.o", stored[f"{p}.self_attn.o_proj.weight"].float().t())
            self.w.add_matrix(f"{p}.gate_up", torch.cat([stored[f"{p}.mlp.{n}_proj.weight"] for n in ("gate", "up")]).float().t())
            self.w.add_matrix(f"{p}.down", stored[f"{p}.mlp.down_proj.weight"].float().t())

    def rmsnorm(self, x, name):
        return self.v[name + ".weight"] * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))

    def forward(self, tokens, past_keys, past_values):
        steps, past = tokens.shape[1], past_keys.shape[2]
        positions = torch.arange(steps) + past
        angles = positions.float()[:, None] * self.inv_freq[None, :]
        angles = torch.cat((angles, angles), dim=-1)
        cos, sin = angles.cos(), angles.sin()  # (T, D)
        x = self.w.embed(tokens, "embed")
        keys_out, values_out = [], []
        q_width, kv_width = self.NH * self.D, self.KVH * self.D
        for layer in range(self.L):
            p = f"model.layers.{layer}"
            q, k, v = self.w.matmul(self.rmsnorm(x, f"{p}.input_layernorm"), f"{p}.qkv").split(
                [q_width, kv_width, kv_width], dim=2)
            q = q.view(1, steps, self.NH, self.D).transpose(1, 2)
            k = k.view(1, steps, self.KVH, self.D).transpose(1, 2)
            v = v.view(1, steps, self.KVH, self.D).transpose(1, 2)
            q, k = q * cos + llama.rotate_half(q) * sin, k * cos + llama.rotate_half(k) * sin
            k = torch.cat([past_keys[layer:layer + 1], k], dim=2)
            v = torch.cat([past_values[layer:layer + 1], v], dim=2)
            keys_out.append(k)
            values_out.append(v)
            x = x + self.w.matmul(attend(q, k, v, positions), f"{p}.o")
            gate, up = self.w.matmul(self.rmsnorm(x, f"{p}.post_attention_layernorm"), f"{p}.gate_up").chunk(2, dim=2)
            x = x + self.w.matmul(F.silu(gate) * up, f"{p}.down")
        logits = self.w.matmul(self.rmsnorm(x[:, -1], "model.norm"), "embed")
        return logits, torch.cat(keys_out, dim=0), torch.cat(values_out, dim=0)


# ---- the folders: random weights at the published shapes ---------------------------------------------------------
def write_gpt2(folder, vocab):
    """openai-community/gpt2's layout at its size; returns the float64 reference module on the stored weights."""
    gpt2.V, gpt2.POSITIONS, gpt2.C, gpt2.NH, gpt2.L = (vocab, GPT2_SHAPE["POSITIONS"], GPT2_SHAPE["C"],
                                                       GPT2_SHAPE["NH"], GPT2_SHAPE["L"])
    model = gpt2.GPT2LMHeadModel("gelu_new")
    if not os.path.exists(os.path.join(folder, "model.safetensors")):
        torch.manual_seed(124)
        with torch.no_grad():  # GPT-2's initialisation scale; norms near one so layers differ
            for name, parameter in model.named_parameters():
                if parameter.dim() == 2:
                    parameter.normal_(0.0, 0.02)
                elif ".ln_" in name or name.startswith("transformer.ln_f"):
                    parameter.copy_(1.0 + 0.1 * torch.randn_like(parameter)) if name.endswith("weight") else parameter.zero_()
                else:
                    parameter.normal_(0.0, 0.02)
        state = {name: tensor.float() for name, tensor in model.state_dict().items()}
        hf_folders.write_folder(folder, gpt2.published_config("gelu_new") | {"bos_token_id": vocab - 1, "eos_token_id": vocab - 1},
                                gpt2.layout_tensors(state, "published"), "F32",
                                generation_config={"bos_token_id": vocab - 1, "eos_token_id": vocab - 1})
    stored = hf_folders.read_folder(folder)
    model.load_state_dict({"transformer." + name: tensor for name, tensor in stored.items()
                           if not name.endswith((".attn.bias", ".attn.masked_bias"))}, strict=False)
    return model.double().eval(), stored


def write_smollm2(folder, vocab):
    """HuggingFaceTB/SmolLM2-135M's layout at its size (BF16, tied head); returns the float64 reference."""
    llama.V, llama.C, llama.L = vocab, SMOLLM2_SHAPE["C"], SMOLLM2_SHAPE["L"]
    config = llama.llama_config(SMOLLM2_SHAPE["NH"], SMOLLM2_SHAPE["KVH"], SMOLLM2_SHAPE["POSITIONS"], True,
                                intermediate_size=SMOLLM2_SHAPE["HIDDEN"], bos_token_id=1, eos_token_id=2)
    model = llama.LlamaForCausalLM(config)
    if not os.path.exists(os.path.join(folder, "model.safetensors")):
        torch.manual_seed(135)
        with torch.no_grad():
            for name, parameter in model.named_parameters():
                if parameter.dim() == 2:
                    parameter.normal_(0.0, 0.02)
                else:
                    parameter.copy_(1.0 + 0.1 * torch.randn_like(parameter))
        state = {name: tensor.float() for name, tensor in model.state_dict().items() if name != "lm_head.weight"}
        hf_folders.write_folder(folder, config, state, "BF16", 1, {"bos_token_id": 1, "eos_token_id": 2})
    stored = hf_folders.read_folder(folder)
    model.load_state_dict({name: tensor.float() for name, tensor in stored.items()}, strict=False)
    return model.double().eval(), stored


# ---- checks and export ---------------------------------------------------------------------------------------------
def relative_error(ours, reference):
    return ((ours.double() - reference).abs().max() / reference.abs().max()).item()


def cached_logits(model, tokens, kv_shape):
    """Last logits of tokens[:-1] as a prompt then tokens[-1] as a cached step, and of the whole as one prompt."""
    empty = torch.zeros(*kv_shape)
    _, keys, values = model(tokens[:, :-1], empty, empty)
    step, _, _ = model(tokens[:, -1:], keys, values)
    whole, _, _ = model(tokens, empty, empty)
    return step[0], whole[0]


def export(model, path, kv_shape):
    L, KVH, D = kv_shape[0], kv_shape[1], kv_shape[3]
    example = (torch.zeros(1, 3, dtype=torch.int64), torch.zeros(L, KVH, 2, D), torch.zeros(L, KVH, 2, D))
    torch.onnx.export(model, example, path, opset_version=14,
                      input_names=["tokens", "past_keys", "past_values"],
                      output_names=["logits", "present_keys", "present_values"],
                      dynamic_axes={"tokens": {1: "T"}, "past_keys": {2: "P"}, "past_values": {2: "P"},
                                    "present_keys": {2: "PT"}, "present_values": {2: "PT"}})


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("gpt2", "smollm2"):
        sys.exit("usage: export_hf_onnx.py gpt2|smollm2 DIR")
    kind, folder = sys.argv[1:]
    with open(os.path.join(folder, "vocab.json")) as stream:
        vocab = json.load(stream)["vocab_size"]
    torch.set_num_threads(2)
    with torch.no_grad():
        reference, stored = (write_gpt2 if kind == "gpt2" else write_smollm2)(folder, vocab)
        with open(os.path.join(folder, "config.json")) as stream:
            config = json.load(stream)
        Cached = CachedGpt2 if kind == "gpt2" else CachedLlama
        if kind == "gpt2":
            kv_shape = (GPT2_SHAPE["L"], GPT2_SHAPE["NH"], 0, GPT2_SHAPE["C"] // GPT2_SHAPE["NH"])
        else:
            kv_shape = (SMOLLM2_SHAPE["L"], SMOLLM2_SHAPE["KVH"], 0, SMOLLM2_SHAPE["C"] // SMOLLM2_SHAPE["NH"])
        tokens = torch.randint(0, vocab, (1, 12), generator=torch.Generator().manual_seed(7))
        expected = reference(tokens)[0, -1]
        check = {"tokens": tokens[0].tolist()}
        for form in ("f32", "int8"):
            model = Cached(stored, config, form == "int8").eval()
            step, whole = cached_logits(model, tokens, kv_shape)
            errors = {"cached_step": relative_error(step, expected), "prompt": relative_error(whole, expected)}
            print(json.dumps({"model": kind, "weights": form, "vs_pytorch_reference": errors}), file=sys.stderr)
            if form == "f32" and max(errors.values()) > 1e-4:
                sys.exit(f"{kind}: the cached f32 graph's logits differ from the reference by {errors}")
            check[form] = step.tolist()
            export(model, os.path.join(folder, f"{form}.onnx"), kv_shape)
            del model
    with open(os.path.join(folder, "check.json"), "w") as stream:
        json.dump(check, stream)
    shape = {"layers": kv_shape[0], "kvHeads": kv_shape[1], "headSize": kv_shape[3], "vocab": vocab}
    with open(os.path.join(folder, "onnx.json"), "w") as stream:
        json.dump(shape, stream)
    print(json.dumps({"folder": folder, **shape, "bytes": {form: os.path.getsize(os.path.join(folder, f"{form}.onnx"))
                                                          for form in ("f32", "int8")}}))


if __name__ == "__main__":
    main()
