"""bf16 autocast against fp32: the same run (seed, data, steps) trained twice, then evaluated.

Usage: .venv/bin/python benchmarks/perf_bf16_quality.py [--method baseline] [--size 32]
       [--steps 300] [--n-train 1000] [--limit 200] [--classifier-steps 300] [--out DIR]

Writes a faces benchmark (photo <-> cartoon, paired test split) into ``--out``, trains ``--method``
in fp32 and in bf16 from the same seed, times the training, runs ``latentbridge eval`` on both and
prints the summary metrics side by side as a markdown table.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch

from latentbridge import methods
from latentbridge.data.faces import generate_faces
from latentbridge.eval.commands import run_eval
from latentbridge.train.loop import train
from latentbridge.train.trainer import Trainer

KEYS = (
    "attribute_preservation_mean",
    "attribute_probe_transfer_mean",
    "domain_probe_accuracy_mean",
    "retrieval_top1_mean",
    "kid_mean",
    "two_sample_accuracy_mean",
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", default="baseline")
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--n-train", type=int, default=1000)
    ap.add_argument("--n-test", type=int, default=200)
    ap.add_argument("--limit", type=int, default=200)
    ap.add_argument("--classifier-steps", type=int, default=300)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bf16-quality-"))
    data = out / "faces"
    if not data.exists():
        generate_faces(data, size=args.size, n_train=args.n_train, n_test=args.n_test)
    rows: dict[str, dict[str, object]] = {}
    for precision in ("fp32", "bf16"):
        over = {"data.size": args.size, "train.precision": precision}
        cfg = methods.resolve(args.method, overrides=over)
        run = out / f"{args.method}_{precision}"
        trainer = Trainer(cfg, data=data, run=run, device="cpu")
        t0 = time.perf_counter()
        train(trainer, steps=args.steps, progress=False)
        seconds = time.perf_counter() - t0
        m = run_eval(
            run, data, run / "eval", limit=args.limit, classifier_steps=args.classifier_steps
        )
        rows[precision] = {"train s": seconds, **{k: m["summary"].get(k) for k in KEYS}}
    print(
        f"{args.method} {args.size}px, {args.steps} steps, faces n_train={args.n_train}, "
        f"eval limit {args.limit}, torch {torch.__version__}, load {os.getloadavg()[0]:.2f}"
    )
    print("| metric | fp32 | bf16 |\n|---|---|---|")
    for key in rows["fp32"]:
        cells = [rows[p][key] for p in ("fp32", "bf16")]
        text = [f"{c:.3f}" if isinstance(c, float) else str(c) for c in cells]
        print(f"| {key} | {text[0]} | {text[1]} |")


if __name__ == "__main__":
    main()
