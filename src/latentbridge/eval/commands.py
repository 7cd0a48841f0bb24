"""``latentbridge eval``: its parser, its run, its summary on the terminal; and the parsers' shared
classifier and budget arguments (``compare`` lives in `compare`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

DATA_HELP = "dataset folder, laid out as for `train --data`; its test split where it has one"
LIMIT_HELP = "test images per domain (default 500)"


def add_eval_parsers(sub: argparse._SubParsersAction) -> None:
    """The ``eval`` and ``compare`` subcommands."""
    from latentbridge.cli import add_device_argument, add_no_ema_argument
    from latentbridge.eval.compare import add_compare_parser

    p = sub.add_parser(
        "eval",
        help="measure whether a run kept the subject: metrics.json + report.html",
        description="Evaluate a trained run on a dataset's test split (every ordered pair of domains).",
        epilog="example:\n  latentbridge eval --run runs/xgan --data data/faces --out runs/xgan/eval",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--run", type=Path, required=True, help="a run folder (`latentbridge train`)")
    p.add_argument("--data", type=Path, required=True, help=DATA_HELP)
    p.add_argument("--out", type=Path, help="output folder (default RUN/eval)")
    p.add_argument("--checkpoint", type=Path, help="a checkpoint file instead of RUN's last.pt")
    p.add_argument("--features", type=Path, help="TorchScript feature network for KID/FID")
    p.add_argument("--limit", type=at_least_two, default=500, help=LIMIT_HELP)
    add_classifier_arguments(p)
    add_device_argument(p)
    add_no_ema_argument(p)
    p.set_defaults(func=cmd_eval)
    add_compare_parser(sub)


SOFT_WARNING = 0.05  # ceiling minus blurred ceiling above which the summary warns


def print_summary(m: dict[str, Any], out: Path) -> None:
    s = m["summary"]
    print(f"{m['method']} at step {m['step']}:")
    for k, v in (s["attribute_preservation"] or {}).items():
        at = m["directions"][k]["attributes"]
        copy = (at.get("untranslated") or {}).get("mean")
        span = (at.get("accuracy_interval") or {}).get("mean")
        beside = [f"95 % interval {span[0]:.3f}–{span[1]:.3f}"] if span else []
        beside += [f"the source untranslated: {copy:.3f}"] if copy is not None else []
        note = f" ({'; '.join(beside)})" if beside else ""
        print(f"  attribute preservation {k}: {v:.3f}{note}")
    warned: set[str] = set()
    for k, d in m["directions"].items():
        at, b = d["attributes"] or {}, k.split("->")[1]
        sharp, soft = at.get("ceiling"), at.get("ceiling_blurred")
        if sharp and soft and soft["mean"] < sharp["mean"] - SOFT_WARNING and b not in warned:
            warned.add(b)
            print(
                f"  note: the {b} classifier reads real images blurred by side/32 px at"
                f" {soft['mean']:.3f} against {sharp['mean']:.3f} sharp: soft translations into"
                f" {b} may be under-read"
            )
    for d, kept in (m.get("reconstruction_attributes") or {}).items():
        if kept is not None:
            print(f"  attributes kept by the reconstruction {d}->{d}: {kept['mean']:.3f}")
    for key in (
        "chance_mean",
        "kid_mean",
        "two_sample_accuracy_mean",
        "domain_probe_accuracy_mean",
        "attribute_probe_transfer_mean",
        "retrieval_top1_mean",
    ):
        if s[key] is not None:
            print(f"  {key.replace('_', ' ')}: {s[key]:.3f}")
    print(f"metrics: {out / 'metrics.json'}  report: {out / 'report.html'}")


def _at_least(least: int, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a whole number >= {least}, got {text!r}"
        ) from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be >= {least}, got {value}")
    return value


def at_least_one(text: str) -> int:
    return _at_least(1, text)


def at_least_two(text: str) -> int:
    return _at_least(2, text)


def add_classifier_arguments(p: argparse.ArgumentParser) -> None:
    """How the evaluation's classifiers train (`eval`, `compare` and `demo` share these)."""
    p.add_argument(
        "--classifier-steps",
        type=at_least_one,
        default=800,
        help="steps per training round of each evaluation classifier (default 800)",
    )
    p.add_argument(
        "--classifier-rounds",
        type=at_least_one,
        default=5,
        help="at most this many rounds: more while held-out accuracy still improves (default 5)",
    )
    p.add_argument(
        "--two-sample-steps",
        type=at_least_one,
        default=300,
        help="training steps of the two-sample test's classifier, per direction (default 300)",
    )


def instrument(args: argparse.Namespace) -> dict[str, int]:
    """The options of :func:`add_classifier_arguments`, as keyword arguments of :func:`run_eval`."""
    return {
        "classifier_steps": args.classifier_steps,
        "classifier_rounds": args.classifier_rounds,
        "two_sample_steps": args.two_sample_steps,
    }


def run_eval(run: Path, data: Path, out: Path, **kw: Any) -> dict[str, Any]:
    """Evaluate, write metrics.json and report.html into ``out``, return the metrics."""
    from latentbridge.eval.evaluate import evaluator, metrics
    from latentbridge.eval.report import write_report

    ev = evaluator(run, data, **kw)
    m = metrics(ev, run)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(m, indent=2))
    write_report(m, ev, run, out / "report.html")
    return m


def cmd_eval(args: argparse.Namespace) -> int:
    out = args.out or args.run / "eval"
    m = run_eval(
        args.run,
        args.data,
        out,
        checkpoint=args.checkpoint,
        features=args.features,
        device=args.device,
        limit=args.limit,
        ema=not args.no_ema,
        **instrument(args),
    )
    print_summary(m, out)
    return 0
