"""``latentbridge bench``: its options, a worked example, and the command that prints the table
and writes the JSON."""

from __future__ import annotations

import argparse
import json
import math
import os
import textwrap
from pathlib import Path
from typing import Any

from latentbridge.bench.machine import PEAK_SECONDS
from latentbridge.bench.measure import BenchOptions, run_bench
from latentbridge.bench.report import format_report

EXAMPLE = """
latentbridge bench                                   # baseline, 32 px, preset batch, auto device
latentbridge bench --method unit --size 64 --batch-size 32 --json bench_unit64.json
latentbridge bench --device cuda --size 256 --precision bf16 --batch-size 8
latentbridge bench --device cuda --config configs/faces256.yaml   # the 256 px GPU preset
"""


def add_bench_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``latentbridge bench`` (its options, a worked example and :func:`cmd_bench`)."""
    from latentbridge.cli import add_compile_argument, add_set_argument

    p = subparsers.add_parser(
        "bench",
        help="measure training/translation speed against the machine's matmul peak",
        description=(
            "Measure the device's matrix-multiply peak, then training pairs/s, FLOPs per step, "
            "utilisation (achieved / peak), translation images/s at batch 1 and 64, data "
            "loading rates and peak memory for one preset, on random images it writes itself."
        ),
        epilog="example:\n" + textwrap.indent(textwrap.dedent(EXAMPLE).strip(), "  "),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--method", help="a preset (see `latentbridge methods`; default: the config's, or baseline)"
    )
    p.add_argument("--config", type=Path, help="a YAML config file (architecture, batch, ...)")
    p.add_argument(
        "--size", type=int, help="image side in px (data.size; default: the config's, or 32)"
    )
    p.add_argument("--batch-size", type=int, help="images per domain per step (train.batch_size)")
    from latentbridge.cli import add_device_argument

    add_device_argument(p)
    p.add_argument(
        "--precision", choices=["auto", "fp32", "bf16", "fp16"], help="autocast (train.precision)"
    )
    add_compile_argument(p)
    p.add_argument("--steps", type=int, default=10, help="timed training steps (default 10)")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    p.add_argument(
        "--translate-reps", type=int, default=10, help="timed translations per batch size"
    )
    p.add_argument(
        "--translate-chunk",
        type=int,
        help="images per pass through the networks when translating (default: the package's, "
        "on the CPU 32768 pixels' worth; docs/PERFORMANCE.md, section Y)",
    )
    p.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's)")
    add_set_argument(p, "override a config key, e.g. model.width=64 (repeatable)")
    p.add_argument(
        "--no-peak",
        action="store_true",
        help="skip the matmul peak and the bursts timed around steps",
    )
    p.add_argument("--json", type=Path, help="also write the report to this JSON file")
    p.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    """Run the bench from parsed arguments; print the table and write ``--json``."""
    from latentbridge import config as C

    opts = BenchOptions(
        method=args.method,
        size=args.size,
        batch_size=args.batch_size,
        device=args.device,
        precision=args.precision,
        compile=args.compile,
        steps=args.steps,
        warmup=args.warmup,
        translate_reps=args.translate_reps,
        translate_chunk=args.translate_chunk,
        threads=args.threads,
        overrides=C.parse_set(args.set),
        file=C.load_yaml(args.config) if args.config else None,
        peak=not args.no_peak,
        probe=not args.no_peak,
        peak_sides=getattr(args, "peak_sides", None),
        peak_seconds=getattr(args, "peak_seconds", PEAK_SECONDS),
    )
    report = run_bench(opts)
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun rank 0 speaks for the machine
        return 0
    print(format_report(report))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, default=_json_default) + "\n")
        print(f"wrote {args.json}")
    return 0


def _json_default(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
