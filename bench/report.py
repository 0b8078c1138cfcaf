"""Prints a benchmark JSON-lines file as tables: tinylm next to its peers from the same run, with ratios.

Usage: /usr/bin/python3 bench/report.py build/bench/native.jsonl
"""
import json
import sys
from collections import defaultdict


def main(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    kernels = [r for r in rows if "gflops" in r and r.get("source") == "tinylm"]
    peer_gflops = {r["name"]: r["gflops"] for r in rows if "gflops" in r and r.get("source") == "pytorch"}
    if kernels:
        print(f"{'kernel':28} {'GFLOP/s':>9} {'of peak':>8} {'pytorch':>9} {'ratio':>7}")
        for r in kernels:
            fraction = r.get("fraction_of_peak")
            peer = peer_gflops.get(r["name"])
            line = f"{r['name']:28} {r['gflops']:9.1f} {'' if fraction is None else f'{fraction:8.1%}':>8}"
            if peer:
                line += f" {peer:9.1f} {r['gflops'] / peer:6.2f}×"
            print(line)
        print()

    throughput = defaultdict(dict)
    for r in rows:
        if "tokens_per_second" in r:
            throughput[r["name"]][r["source"]] = r["tokens_per_second"]
    if throughput:
        peers = sorted({source for by_source in throughput.values() for source in by_source} - {"tinylm"})
        header = f"{'tokens/s':16} {'tinylm':>10}" + "".join(f" {p:>10} {'ratio':>7}" for p in peers)
        print(header)
        for name, by_source in throughput.items():
            line = f"{name:16} {by_source.get('tinylm', float('nan')):10.0f}"
            for peer in peers:
                value = by_source.get(peer)
                ratio = by_source.get("tinylm", float("nan")) / value if value else float("nan")
                line += f" {value if value else float('nan'):10.0f} {ratio:6.2f}×"
            print(line)
        print()

    losses = defaultdict(dict)
    for r in rows:
        if "val_loss" in r:
            losses[r["step"]][r["source"]] = r["val_loss"]
    if losses:
        print(f"{'C1 val loss':16} {'tinylm':>10} {'pytorch':>10} {'diff':>8}")
        for step in sorted(losses):
            ours, theirs = losses[step].get("tinylm"), losses[step].get("pytorch")
            diff = f"{(ours - theirs) / theirs:+8.2%}" if ours and theirs else ""
            print(f"step {step:<11} {ours or float('nan'):10.4f} {theirs or float('nan'):10.4f} {diff}")


if __name__ == "__main__":
    main(sys.argv[1])
