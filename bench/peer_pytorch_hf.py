"""The PyTorch CPU peer of bench_hf (bench/hf_native.sh): batch-1 prefill and generation tokens/s of the small open
checkpoints' shapes, float32, on OpenBLAS with --threads threads. Random weights (speed does not depend on them).

The models are export_hf_onnx.py's cached modules (checked there against tests/parity's reference modules): a
prompt of --prompt tokens runs as one batch and computes the last position's logits only, as a KV-cache prefill
does; generation then feeds back each greedy token, one step at a time, growing the cache. Each figure is the best
of --repeats runs after one warm-up. Prints one JSON object per line, named as bench_hf names its figures:
  {"name":"gpt2-124m_f32_prefill","tokens_per_second":…,"tokens":64,"threads":2}

    /usr/bin/python3 bench/peer_pytorch_hf.py --shape gpt2-124m|smollm2-135m [--threads N] [--prompt 64]
                                              [--tokens 16] [--repeats 3]
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "wasm"))
import export_hf_onnx as cached  # noqa: E402

VOCAB = {"gpt2-124m": 50257, "smollm2-135m": 49152}


def random_gpt2(vocab):
    shape = cached.GPT2_SHAPE
    C, L = shape["C"], shape["L"]
    config = {"n_embd": C, "n_head": shape["NH"], "n_layer": L, "activation_function": "gelu_new"}
    stored = {"wte.weight": torch.randn(vocab, C) * 0.02, "wpe.weight": torch.randn(shape["POSITIONS"], C) * 0.01,
              "ln_f.weight": torch.ones(C), "ln_f.bias": torch.zeros(C)}
    for layer in range(L):
        h = f"h.{layer}"
        for name, (rows, cols) in {"attn.c_attn": (C, 3 * C), "attn.c_proj": (C, C),
                                   "mlp.c_fc": (C, 4 * C), "mlp.c_proj": (4 * C, C)}.items():
            stored[f"{h}.{name}.weight"] = torch.randn(rows, cols) * 0.02  # Conv1D: (in, out)
            stored[f"{h}.{name}.bias"] = torch.zeros(cols)
        for norm in ("ln_1", "ln_2"):
            stored[f"{h}.{norm}.weight"], stored[f"{h}.{norm}.bias"] = torch.ones(C), torch.zeros(C)
    return cached.CachedGpt2(stored, config, int8=False), (L, shape["NH"], C // shape["NH"])


def random_smollm2(vocab):
    shape = cached.SMOLLM2_SHAPE
    C, L, NH, KVH, hidden = shape["C"], shape["L"], shape["NH"], shape["KVH"], shape["HIDDEN"]
    D = C // NH
    config = {"hidden_size": C, "num_hidden_layers": L, "num_attention_heads": NH, "num_key_value_heads": KVH,
              "rms_norm_eps": 1e-5, "rope_theta": 100000.0}
    stored = {"model.embed_tokens.weight": torch.randn(vocab, C) * 0.02, "model.norm.weight": torch.ones(C)}
    for layer in range(L):
        p = f"model.layers.{layer}"
        for name, (rows, cols) in {"self_attn.q_proj": (NH * D, C), "self_attn.k_proj": (KVH * D, C),
                                   "self_attn.v_proj": (KVH * D, C), "self_attn.o_proj": (C, NH * D),
                                   "mlp.gate_proj": (hidden, C), "mlp.up_proj": (hidden, C),
                                   "mlp.down_proj": (C, hidden)}.items():
            stored[f"{p}.{name}.weight"] = torch.randn(rows, cols) * 0.02  # Linear: (out, in)
        stored[f"{p}.input_layernorm.weight"] = torch.ones(C)
        stored[f"{p}.post_attention_layernorm.weight"] = torch.ones(C)
    return cached.CachedLlama(stored, config, int8=False), (L, KVH, D)


def best_rate(run, tokens, repeats):
    run()  # warm-up: first-call allocations and OpenBLAS's thread start
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return tokens / best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", choices=sorted(VOCAB), required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--prompt", type=int, default=64)
    parser.add_argument("--tokens", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    vocab = VOCAB[args.shape]
    model, (L, KVH, D) = (random_gpt2 if args.shape == "gpt2-124m" else random_smollm2)(vocab)
    prompt = torch.randint(0, vocab, (1, args.prompt))
    empty = torch.zeros(L, KVH, 0, D)

    def prefill():
        return model(prompt, empty, empty)

    def generate():
        logits, keys, values = prefill_state
        for _ in range(args.tokens):
            token = logits.argmax(dim=-1).view(1, 1)
            logits, keys, values = model(token, keys, values)

    with torch.inference_mode():
        prefill_rate = best_rate(prefill, args.prompt, args.repeats)
        prefill_state = prefill()
        generate_rate = best_rate(generate, args.tokens, args.repeats)
    for kind, rate, tokens in (("prefill", prefill_rate, args.prompt), ("generate", generate_rate, args.tokens)):
        print(json.dumps({"name": f"{args.shape}_f32_{kind}", "tokens_per_second": round(rate, 2), "tokens": tokens,
                          "threads": args.threads}))


if __name__ == "__main__":
    main()
