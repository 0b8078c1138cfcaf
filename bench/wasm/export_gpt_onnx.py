"""Export a tinylm GPT file to ONNX with a KV cache, for the onnxruntime-web peer of `npm run bench:wasm`.

    /usr/bin/python3 bench/wasm/export_gpt_onnx.py models/moby-char-gpt.safetensors build-wasm/bench/c3.onnx

writes c3.onnx and, next to it, c3.json with the shape ort_bench.mjs needs (layers, heads, headSize, vocab, context).

The graph takes T new tokens after P cached positions and returns their logits and the grown cache:
    inputs   tokens (1, T) int64 · past_keys, past_values (L, NH, P, D) float32    (P may be 0)
    outputs  logits (1, T, V) float32 · present_keys, present_values (L, NH, P+T, D) float32
Positions are P … P+T−1 and the mask lets new position t see every cached position and new positions ≤ t, so one
graph serves both the prompt or a slid window's re-encode (P = 0) and cached one-token steps (T = 1). The weights are the file's, converted to float32 (F16 storage is widened exactly); nanoGPT names and equations
(pre-LN blocks, GELU exact or tanh as the config says, tied head). A check at the end compares the exported
graph's math, run in PyTorch, with a full recomputation without the cache.
"""

import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "parity"))
import tinylm_safetensors  # noqa: E402


class CachedGpt(torch.nn.Module):
    def __init__(self, tensors, config):
        super().__init__()
        self.L, self.NH, self.C = config["num_layers"], config["num_heads"], config["embed_size"]
        self.approximate = "tanh" if config.get("gelu") == "tanh" else "none"
        self.w = {name.replace(".", "_"): tensor.float() for name, tensor in tensors.items()}
        self.bias = config.get("bias", True)

    def weight(self, name):
        return self.w.get(name.replace(".", "_"))

    def linear(self, x, name):
        return torch.nn.functional.linear(x, self.weight(name + ".weight"), self.weight(name + ".bias"))

    def layernorm(self, x, name):
        return torch.nn.functional.layer_norm(x, (self.C,), self.weight(name + ".weight"), self.weight(name + ".bias"))

    def forward(self, tokens, past_keys, past_values):
        T, P = tokens.shape[1], past_keys.shape[2]
        D = self.C // self.NH
        positions = torch.arange(T) + P
        x = self.weight("transformer.wte.weight")[tokens] + self.weight("transformer.wpe.weight")[positions]
        # New position t (absolute P + t) sees absolute positions 0 … P + t.
        visible = torch.arange(P + T).unsqueeze(0) <= positions.unsqueeze(1)  # (T, P+T)
        keys_out, values_out = [], []
        for layer in range(self.L):
            h = f"transformer.h.{layer}"
            q, k, v = self.linear(self.layernorm(x, f"{h}.ln_1"), f"{h}.attn.c_attn").split(self.C, dim=2)
            q, k, v = (t.view(1, T, self.NH, D).transpose(1, 2) for t in (q, k, v))  # (1, NH, T, D)
            k = torch.cat([past_keys[layer:layer + 1], k], dim=2)
            v = torch.cat([past_values[layer:layer + 1], v], dim=2)
            keys_out.append(k)
            values_out.append(v)
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(D)
            scores = scores.masked_fill(~visible, float("-inf"))
            y = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(1, T, self.C)
            x = x + self.linear(y, f"{h}.attn.c_proj")
            hidden = torch.nn.functional.gelu(self.linear(self.layernorm(x, f"{h}.ln_2"), f"{h}.mlp.c_fc"),
                                              approximate=self.approximate)
            x = x + self.linear(hidden, f"{h}.mlp.c_proj")
        logits = self.layernorm(x, "transformer.ln_f") @ self.weight("transformer.wte.weight").t()
        return logits, torch.cat(keys_out, dim=0), torch.cat(values_out, dim=0)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: export_gpt_onnx.py MODEL.safetensors OUT.onnx")
    source, destination = sys.argv[1:]
    tensors, metadata = tinylm_safetensors.load(source)
    config = json.loads(metadata["config"])
    if config.get("arch") != "gpt":
        sys.exit(f"{source}: not a GPT model (arch {config.get('arch')!r})")
    model = CachedGpt(tensors, config).eval()
    L, NH, D = config["num_layers"], config["num_heads"], config["embed_size"] // config["num_heads"]

    with torch.no_grad():  # the cached path equals a full recomputation
        tokens = torch.randint(0, config["vocab_size"], (1, 12))
        empty = torch.zeros(L, NH, 0, D)
        full, _, _ = model(tokens, empty, empty)
        _, keys, values = model(tokens[:, :11], empty, empty)
        last, _, _ = model(tokens[:, 11:], keys, values)
        error = (last[0, -1] - full[0, -1]).abs().max().item()
        if error > 1e-4:
            sys.exit(f"cached logits differ from the full recomputation by {error}")

    os.makedirs(os.path.dirname(os.path.abspath(destination)), exist_ok=True)
    example = (torch.zeros(1, 3, dtype=torch.int64), torch.zeros(L, NH, 2, D), torch.zeros(L, NH, 2, D))
    torch.onnx.export(model, example, destination, opset_version=14,
                      input_names=["tokens", "past_keys", "past_values"],
                      output_names=["logits", "present_keys", "present_values"],
                      dynamic_axes={"tokens": {1: "T"}, "past_keys": {2: "P"}, "past_values": {2: "P"},
                                    "logits": {1: "T"}, "present_keys": {2: "PT"}, "present_values": {2: "PT"}})
    shape = {"layers": L, "heads": NH, "headSize": D, "vocab": config["vocab_size"], "context": config["context_size"]}
    with open(os.path.splitext(destination)[0] + ".json", "w") as stream:  # for ort_bench.mjs
        json.dump(shape, stream)
    print(json.dumps({"onnx": destination, "bytes": os.path.getsize(destination), **shape}))


if __name__ == "__main__":
    main()
