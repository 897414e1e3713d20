"""What the CPU can do for a transformer encoder: dense fp32 matrix-multiply rate against the
rate a scoring-speed target needs.

    .venv/bin/python bench/hardware.py                           # 800 sentences/s of 24 tokens
    .venv/bin/python bench/hardware.py --target 800 --tokens 24 --threads 2

Work per token of a BERT-style encoder: 2 FLOPs per weight of the encoder layers
(attention projections 4·h², feed-forward 2·h·i per layer; attention scores add little at
~24 tokens). The shapes come from the offline MiniLM weights' config.json. The matmul rate
is torch's, median of several runs, at the encoder's own shapes (a batch of 64 sentences
of ``--tokens`` tokens) and at a large square size (about the best the cores reach).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.classifiers.weights import resolve_model_dir  # noqa: E402


def matmul_gflops(rows: int, inner: int, cols: int, repeats: int = 20) -> float:
    import torch

    a, b = torch.randn(rows, inner), torch.randn(inner, cols)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - started)
    return 2 * rows * inner * cols / statistics.median(times) / 1e9


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", type=float, default=800.0, help="sentences per second wanted")
    parser.add_argument("--tokens", type=float, default=24.1, help="mean tokens per sentence (the sample corpus: 24.1)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = json.loads((resolve_model_dir(None) / "config.json").read_text(encoding="utf-8"))
    hidden, inner, layers = config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"]
    flops_per_token = 2 * layers * (4 * hidden * hidden + 2 * hidden * inner)
    needed = args.target * args.tokens * flops_per_token / 1e9
    batch_tokens = int(64 * args.tokens)
    shaped = min(matmul_gflops(batch_tokens, hidden, inner), matmul_gflops(batch_tokens, inner, hidden))
    square = matmul_gflops(2048, 2048, 2048)
    print(f"encoder: {layers} layers, hidden {hidden}, feed-forward {inner}: {flops_per_token / 1e6:.1f} MFLOP per token")
    print(f"{args.target:.0f} sentences/s x {args.tokens} tokens needs {needed:.0f} GFLOP/s")
    print(f"fp32 matmul on {args.threads} threads: {shaped:.0f} GFLOP/s at the encoder's shapes, {square:.0f} at 2048^3")
    print(f"=> the target needs {needed / max(shaped, square):.1f}x the best fp32 matmul rate measured here")


if __name__ == "__main__":
    main()
