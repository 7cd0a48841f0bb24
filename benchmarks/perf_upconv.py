"""Nearest up-sampling + 3x3 conv, by output phases against up-sampling then convolving.

Usage: .venv/bin/python benchmarks/perf_upconv.py --method baseline --size 64 [--batch-size 32]
       [--precision fp32] [--compile off] [--reps 3] [--steps 6] [--json PATH]

``model.up=nearest`` decoders double their side by ``blocks.upsample2x`` and a 3x3 conv (the
``upsample`` variant: the package as it is). The ``phases`` variant swaps in
:func:`upsample2x_conv3x3`: each of the four output phases (even/odd row, even/odd column) is a
2x2 convolution of the small input, all four in one call and then interleaved — the same
function (``tests/test_perf_upconv.py``) for 2.25x fewer multiply-adds in that layer, and the 4x
larger up-sampled input is never written. Each (variant, repetition) is a fresh process running
``latentbridge.bench.run_bench`` without the peak (training step, translation at batch 1 and
64); processes alternate variant by variant, so a drift in the machine's speed hits both alike.
Prints the medians and the ratios (> 1 = phases faster).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.nn import functional as F

VARIANTS = ("upsample", "phases")

# Which of a 3x3 kernel's rows (columns) land on each of the two source rows (columns) that an
# output row of phase a reads after nearest x2 up-sampling: [a, source row r, kernel row].
_PHASE_TAPS = torch.tensor([[[1.0, 0, 0], [0, 1, 1]], [[1, 1, 0], [0, 0, 1]]])


def upsample2x_conv3x3(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``conv3x3(nearest_upsample_x2(x))`` (padding 1) without up-sampling: one 2x2 convolution
    with 4x the output channels computes the four output phases, whose taps are sums of the 3x3
    kernel's; the phases are then interleaved."""
    b, _, h, w = x.shape
    cout = weight.shape[0]
    m = _PHASE_TAPS.to(weight)
    k = torch.einsum("ary,ocyx,bsx->oabcrs", m, weight, m).reshape(4 * cout, -1, 2, 2)
    y = F.conv2d(F.pad(x, (1, 1, 1, 1)), k).view(b, cout, 2, 2, h + 1, w + 1)
    phases = [y[:, :, a, c, a : a + h, c : c + w] for a in (0, 1) for c in (0, 1)]
    out = torch.stack(phases, dim=-1).view(b, cout, h, w, 2, 2)
    out = out.permute(0, 1, 2, 4, 3, 5).reshape(b, cout, 2 * h, 2 * w)
    return out if bias is None else out + bias.view(1, -1, 1, 1)


@contextmanager
def variant_forward(variant: str) -> Iterator[None]:
    """Up-sampling blocks run as ``variant`` says inside (``upsample``: the package's own
    forward); the package's forward is back afterwards."""
    from latentbridge.nn import blocks

    saved = blocks.UpBlock.forward
    if variant == "phases":

        def forward(self: blocks.UpBlock, x: Tensor, d: int) -> Tensor:
            if self.mode == "transpose":
                y = self.conv(x)
            else:
                y = upsample2x_conv3x3(x, self.conv.weight, self.conv.bias)
            return F.relu(self.norm(y, d), inplace=True)

        blocks.UpBlock.forward = forward  # type: ignore[method-assign]
    try:
        yield
    finally:
        blocks.UpBlock.forward = saved  # type: ignore[method-assign]


def measure(variant: str, args: argparse.Namespace) -> dict[str, float]:
    """One ``bench.run_bench`` (no peak) with ``variant``'s up-sampling: step and translation."""
    from latentbridge import bench

    opts = bench.BenchOptions(
        method=args.method,
        size=args.size,
        batch_size=args.batch_size,
        device="cpu",
        precision=args.precision,
        compile=args.compile,
        steps=args.steps,
        warmup=args.warmup,
        translate_reps=args.translate_reps,
        threads=args.threads,
        peak=False,
        probe=False,
    )
    with variant_forward(variant):
        report = bench.run_bench(opts)
    t = {r["batch"]: r for r in report["translate"]}
    return {
        "step_ms": report["train"]["step_s"] * 1e3,
        "flops_per_step": report["train"]["flops_per_step"],
        "translate_b1_ms": t[1]["latency_ms"],
        "translate_b64_ms": t[64]["latency_ms"],
    }


TIMES = ("step_ms", "translate_b1_ms", "translate_b64_ms")


def summarise(rows: dict[str, list[dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Per variant, the median of every measured value over repetitions, and ``ratio_<time>`` =
    the first variant's median time / this variant's (> 1: faster than the first)."""
    med = {v: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for v, rs in rows.items()}
    base = next(iter(med.values()))
    for m in med.values():
        m.update({f"ratio_{k}": base[k] / m[k] for k in TIMES})
    return med


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--method", default="baseline")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--precision", default="fp32")
    p.add_argument("--compile", default="off")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--translate-reps", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--child", choices=VARIANTS, default=None, help=argparse.SUPPRESS)
    p.add_argument("--child-out", type=Path, default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        args.child_out.write_text(json.dumps(measure(args.child, args)))
        return 0
    rows: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.reps):
            for v in VARIANTS:
                out = Path(tmp) / f"{v}_{rep}.json"
                cmd = [
                    sys.executable,
                    __file__,
                    *sys.argv[1:],
                    "--child",
                    v,
                    "--child-out",
                    str(out),
                ]
                subprocess.run(cmd, check=True, env=os.environ.copy())
                rows[v].append(json.loads(out.read_text()))
                print(
                    f"rep {rep} {v:9s} " + " ".join(f"{k} {x:,.1f}" for k, x in rows[v][-1].items())
                )
    med = summarise(rows)
    print(
        f"\n{args.method} {args.size}px batch {args.batch_size} {args.precision} compile={args.compile}"
    )
    for v, m in med.items():
        ratios = " ".join(f"x{m[f'ratio_{k}']:.2f}" for k in TIMES)
        print(
            f"{v:9s} step {m['step_ms']:,.0f} ms  GFLOP/step {m['flops_per_step'] / 1e9:,.0f}  "
            f"translate b1 {m['translate_b1_ms']:.2f} ms  b64 {m['translate_b64_ms']:.1f} ms  "
            f"(step, b1, b64 vs {VARIANTS[0]}: {ratios})"
        )
    if args.json:
        report = {"args": vars(args) | {"json": str(args.json)}, "runs": rows, "median": med}
        args.json.write_text(json.dumps(report, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
