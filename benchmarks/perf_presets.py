"""``latentbridge bench``'s training and translation numbers for every preset at one size.

Usage: .venv/bin/python benchmarks/perf_presets.py [--size 32] [--precision fp32]
       [--steps 5] [--methods baseline,cogan,...] [--threads N]

The matmul peak is measured once before and once after all presets (the higher counts), then each
preset runs through :func:`latentbridge.bench.run_bench` without its own peak. Prints a markdown
table: step ms, pairs/s, GFLOP/step, achieved GFLOP/s, utilisation of the fp32 (and bf16) peak,
translation images/s at batch 64 and its utilisation, and the compute share of wall time.
"""

from __future__ import annotations

import argparse
import os

import torch

from latentbridge import bench, methods
from latentbridge.train.distributed import resolve_device


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--methods", default=",".join(methods.REGISTRY))
    ap.add_argument("--threads", type=int)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device("cpu")
    load0 = os.getloadavg()[0]
    peaks = bench.measure_peaks(device)
    reports = {}
    for name in args.methods.split(","):
        opts = bench.BenchOptions(
            method=name,
            size=args.size,
            device="cpu",
            precision=args.precision,
            steps=args.steps,
            warmup=args.warmup,
            translate_reps=3,
            peak=False,
            overrides={"train.warmup": 0},  # bridge: measure its full step, not the AE warm-up
        )
        reports[name] = bench.run_bench(opts)
    after = bench.measure_peaks(device)
    peaks = {k: max(v, after[k]) for k, v in peaks.items()}
    peak_text = ", ".join(f"{k} {v / 1e9:.0f} GFLOP/s" for k, v in peaks.items())
    print(
        f"{args.size}px {args.precision}, {args.steps} timed steps after {args.warmup}, "
        f"{torch.get_num_threads()} threads, torch {torch.__version__}; peak {peak_text}; "
        f"load {load0:.2f} at start, {os.getloadavg()[0]:.2f} at end"
    )
    print(
        "| preset | batch | step ms | pairs/s | GFLOP/step | GFLOP/s | % fp32 peak | "
        "% bf16 peak | % drift-matched fp32 | translate b64 img/s | translate % fp32 peak | "
        "compute share |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, r in reports.items():
        t, tr64, c = r["train"], r["translate"][-1], r["config"]
        bf = f"{t['flops_per_s'] / peaks['bf16']:.0%}" if "bf16" in peaks else "-"
        print(
            f"| {name} | {c['batch_size']} | {t['step_s'] * 1e3:.0f} | {t['pairs_per_s']:.1f} | "
            f"{t['flops_per_step'] / 1e9:.1f} | {t['flops_per_s'] / 1e9:.0f} | "
            f"{t['flops_per_s'] / peaks['fp32']:.0%} | {bf} | "
            f"{t['utilisation']['matched_fp32']:.0%} | {tr64['images_per_s']:.0f} | "
            f"{tr64['flops_per_s'] / peaks['fp32']:.0%} | {r['data']['compute_fraction']:.1%} |"
        )


if __name__ == "__main__":
    main()
