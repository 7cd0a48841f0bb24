"""Side-by-side ratios of three training-step optimisations, each variant in its own process.

Usage: .venv/bin/python benchmarks/perf_opts.py --size 64 [--method baseline] [--batch-size 16]
       [--precision fp32] [--reps 3] [--steps 8]

Variants (the package now does ``after``):
- ``before``: ``F.interpolate`` up-sampling, the to-image conv on NCHW input, Adam's per-tensor loop;
- ``upsample``: only ``blocks.upsample2x`` (broadcast-copy forward, ATen backward);
- ``to_image_cl``: only the to-image conv on channels-last input;
- ``fused_adam``: only ``torch.optim.Adam(fused=True)``;
- ``after``: all three;
- ``compiled``: ``after`` with ``train.compile=default`` (fp32 only on the CPU: see
  ``compiling.check_compile``); its 3 warm-up steps include the compile.

Each (variant, repetition) is a fresh process that builds a Trainer, runs 3 warm-up steps and
``--steps`` timed ones on one cached batch, and prints its median step time. Processes alternate
variant by variant, repetition by repetition, so a drift in the machine's speed hits all alike.
One process per measurement rather than one process holding every variant's model: with several
models alive, caches and the allocator made the same variant vary by +-20 % between rounds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VARIANTS = ("before", "upsample", "to_image_cl", "fused_adam", "after", "compiled")


def _legacy(variant: str) -> None:
    """Undo the optimisations that ``variant`` does not include (monkeypatching the package)."""
    import torch
    from torch.nn import functional as F

    from latentbridge.nn import blocks

    if variant == "compiled":
        return  # the package as it is
    if variant not in ("upsample", "after"):

        def up_forward(self: blocks.UpBlock, x: torch.Tensor, d: int) -> torch.Tensor:
            if self.mode != "transpose":
                x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            return F.relu(self.norm(self.conv(x), d), inplace=True)

        blocks.UpBlock.forward = up_forward  # type: ignore[method-assign]
    if variant not in ("to_image_cl", "after"):

        def to_image(self: blocks.ToImage, x: torch.Tensor, d: int) -> torch.Tensor:
            return torch.tanh(self.conv(x))

        blocks.ToImage.forward = to_image  # type: ignore[method-assign]
    if variant not in ("fused_adam", "after"):
        adam = torch.optim.Adam

        def unfused(*args: object, **kwargs: object) -> torch.optim.Optimizer:
            kwargs["fused"] = None
            return adam(*args, **kwargs)  # type: ignore[arg-type]

        torch.optim.Adam = unfused  # type: ignore[assignment,misc]


def run_one(args: argparse.Namespace) -> None:
    """Child process: time ``args.one`` and print its median step in ms."""
    _legacy(args.one)
    from latentbridge import methods
    from latentbridge.bench import write_dataset
    from latentbridge.train.trainer import Trainer

    with tempfile.TemporaryDirectory() as tmp:
        root = write_dataset(Path(tmp) / "data", args.size, n=2 * args.batch_size)
        over = {
            "data.size": args.size,
            "train.batch_size": args.batch_size,
            "train.precision": args.precision,
            "data.workers": 0,
            "train.warmup": 0,  # the full step (bridge would time auto-encoder-only steps)
        }
        if args.one == "compiled":
            over["train.compile"] = "default"
        cfg = methods.resolve(args.method, overrides=over)
        trainer = Trainer(cfg, data=root, run=Path(tmp) / "run", device="cpu")
        batch = trainer.micro_batches(0)
        times = []
        for i in range(3 + args.steps):
            trainer.step = i
            t0 = time.perf_counter()
            trainer.one_step(batch)
            times.append(time.perf_counter() - t0)
    print(f"{statistics.median(times[3:]) * 1e3:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--method", default="baseline")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--steps", type=int, default=8, help="timed steps per process")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        run_one(args)
        return
    variants = args.variants.split(",")
    common = [
        *("--method", args.method, "--size", str(args.size)),
        *("--batch-size", str(args.batch_size), "--precision", args.precision),
        *("--steps", str(args.steps)),
    ]
    load0 = os.getloadavg()[0]
    ms: dict[str, list[float]] = {v: [] for v in variants}
    for _ in range(args.reps):
        for v in variants:
            out = subprocess.run(
                [sys.executable, __file__, *common, "--one", v],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            ms[v].append(float(out.split()[-1]))
    ref = min(ms[variants[0]])
    print(
        f"{args.method} {args.size}px batch {args.batch_size} {args.precision}, "
        f"{args.reps} alternating processes per variant, load {load0:.2f} at the start, "
        f"{os.getloadavg()[0]:.2f} at the end"
    )
    print(f"| variant | step ms per process | best | ratio vs {variants[0]} (best) |")
    print("|---|---|---|---|")
    for v in variants:
        best = min(ms[v])
        runs = ", ".join(f"{t:.0f}" for t in ms[v])
        print(f"| {v} | {runs} | {best:.0f} | x{ref / best:.2f} |")


if __name__ == "__main__":
    main()
