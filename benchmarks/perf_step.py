"""Side-by-side ratios of training-step optimisations, measured in one process.

Usage: .venv/bin/python benchmarks/perf_step.py --size 64 [--method baseline] [--batch-size 16]
       [--variants legacy,fused_norm,channels_last,cl_fused,fused_norm_bf16] [--rounds 6]

Every variant is a Trainer built with one setting changed; their steps are interleaved round by
round (A B C A B C ...), so a neighbour's load slows all variants alike, and each variant's median
step time is divided into the reference's (the first variant): ratio > 1 means faster.

Variants:
- ``legacy``: NCHW tensors and ``torch.nn.InstanceNorm2d`` (the code before the optimisations);
- ``fused_norm``: NCHW, instance norm by the group-norm kernel (what the package does now);
- ``channels_last``: channels-last tensors, the legacy norm;
- ``cl_fused``: channels last + fused norm (on a planar copy, see blocks._planar);
- ``<any>_bf16``: the same under bf16 autocast; ``<any>_t1``: one intra-op thread.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from latentbridge import methods
from latentbridge.bench import write_dataset
from latentbridge.config import Norm, parse_set
from latentbridge.nn import blocks, networks
from latentbridge.train.trainer import Trainer


class LegacyDomainNorm(nn.Module):
    """The per-domain norm as it was: norm, then a separate affine pass."""

    def __init__(self, channels: int, n_domains: int, kind: Norm) -> None:
        super().__init__()
        self.norm = legacy_make_norm(kind, channels, affine=False)
        self.gamma = nn.Parameter(torch.ones(n_domains, channels))
        self.beta = nn.Parameter(torch.zeros(n_domains, channels))

    def forward(self, x: Tensor, d: int) -> Tensor:
        x = self.norm(x)
        return x * self.gamma[d].view(1, -1, 1, 1) + self.beta[d].view(1, -1, 1, 1)


def legacy_make_norm(kind: Norm, channels: int, *, affine: bool = True) -> nn.Module:
    """``make_norm`` as it was: PyTorch's own InstanceNorm2d (a reshape to batch norm)."""
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=affine)
    return blocks.make_norm(kind, channels, affine=affine)


@dataclass(frozen=True)
class Variant:
    name: str
    channels_last: bool
    fused_norm: bool
    precision: str
    threads: int


def parse_variant(name: str) -> Variant:
    """``legacy`` | ``fused_norm`` | ``channels_last`` | ``cl_fused``, with ``_bf16`` / ``_t1``."""
    base = name.replace("_bf16", "").replace("_t1", "")
    layout = {
        "legacy": (False, False),
        "fused_norm": (False, True),
        "channels_last": (True, False),
        "cl_fused": (True, True),
    }
    if base not in layout:
        raise SystemExit(f"unknown variant {name!r}; bases: {', '.join(layout)}")
    cl, fused = layout[base]
    precision = "bf16" if "_bf16" in name else "fp32"
    threads = 1 if "_t1" in name else torch.get_num_threads()
    return Variant(name, cl, fused, precision, threads)


@contextmanager
def building(v: Variant) -> Iterator[None]:
    """Build networks with ``v``'s layout and norm (restores the package's settings after)."""
    saved = networks.MEMORY_FORMAT, blocks.make_norm, blocks.DomainNorm
    networks.MEMORY_FORMAT = torch.channels_last if v.channels_last else torch.contiguous_format
    if not v.fused_norm:
        blocks.make_norm, blocks.DomainNorm = legacy_make_norm, LegacyDomainNorm  # type: ignore
    try:
        yield
    finally:
        networks.MEMORY_FORMAT, blocks.make_norm, blocks.DomainNorm = saved  # type: ignore


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", default="baseline")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument(
        "--variants", default="legacy,fused_norm,channels_last,cl_fused,fused_norm_bf16"
    )
    ap.add_argument("--rounds", type=int, default=6, help="timed steps per variant")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--set", action="append", default=[], help="extra config KEY=VALUE")
    args = ap.parse_args()
    variants = [parse_variant(n) for n in args.variants.split(",")]
    default_threads = torch.get_num_threads()
    extra = parse_set(args.set)
    with tempfile.TemporaryDirectory() as tmp:
        root = write_dataset(Path(tmp) / "data", args.size, n=2 * args.batch_size)
        trainers = {}
        for v in variants:
            over = {"data.size": args.size, "train.batch_size": args.batch_size, **extra}
            over |= {"data.workers": 0, "train.precision": v.precision}
            with building(v):
                cfg = methods.resolve(args.method, overrides=over)
                trainers[v] = Trainer(cfg, data=root, run=Path(tmp) / v.name, device="cpu")
        batch = trainers[variants[0]].micro_batches(0)
        times: dict[Variant, list[float]] = {v: [] for v in variants}
        for r in range(args.warmup + args.rounds):
            for v, tr in trainers.items():
                torch.set_num_threads(v.threads)
                t0 = time.perf_counter()
                tr.one_step(batch)
                if r >= args.warmup:
                    times[v].append(time.perf_counter() - t0)
                torch.set_num_threads(default_threads)
    ref = statistics.median(times[variants[0]])
    print(
        f"{args.method} {args.size}px batch {args.batch_size}, {args.rounds} interleaved rounds, "
        f"load {os.getloadavg()[0]:.2f} at the end, torch {torch.__version__}"
    )
    print("| variant | median step ms | min ms | pairs/s | ratio vs " + variants[0].name + " |")
    print("|---|---|---|---|---|")
    for v, ts in times.items():
        med = statistics.median(ts)
        print(
            f"| {v.name} | {med * 1e3:.1f} | {min(ts) * 1e3:.1f} | "
            f"{args.batch_size / med:.1f} | {ref / med:.2f} |"
        )


if __name__ == "__main__":
    main()
