"""Training pairs/s against batch size (MUNIT's complaint: larger batches slower per image).

Usage: .venv/bin/python benchmarks/perf_batch.py [--size 32] [--method baseline]
       [--batches 4,8,16,32,64] [--precision fp32] [--rounds 5]

One Trainer per batch size; their steps are interleaved round by round so that the machine's load
affects all alike. Prints median step time, pairs/s (images per domain per second) and the ratio
of pairs/s to the smallest batch's as a markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch

from latentbridge import methods
from latentbridge.bench import write_dataset
from latentbridge.train.trainer import Trainer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", default="baseline")
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--batches", default="4,8,16,32,64")
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    args = ap.parse_args()
    sizes = [int(b) for b in args.batches.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        root = write_dataset(Path(tmp) / "data", args.size, n=max(sizes))
        trainers = {}
        for b in sizes:
            over = {"data.size": args.size, "train.batch_size": b, "data.workers": 0}
            over["train.precision"] = args.precision
            cfg = methods.resolve(args.method, overrides=over)
            trainers[b] = Trainer(cfg, data=root, run=Path(tmp) / f"b{b}", device="cpu")
        batches = {b: t.micro_batches(0) for b, t in trainers.items()}
        times: dict[int, list[float]] = {b: [] for b in sizes}
        for r in range(args.warmup + args.rounds):
            for b, t in trainers.items():
                t0 = time.perf_counter()
                t.one_step(batches[b])
                if r >= args.warmup:
                    times[b].append(time.perf_counter() - t0)
    print(
        f"{args.method} {args.size}px {args.precision}, {args.rounds} interleaved rounds, "
        f"{torch.get_num_threads()} threads, load {os.getloadavg()[0]:.2f}, torch {torch.__version__}"
    )
    print("| batch | median step ms | pairs/s | pairs/s vs batch " + str(sizes[0]) + " |")
    print("|---|---|---|---|")
    base = sizes[0] / statistics.median(times[sizes[0]])
    for b in sizes:
        med = statistics.median(times[b])
        print(f"| {b} | {med * 1e3:.1f} | {b / med:.1f} | {b / med / base:.2f} |")


if __name__ == "__main__":
    main()
