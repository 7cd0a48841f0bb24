"""Translation speed: eager against compiled encoders and decoders, side by side in one process.

Usage: python benchmarks/perf_translate.py [--method baseline] [--sizes 32,64] [--batches 1,64]
       [--precision fp32] [--variants eager,compiled,frozen] [--rounds 10] [--device auto]
       [--out FILE.json]
       python benchmarks/perf_translate.py --table FILE.json [FILE.json ...]   # markdown table

For each size and batch, one :class:`latentbridge.Pipeline` per variant over the same weights:
``eager``; ``compiled`` (``compile="default"``, what ``translate --compile`` runs); ``frozen``
(the same with inductor's ``freezing`` option, which folds the weights into the graph as
constants; not offered by the package, measured here to decide). Each variant's first two calls
are timed (the compile), then the variants run interleaved round by round, with an fp32 matmul
burst timed after every round (:func:`latentbridge.bench.probe_rate`). FLOPs per image are
counted once, eagerly. *ratio* = median over rounds of eager / variant in the same round;
*% best* = FLOP/s against the run's best burst or matmul peak; *matched* = each call against the
bursts just before and after it, as ``latentbridge bench`` does.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from pathlib import Path
from typing import Any

import torch

from latentbridge import bench, methods
from latentbridge.api import Pipeline
from latentbridge.model import Translator
from latentbridge.train.distributed import resolve_device

DOMAINS = ["A", "B"]


def pipeline(
    gen: Translator, cfg: Any, device: torch.device, variant: str, precision: str
) -> Pipeline:
    g = copy.deepcopy(gen)
    if variant == "frozen":
        pipe = Pipeline(g, cfg, device, 0, precision=precision)
        for net in [*g.encoders.values(), *g.decoders.values()]:
            net.compile(dynamic=False, options={"freezing": True})
        pipe.compiled = True
        return pipe
    return Pipeline(
        g,
        cfg,
        device,
        0,
        precision=precision,
        compile="default" if variant == "compiled" else "off",
    )


def one(args: argparse.Namespace, size: int, batch: int, peak: float) -> dict[str, Any]:
    device = resolve_device(args.device)
    cfg = methods.resolve(args.method, overrides={"data.size": size})
    torch.manual_seed(0)
    gen = Translator(cfg, DOMAINS).to(device).eval()
    x = torch.rand(batch, 3, size, size, device=device) * 2 - 1
    pipes = {v: pipeline(gen, cfg, device, v, args.precision) for v in args.variants}

    def call(v: str) -> float:
        t = time.perf_counter()
        pipes[v].translate(x, *DOMAINS)
        bench.sync(device)
        return time.perf_counter() - t

    flops = bench.count_flops(lambda: pipes["eager"].translate(x, *DOMAINS))
    ref = pipes["eager"].translate(x, *DOMAINS)
    first = {}
    err = {}
    for v in args.variants:
        first[v] = call(v) + call(v)
        err[v] = float((pipes[v].translate(x, *DOMAINS) - ref).abs().max())
    times: dict[str, list[float]] = {v: [] for v in args.variants}
    probes = [bench.probe_rate(device)]
    for _ in range(args.rounds):
        for v in args.variants:
            times[v].append(call(v))
        probes.append(bench.probe_rate(device))
    best = max(peak, *probes)
    out: dict[str, Any] = {
        "size": size,
        "batch": batch,
        "flops_per_image": flops / batch,
        "probe_flops_per_s": probes,
        "variants": {},
    }
    for v, ts in times.items():
        med = statistics.median(ts)
        matched = [flops / t / max(probes[i], probes[i + 1]) for i, t in enumerate(ts)]
        out["variants"][v] = {
            "ms": med * 1e3,
            "images_per_s": batch / med,
            "ratio": statistics.median(a / b for a, b in zip(times[args.variants[0]], ts)),
            "pct_best": flops / med / best * 100,
            "pct_matched": statistics.median(matched) * 100,
            "first_two_calls_s": first[v],
            "max_abs_diff_vs_eager": err[v],
        }
        print(
            f"{args.method} {size}px batch {batch} {v:9s} {med * 1e3:8.1f} ms  "
            f"x{out['variants'][v]['ratio']:.2f}  {out['variants'][v]['pct_best']:5.1f} % best  "
            f"{out['variants'][v]['pct_matched']:5.1f} % matched  (first calls "
            f"{first[v]:.1f} s, max diff {err[v]:.1e})",
            flush=True,
        )
    return out


def table(files: list[str]) -> str:
    """One row per preset and size: batch-1 latency and batch-``B`` throughput of each variant
    (``% of the fp32 peak / drift-matched``) and its ratio to eager; the variants every file
    measured."""
    rows: list[str] = []
    reports = [json.loads(Path(f).read_text()) for f in files]
    common = set.intersection(*(set(m["variants"]) for r in reports for m in r["runs"]))
    for r in reports:
        by_size: dict[int, dict[int, dict[str, Any]]] = {}
        for m in r["runs"]:
            variants = {v: d for v, d in m["variants"].items() if v in common}
            by_size.setdefault(m["size"], {})[m["batch"]] = variants
        for size, batches in sorted(by_size.items()):
            cells = [r["method"], f"{size}"]
            for batch, variants in sorted(batches.items()):
                for v, d in variants.items():
                    ratio = "" if v == "eager" else f" ×{d['ratio']:.2f}"
                    cells.append(
                        f"{d['ms']:.1f} ms{ratio}"
                        if batch == 1
                        else f"{d['pct_best']:.0f} % / {d['pct_matched']:.0f} %{ratio}"
                    )
            if not rows:
                head = ["preset", "px"]
                for batch, variants in sorted(batches.items()):
                    kind = "latency" if batch == 1 else "% fp32 peak / matched"
                    head += [f"batch {batch} {v} ({kind})" for v in variants]
                rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--method", default="baseline")
    p.add_argument("--sizes", default="32,64")
    p.add_argument("--batches", default="1,64")
    p.add_argument("--precision", default="fp32")
    p.add_argument("--variants", default="eager,compiled,frozen")
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--device", default="auto")
    p.add_argument("--out", type=Path)
    p.add_argument("--table", nargs="+")
    args = p.parse_args()
    if args.table:
        print(table(args.table))
        return
    args.variants = args.variants.split(",")
    if args.variants[0] != "eager":
        p.error("--variants must start with eager (the ratios are against it)")
    device = resolve_device(args.device)
    peaks = bench.measure_peaks(device)
    report: dict[str, Any] = {
        "method": args.method,
        "precision": args.precision,
        "machine": bench.machine_info(device),
        "runs": [],
    }
    for size in map(int, args.sizes.split(",")):
        for batch in map(int, args.batches.split(",")):
            report["runs"].append(one(args, size, batch, peaks["fp32"]))
            if args.out:
                args.out.write_text(json.dumps(report, indent=1))
    after = bench.measure_peaks(device)
    report["peak_flops_per_s"] = {k: max(v, after[k]) for k, v in peaks.items()}
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
