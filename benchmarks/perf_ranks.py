"""One process with N threads against N data-parallel ranks of one thread each, per preset.

Usage: .venv/bin/python benchmarks/perf_ranks.py [--methods baseline,bridge] [--sizes 32,64]
       [--ranks 2] [--precision fp32] [--set KEY=VALUE ...] [--out DIR] [--from DIR]

For every (method, size) it runs ``latentbridge bench`` twice on the same global batch: once as
one process with torch's default threads, once under ``torchrun`` with ``--ranks`` processes and
``OMP_NUM_THREADS=1`` (the bench then reports machine totals). The two runs of a pair follow each
other, so drift hits both alike. JSON reports go to ``--out``; ``--from DIR`` only tabulates the
reports already there. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

PRESETS = "baseline,cogan,cogan_full,latent_adversarial,combogan,xgan,unit,bridge"


def _bench(args: list[str], json_path: Path, ranks: int) -> None:
    cmd = [sys.executable, "-m", "latentbridge", "bench", *args, "--json", str(json_path)]
    env = dict(os.environ)
    if ranks > 1:
        launcher = ["-m", "torch.distributed.run", "--standalone", "--nnodes", "1"]
        cmd = [sys.executable, *launcher, "--nproc_per_node", str(ranks), *cmd[1:]]
        env["OMP_NUM_THREADS"] = "1"
    subprocess.run(cmd, env=env, check=True, capture_output=True)


def _row(name: str, one: dict, many: dict) -> str:
    a, b = one["train"], many["train"]
    ua, ub = a["utilisation"], b["utilisation"]
    return (
        f"| {name} | {a['step_s'] * 1e3:.0f} | {ua['vs_fp32_peak']:.0%} | "
        f"{ua.get('matched_fp32', 0):.0%} | {b['step_s'] * 1e3:.0f} | {ub['vs_fp32_peak']:.0%} | "
        f"{ub.get('matched_fp32', 0):.0%} | ×{a['step_s'] / b['step_s']:.2f} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", default=PRESETS)
    ap.add_argument("--sizes", default="32,64")
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--precision", default="fp32")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--set", action="append", default=[], help="a config override for both runs")
    ap.add_argument("--out", type=Path, default=Path("perf_ranks"))
    ap.add_argument("--from", dest="existing", type=Path, help="tabulate the reports in DIR only")
    args = ap.parse_args()
    out = args.existing or args.out
    out.mkdir(parents=True, exist_ok=True)
    print(
        f"| run | 1 process: step ms | % of fp32 peak | drift-matched | {args.ranks} ranks x 1 "
        "thread: step ms | % of fp32 peak | drift-matched | steps/s ratio |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for size in args.sizes.split(","):
        for method in args.methods.split(","):
            name = f"{method}{size}"
            n = args.ranks  # files: 1xN_<run>.json (one process), Nx1_<run>.json (N ranks)
            one, many = out / f"1x{n}_{name}.json", out / f"{n}x1_{name}.json"
            if args.existing is None:
                common = ["--method", method, "--size", size, "--batch-size", str(args.batch_size)]
                common += ["--precision", args.precision, "--steps", str(args.steps)]
                common += ["--set", "train.warmup=0"]  # bridge's full step, not its warm-up
                common += [a for kv in args.set for a in ("--set", kv)]
                _bench(common, one, 1)
                _bench(common, many, args.ranks)
            if one.is_file() and many.is_file():
                print(_row(name, json.loads(one.read_text()), json.loads(many.read_text())))


if __name__ == "__main__":
    main()
