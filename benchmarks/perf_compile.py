"""Eager networks against ``train.compile`` modes, side by side in one process.

Usage: python benchmarks/perf_compile.py [--device auto] [--method baseline] [--sizes 32,64]
       [--batch-size 16] [--precision fp32] [--modes off,default] [--rounds 10] [--warmup 3]
       [--gpu-config] [--threads N] [--set KEY=VALUE ...] [--out FILE.json]
       python benchmarks/perf_compile.py --table FILE.json [FILE.json ...]   # markdown table

For each size, one Trainer per mode (the same config but ``train.compile``; a mode may carry a
layout: ``default+cl`` builds the networks channels-last with the norms on a planar copy, as
``benchmarks/perf_step.py``'s ``cl_fused``; ``default+cl-native`` builds norms that read the
channels-last tensors as they are, :class:`NativeInstanceNorm2d` / :class:`NativeDomainNorm`):
the warm-up steps
of each are timed (the first ones compile: ``compile_s`` is their time minus the eager
trainer's), then the steps are interleaved round by round (A B C A B C), so a drift in the
machine's speed hits every mode alike. After every round an fp32 matmul burst is timed
(:func:`latentbridge.bench.probe_rate`), as ``latentbridge bench`` does, for the drift-matched
utilisation. FLOPs per step are counted once, eagerly (:func:`latentbridge.bench.count_flops`);
the device's matmul peaks are measured before and after, and the higher kept.

``ratio`` = the median over rounds of the first mode's step (eager, ``off``, by default) / the
mode's step in the same round (> 1: the mode is faster); pairing by round keeps a slow spell of
the machine, which hits both steps of a round, out of the ratio.
With ``--gpu-config`` each size takes ``configs/faces{size}.yaml`` (architecture, batch, its
preset) instead of ``--method`` / ``--batch-size``. A mode that fails (a compiler error) is
recorded with its error and dropped; the others go on. The JSON is rewritten after every size.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.nn import functional as F

from latentbridge import bench, config, methods
from latentbridge.nn import blocks, networks
from latentbridge.precision import resolve_precision
from latentbridge.train.distributed import resolve_device
from latentbridge.train.trainer import Trainer

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


class NativeInstanceNorm2d(blocks.InstanceNorm2d):
    """The package's instance norm without its planar copy: the group-norm kernel reads a
    channels-last input as it is (for the compiler, which generates that kernel itself)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.group_norm(x, self.num_features, self.weight, self.bias, self.eps)


class NativeDomainNorm(blocks.DomainNorm):
    """The package's per-domain norm without its planar copy (see NativeInstanceNorm2d)."""

    def forward(self, x: Tensor, d: int) -> Tensor:
        if self.groups is None:
            return super().forward(x, d)
        eps = float(self.norm.eps)  # type: ignore[arg-type]
        return F.group_norm(x, self.groups, self.gamma[d], self.beta[d], eps)


PACKAGE_MAKE_NORM = blocks.make_norm


def native_make_norm(kind: config.Norm, channels: int, *, affine: bool = True) -> torch.nn.Module:
    """``blocks.make_norm`` with :class:`NativeInstanceNorm2d` for instance norms."""
    if kind == "instance":
        return NativeInstanceNorm2d(channels, affine=affine)
    return PACKAGE_MAKE_NORM(kind, channels, affine=affine)


LAYOUTS = {  # a mode's "+layout" -> (networks' memory format, norms without the planar copy)
    "": (torch.contiguous_format, False),
    "cl": (torch.channels_last, False),
    "cl-native": (torch.channels_last, True),
}


@contextmanager
def layout(mode: str) -> Iterator[None]:
    """Builds networks in the layout ``mode`` names after its ``+`` (none: the package's), as
    ``benchmarks/perf_step.py`` does: by swapping the package's norm factories while building."""
    fmt, native = LAYOUTS[mode.partition("+")[2]]
    saved = networks.MEMORY_FORMAT, blocks.make_norm, blocks.DomainNorm
    networks.MEMORY_FORMAT = fmt
    if native:
        blocks.make_norm, blocks.DomainNorm = native_make_norm, NativeDomainNorm  # type: ignore
    try:
        yield
    finally:
        networks.MEMORY_FORMAT, blocks.make_norm, blocks.DomainNorm = saved  # type: ignore


def trainer(args: argparse.Namespace, size: int, root: Path, run: Path, mode: str) -> Trainer:
    compile_mode = mode.partition("+")[0]
    over: dict[str, Any] = {"data.workers": 0, "train.warmup": 0, "train.compile": compile_mode}
    file = None
    if args.gpu_config:
        file = config.load_yaml(CONFIGS / f"faces{size}.yaml")
    else:
        over |= {"data.size": size, "train.batch_size": args.batch_size or 16}
    if args.gpu_config and args.batch_size:
        over["train.batch_size"] = args.batch_size
    if args.precision:
        over["train.precision"] = args.precision
    over |= config.parse_set(args.set or [])
    cfg = methods.resolve(None if args.gpu_config else args.method, file=file, overrides=over)
    with layout(mode):
        return Trainer(cfg, data=root, run=run, device=args.device)


def one_size(args: argparse.Namespace, size: int, tmp: Path, peaks: dict) -> dict[str, Any]:
    device = resolve_device(args.device)
    root = bench.write_dataset(tmp / f"data{size}", size)
    trainers: dict[str, Trainer] = {}
    out: dict[str, Any] = {"modes": {}}
    for mode in args.modes.split(","):
        trainers[mode] = trainer(args, size, root, tmp / f"run{size}_{mode}", mode)
    first = next(iter(trainers.values()))
    batch = first.micro_batches(0)
    cfg = first.cfg
    out |= {
        "method": cfg.method,
        "batch_size": cfg.train.batch_size,
        "precision": resolve_precision(cfg.train.precision, device),
    }
    out["flops_per_step"] = flops = bench.count_flops(lambda: first.one_step(batch))

    def timed(tr: Trainer) -> float:
        bench.sync(device)
        t0 = time.perf_counter()
        tr.one_step(batch)
        bench.sync(device)
        return time.perf_counter() - t0

    warm: dict[str, float] = {}
    for mode, tr in list(trainers.items()):
        try:
            warm[mode] = sum(timed(tr) for _ in range(args.warmup))
        except Exception as e:  # a compiler failure: record it, drop the mode
            out["modes"][mode] = {"error": f"{type(e).__name__}: {e}"[:2000]}
            traceback.print_exc()
            del trainers[mode]
        print(f"{size} px {mode}: warm-up {warm.get(mode, float('nan')):.1f} s", flush=True)
    times: dict[str, list[float]] = {m: [] for m in trainers}
    probes = [bench.probe_rate(device)]
    for _ in range(args.rounds):
        for mode, tr in trainers.items():
            times[mode].append(timed(tr))
        probes.append(bench.probe_rate(device))
    for mode, ts in times.items():
        med = statistics.median(ts)
        matched = [flops / t / max(a, b) for t, a, b in zip(ts, probes, probes[1:], strict=False)]
        out["modes"][mode] = {
            "step_ms": med * 1e3,
            "steps_ms": [t * 1e3 for t in ts],
            "ratio": paired_ratio(next(iter(times.values())), ts),
            "compile_s": compile_seconds(mode, warm),
            "flops_per_s": flops / med,
            "vs_fp32_peak": flops / med / peaks["fp32"],
            "vs_precision_peak": flops / med / peaks.get(out["precision"], peaks["fp32"]),
            "matched_fp32": statistics.median(matched),
        }
        m = out["modes"][mode]
        print(
            f"{size} px {mode}: {m['step_ms']:.1f} ms, ratio {m['ratio'] or 0:.2f}, "
            f"{m['vs_fp32_peak']:.0%} of fp32 peak ({m['matched_fp32']:.0%} drift-matched), "
            f"{m['vs_precision_peak']:.1%} of {out['precision']} peak",
            flush=True,
        )
    out["probe_flops_per_s"] = probes
    return out


def compile_seconds(mode: str, warm: dict[str, float]) -> float | None:
    """A mode's warm-up less the eager one's; 0 for an eager mode (any layout), None when the run
    has no eager mode to subtract."""
    if mode.partition("+")[0] == "off":
        return 0.0
    return warm[mode] - warm["off"] if "off" in warm else None


def paired_ratio(eager: list[float] | None, mode: list[float]) -> float | None:
    """Median over rounds of the reference step (eager, the first mode) / the mode's step
    (rounds pair the two under one load)."""
    if not eager:
        return None
    return statistics.median(e / m for e, m in zip(eager, mode, strict=True))


def table(files: list[Path]) -> str:
    """One markdown row per (run, size, mode) of the given JSON reports."""
    rows = [
        "| method | size | batch | precision | mode | step ms | ratio | compile s "
        "| % fp32 peak | drift-matched | % precision peak |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for f in files:
        res = json.loads(f.read_text())
        for size, r in res["sizes"].items():
            first = next(iter(r["modes"].values()), {})
            eager = first.get("steps_ms")
            for mode, m in r["modes"].items():
                if "error" in m:
                    rows.append(
                        f"| {r['method']} | {size} | {r['batch_size']} | {r['precision']} "
                        f"| {mode} | failed: {m['error'][:80]} | | | | | |"
                    )
                    continue
                ratio = paired_ratio(eager, m["steps_ms"])
                # no eager mode in the run: the compile time is not known
                comp = "—" if m["compile_s"] is None else f"{m['compile_s']:.0f}"
                rows.append(
                    f"| {r['method']} | {size} | {r['batch_size']} | {r['precision']} | {mode} "
                    f"| {m['step_ms']:.1f} | ×{ratio or 1:.2f} | {comp} "
                    f"| {m['vs_fp32_peak']:.0%} | {m['matched_fp32']:.0%} "
                    f"| {m['vs_precision_peak']:.1%} |"
                )
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--method", default="baseline")
    ap.add_argument("--sizes", default="32,64")
    ap.add_argument("--batch-size", type=int, help="default 16, or the config file's")
    ap.add_argument("--precision", default="fp32", help="fp32 | bf16 | '' (the config's)")
    ap.add_argument(
        "--modes",
        default="off,default",
        help="train.compile values, each optionally +cl or +cl-native; ratios are against the "
        "first",
    )
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--gpu-config", action="store_true", help="configs/faces{size}.yaml")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--set", action="append", metavar="KEY=VALUE", help="config overrides")
    ap.add_argument("--out", type=Path, default=Path("perf_compile.json"))
    ap.add_argument("--table", type=Path, nargs="+", help="print the table of these reports")
    args = ap.parse_args()
    if args.table:
        print(table(args.table))
        return
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    res: dict[str, Any] = {"machine": bench.machine_info(device), "args": vars(args) | {}}
    res["args"]["out"] = str(args.out)
    t0 = time.perf_counter()
    peaks = bench.measure_peaks(device)
    res["peaks"], res["sizes"] = peaks, {}

    def emit() -> None:
        res["seconds"] = time.perf_counter() - t0
        args.out.write_text(json.dumps(res, indent=1, default=str) + "\n")

    with tempfile.TemporaryDirectory(prefix="perf-compile-") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            res["sizes"][size] = one_size(args, size, Path(tmp), peaks)
            emit()
    after = bench.measure_peaks(device)
    res["peaks_after"] = after
    # Utilisation above used the first peaks; recompute it against the higher of the two.
    best = {k: max(v, after.get(k, 0.0)) for k, v in peaks.items()}
    for r in res["sizes"].values():
        for m in r["modes"].values():
            if "flops_per_s" in m:
                m["vs_fp32_peak"] = m["flops_per_s"] / best["fp32"]
                m["vs_precision_peak"] = m["flops_per_s"] / best.get(r["precision"], best["fp32"])
    res["peaks"] = best
    emit()
    print(json.dumps({"peaks": best}), flush=True)


if __name__ == "__main__":
    main()
