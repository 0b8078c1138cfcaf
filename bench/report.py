"""Prints a benchmark JSON-lines file as tables: tinylm next to its peers from the same run, with ratios.

Usage: /usr/bin/python3 bench/report.py FILE.jsonl [--bar SUFFIX:PEER:RATIO ...]
  build/bench/native.jsonl      (bench/native.sh)  tinylm vs pytorch
  build-wasm/bench/wasm.jsonl   (bench/wasm/run.sh) tinylm in Node and Chromium vs TF.js wasm/cpu

Rows carry "source" and, for the wasm benchmark, "runtime" ("node" | "chromium"); a column is "source@runtime".
Each peer column's ratio is tinylm in the same runtime over the peer (tinylm's first column if it did not run
there). --bar _train:tfjs-wasm@node:8 prints whether every *_train row's ratio against that peer reaches 8×.
"""
import argparse
import json
from collections import defaultdict


def column(row):
    return f"{row['source']}@{row['runtime']}" if row.get("runtime") else row["source"]


def is_ours(label):
    return label.startswith("tinylm")


def ours_for(peer, ours):
    runtime = peer.partition("@")[2]
    same = [label for label in ours if label.partition("@")[2] == runtime]
    return same[0] if same else ours[0]


def kernels(rows):
    ours = [r for r in rows if "gflops" in r and is_ours(r["source"])]
    peer_gflops = {r["name"]: r["gflops"] for r in rows if "gflops" in r and not is_ours(r["source"])}
    if not ours:
        return
    print(f"{'kernel':28} {'GFLOP/s':>9} {'of peak':>8} {'pytorch':>9} {'ratio':>7}")
    for r in ours:
        fraction = r.get("fraction_of_peak")
        peer = peer_gflops.get(r["name"])
        name = r["name"] if r["source"] == "tinylm" else f"{r['name']} ({r['source'].removeprefix('tinylm-')})"
        line = f"{name:28} {r['gflops']:9.1f} {'' if fraction is None else f'{fraction:8.1%}':>8}"
        if peer:
            line += f" {peer:9.1f} {r['gflops'] / peer:6.2f}×"
        print(line)
    print()


def throughput(rows, bars):
    table = defaultdict(dict)
    for r in rows:
        if "tokens_per_second" in r:
            table[r["name"]][column(r)] = r["tokens_per_second"]
    if not table:
        return
    labels = list(dict.fromkeys(label for by_column in table.values() for label in by_column))
    ours = [label for label in labels if is_ours(label)] or ["tinylm"]
    peers = [label for label in labels if not is_ours(label)]
    width = max(10, *(len(label) for label in labels))
    print(f"{'tokens/s':16}" + "".join(f" {label:>{width}}" for label in ours)
          + "".join(f" {label:>{width}} {'ratio':>7}" for label in peers))
    ratios = defaultdict(dict)
    for name, by_column in table.items():
        line = f"{name:16}" + "".join(f" {by_column.get(label, float('nan')):{width}.0f}" for label in ours)
        for peer in peers:
            value = by_column.get(peer)
            ratio = by_column.get(ours_for(peer, ours), float("nan")) / value if value else float("nan")
            ratios[name][peer] = ratio
            line += f" {value if value else float('nan'):{width}.0f} {ratio:6.2f}×"
        print(line)
    print()
    for bar in bars:
        suffix, peer, target = bar.rsplit(":", 2)
        for name in table:
            ratio = ratios[name].get(peer, float("nan"))
            if name.endswith(suffix) and ratio == ratio:  # NaN: that peer has no such row
                verdict = "meets" if ratio >= float(target) else "MISSES"
                print(f"bar {name} ≥ {target}× {peer}: {ratio:.2f}× {verdict}")
    if bars:
        print()


def losses(rows):
    by_step = defaultdict(dict)
    for r in rows:
        if "val_loss" in r:
            by_step[r["step"]][r["source"]] = r["val_loss"]
    if not by_step:
        return
    print(f"{'C1 val loss':16} {'tinylm':>10} {'pytorch':>10} {'diff':>8}")
    for step in sorted(by_step):
        ours, theirs = by_step[step].get("tinylm"), by_step[step].get("pytorch")
        diff = f"{(ours - theirs) / theirs:+8.2%}" if ours and theirs else ""
        print(f"step {step:<11} {ours or float('nan'):10.4f} {theirs or float('nan'):10.4f} {diff}")
    # Both final models scored by `tinylm eval` (whole held-out split): the figure that differs only by training.
    heldout = {r["source"]: r["loss"] for r in rows if r.get("name") == "C1_heldout_loss"}
    if "tinylm" in heldout and "pytorch" in heldout:
        ours, theirs = heldout["tinylm"], heldout["pytorch"]
        print(f"{'held-out (eval)':16} {ours:10.4f} {theirs:10.4f} {(ours - theirs) / theirs:+8.2%}")


def sizes(rows):
    shipped = [r for r in rows if "gzip_bytes" in r]
    if not shipped:
        return
    print(f"{'bytes shipped':28} {'raw':>9} {'gzip -9':>9}")
    for r in shipped:
        print(f"{r['name']:28} {r['bytes']:9d} {r['gzip_bytes']:9d}")
    print()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--bar", action="append", default=[])
    args = parser.parse_args()
    rows = [json.loads(line) for line in open(args.path) if line.strip()]
    kernels(rows)
    throughput(rows, args.bar)
    losses(rows)
    sizes(rows)


if __name__ == "__main__":
    main()
