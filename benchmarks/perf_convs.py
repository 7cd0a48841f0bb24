"""Every convolution shape of one training step, timed alone: NCHW vs channels-last.

Usage: .venv/bin/python benchmarks/perf_convs.py --size 64 [--method baseline] [--batch-size 16]
       [--set KEY=VALUE ...]

Hooks each ``nn.Conv2d`` of a Trainer's model during one step to collect the shapes it sees, then
rebuilds every shape as a lone layer and times forward + backward (median of 7, fp32) with NCHW
input, channels-last input, and NCHW input converted to channels-last and back around the conv
(what a per-layer switch costs), and the same work as the im2col GEMMs run by ``torch.mm`` (how
fast these matrix shapes can go at all). Prints a markdown table and the per-step totals.
"""

from __future__ import annotations

import argparse
import collections
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from latentbridge import methods
from latentbridge.bench import matmul_peak, write_dataset
from latentbridge.config import parse_set
from latentbridge.train.trainer import Trainer


def _median_ms(fn: Callable[[], None], reps: int = 7) -> float:
    for _ in range(2):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def _time_layer(conv: nn.Conv2d, x: torch.Tensor) -> list[float]:
    """Forward + backward ms of ``conv``: NCHW, channels-last, NCHW converted around the conv."""
    cl = torch.channels_last
    xcl = x.detach().to(memory_format=cl).requires_grad_(x.requires_grad)
    return [
        _median_ms(lambda: conv(x).sum().backward()),
        _median_ms(lambda: conv(xcl).sum().backward()),
        _median_ms(lambda: conv(x.contiguous(memory_format=cl)).contiguous().sum().backward()),
    ]


def _gemm_ms(m: int, k: int, n: int, grad_in: bool) -> float:
    """Forward + backward ms of the convolution's im2col GEMMs run as plain ``torch.mm``:
    (M, K) @ (K, N) forward, the weight gradient (K, M) @ (M, N) and, when the input needs a
    gradient, (M, N) @ (N, K). The unfold/fold copies are left out, so this is a lower bound of
    an im2col convolution and tells how fast these matrix shapes can run at all."""
    a, w, g = torch.randn(m, k), torch.randn(k, n), torch.randn(m, n)
    at = a.t().contiguous()
    wt = w.t().contiguous()

    def run() -> None:
        torch.mm(a, w)
        torch.mm(at, g)
        if grad_in:
            torch.mm(g, wt)

    return _median_ms(run)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", default="baseline")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--set", action="append", default=[], help="extra config KEY=VALUE")
    args = ap.parse_args()
    over = parse_set(args.set)
    over |= {"data.size": args.size, "train.batch_size": args.batch_size}
    over |= {"train.precision": "fp32", "data.workers": 0}
    cfg = methods.resolve(args.method, overrides=over)
    seen: collections.Counter = collections.Counter()

    def hook(m: nn.Conv2d, inp: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        x = inp[0]
        key = (tuple(x.shape), m.out_channels, m.kernel_size, m.stride, m.padding)
        seen[(*key, x.requires_grad)] += 1

    with tempfile.TemporaryDirectory() as tmp:
        root = write_dataset(Path(tmp) / "data", args.size, n=2 * args.batch_size)
        trainer = Trainer(cfg, data=root, run=Path(tmp) / "run", device="cpu")
        for m in trainer.model.modules():
            if type(m) is nn.Conv2d:
                m.register_forward_hook(hook)
        trainer.one_step(trainer.micro_batches(0))
    print(
        f"{args.method} {args.size}px batch {args.batch_size} fp32, {torch.get_num_threads()} threads"
    )
    print(
        "| input | out | k | stride | calls/step | GFLOP/s NCHW | NCHW ms | channels-last ms "
        "| CL + conversions ms | same GEMMs as mm ms | GEMM GFLOP/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    totals = [0.0, 0.0, 0.0, 0.0]
    total_flops = 0
    for (shape, cout, k, stride, pad, grad_in), calls in sorted(seen.items()):
        conv = nn.Conv2d(shape[1], cout, k, stride, pad)
        x = torch.randn(shape, requires_grad=grad_in)
        ms = _time_layer(conv, x)
        out = conv(x)
        flops = 2 * out.numel() * shape[1] * k[0] * k[1] * (3 if grad_in else 2)
        gemm_m = out.shape[0] * out.shape[2] * out.shape[3]
        ms.append(_gemm_ms(gemm_m, shape[1] * k[0] * k[1], cout, grad_in))
        for i in range(4):
            totals[i] += ms[i] * calls
        total_flops += flops * calls
        print(
            f"| {'x'.join(map(str, shape))} | {cout} | {k[0]}x{k[1]} | {stride[0]} | {calls} | "
            f"{flops / ms[0] / 1e6:.0f} | {ms[0]:.2f} | {ms[1]:.2f} | {ms[2]:.2f} | {ms[3]:.2f} "
            f"| {flops / ms[3] / 1e6:.0f} |"
        )
    print(
        f"\nper step, convolutions alone: NCHW {totals[0]:.0f} ms, channels-last {totals[1]:.0f} ms,"
        f" per-layer conversion {totals[2]:.0f} ms; their GEMMs as torch.mm {totals[3]:.0f} ms"
    )
    peak = matmul_peak(torch.device("cpu"), torch.float32)
    print(
        f"fp32 matmul peak at {torch.get_num_threads()} threads: {peak / 1e9:.0f} GFLOP/s; the"
        f" step's convolutions reach {total_flops / totals[0] * 1e3 / peak:.0%} of it (NCHW),"
        f" {total_flops / totals[1] * 1e3 / peak:.0%} (channels-last), and their GEMMs as torch.mm"
        f" {total_flops / totals[3] * 1e3 / peak:.0%}"
    )


if __name__ == "__main__":
    main()
