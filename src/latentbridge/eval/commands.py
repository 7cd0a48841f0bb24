"""``latentbridge eval`` and ``latentbridge compare``."""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
from pathlib import Path
from typing import Any

from latentbridge.errors import UserError

DATA_HELP = "dataset folder, laid out as for `train --data`; its test split where it has one"
LIMIT_HELP = "test images per domain (default 500)"


def add_eval_parsers(sub: argparse._SubParsersAction) -> None:
    from latentbridge.cli import add_device_argument, add_no_ema_argument, add_set_argument

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
    p.add_argument("--limit", type=_at_least_two, default=500, help=LIMIT_HELP)
    add_classifier_arguments(p)
    add_device_argument(p)
    add_no_ema_argument(p)
    p.set_defaults(func=cmd_eval)
    c = sub.add_parser(
        "compare",
        help="train several methods on equal budget, evaluate each, tabulate mean ± std",
        description="Train every listed method with the same budget and settings, evaluate, compare.",
        epilog="example:\n  latentbridge compare --data data/faces --methods all --minutes 5 --seeds 2 --out cmp",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    c.add_argument("--data", type=Path, required=True, help=DATA_HELP)
    c.add_argument("--methods", required=True, help="comma-separated presets, or 'all'")
    b = c.add_mutually_exclusive_group(required=True)
    b.add_argument("--minutes", type=float, help="training budget per run")
    b.add_argument("--steps", type=int, help="training steps per run")
    c.add_argument(
        "--seeds", type=_at_least_one, default=1, help="runs per method, seeds 0..K-1 (default 1)"
    )
    c.add_argument(
        "--out",
        type=Path,
        required=True,
        help="output folder: runs/METHOD-sSEED, comparison.md, .html and .json",
    )
    add_set_argument(c, "override a config key for every method (repeatable)")
    c.add_argument("--limit", type=_at_least_two, default=500, help=LIMIT_HELP)
    add_classifier_arguments(c)
    add_device_argument(c)
    c.set_defaults(func=cmd_compare)


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


def _at_least_one(text: str) -> int:
    return _at_least(1, text)


def _at_least_two(text: str) -> int:
    return _at_least(2, text)


def add_classifier_arguments(p: argparse.ArgumentParser) -> None:
    """How the evaluation's classifiers train (`eval`, `compare` and `demo` share these)."""
    p.add_argument(
        "--classifier-steps",
        type=_at_least_one,
        default=800,
        help="steps per training round of each evaluation classifier (default 800)",
    )
    p.add_argument(
        "--classifier-rounds",
        type=_at_least_one,
        default=5,
        help="at most this many rounds: more while held-out accuracy still improves (default 5)",
    )
    p.add_argument(
        "--two-sample-steps",
        type=_at_least_one,
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


COLUMNS = {
    "attribute_preservation_mean": "attribute preservation",
    "attribute_probe_transfer_mean": "attr. probe transfer",
    "domain_probe_accuracy_mean": "domain probe (0.5 best)",
    "retrieval_top1_mean": "retrieval top-1",
    "kid_mean": "KID",
    "two_sample_accuracy_mean": "two-sample (0.5 best)",
}


def _cell(values: list[float | None]) -> str:
    vals = [v for v in values if v is not None]
    if not vals:
        return "—"
    if len(vals) == 1:  # one run has no spread to show
        return f"{vals[0]:.3f}"
    return f"{statistics.mean(vals):.3f} ± {statistics.stdev(vals):.3f}"


def _direction_cell(ms: list[dict[str, Any]], direction: str) -> str:
    """One direction's preservation: mean ± std over seeds, or one run's value with its 95 %
    interval over the test images (metrics written before intervals existed: the value alone)."""
    vals = [(m["summary"].get("attribute_preservation") or {}).get(direction) for m in ms]
    cell = _cell(vals)
    if len(ms) == 1 and vals[0] is not None:
        low_high = (ms[0]["summary"].get("attribute_preservation_interval") or {}).get(direction)
        if low_high:
            cell += f" ({low_high[0]:.3f}–{low_high[1]:.3f})"
    return cell


def preservation_directions(results: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Every direction any run reads attribute preservation in, in first-seen order."""
    seen: dict[str, None] = {}
    for ms in results.values():
        for m in ms:
            seen.update(dict.fromkeys(m["summary"].get("attribute_preservation") or {}))
    return list(seen)


def _tables(head: list[str], rows: list[list[str]]) -> tuple[str, str]:
    """One table as markdown and as HTML (the report's tables)."""
    from latentbridge.eval.report import _table

    md = "| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n"
    md += "".join("| " + " | ".join(r) + " |\n" for r in rows)
    return md, _table(head, rows)


def comparison_table(results: dict[str, list[dict[str, Any]]]) -> tuple[str, str]:
    """Markdown and HTML tables: one row per method, mean ± std over seeds; beside the mean
    preservation, one column per direction (with the test images' 95 % interval where a method
    has one run)."""
    directions = preservation_directions(results)
    names = list(COLUMNS.values())
    head = ["method", "runs", "steps", names[0], *(f"preservation {d}" for d in directions)]
    head += names[1:]
    rows = []
    for method, ms in results.items():
        cells = [_cell([m["summary"][k] for m in ms]) for k in COLUMNS]
        per_direction = [_direction_cell(ms, d) for d in directions]
        steps = str(round(statistics.mean(m["step"] for m in ms)))
        rows.append([method, str(len(ms)), steps, cells[0], *per_direction, *cells[1:]])
    md, table = _tables(head, rows)
    from latentbridge.eval.report import preservation_references

    refs = preservation_references(results)
    if refs:
        line = "Attribute preservation for reference: " + "; ".join(
            f"{name} {value:.3f}" for name, value in refs.items()
        )
        md += f"\n{line}.\n"
        table += f"<p>{line}.</p>"
    return md, table


def cmd_compare(args: argparse.Namespace) -> int:
    from latentbridge import config as C
    from latentbridge import methods
    from latentbridge.eval.evaluate import CLASSIFIER_BLUR
    from latentbridge.train.loop import train
    from latentbridge.train.trainer import Trainer

    names = (
        list(methods.REGISTRY)
        if args.methods == "all"
        else [m.strip() for m in args.methods.split(",") if m.strip()]
    )
    if not names:
        raise UserError("--methods names no method: give e.g. baseline,bridge or all")
    for name in names:
        methods.get(name)
    if args.minutes is not None and args.minutes <= 0 or args.steps is not None and args.steps < 1:
        raise UserError("every method needs a training budget: --minutes > 0 or --steps >= 1")
    overrides = C.parse_set(args.set)
    results: dict[str, list[dict[str, Any]]] = {}
    for name in names:
        for seed in range(args.seeds):
            run = args.out / "runs" / f"{name}-s{seed}"
            cfg = methods.resolve(name, overrides={**overrides, "train.seed": seed})
            budget = {
                "data": str(args.data.resolve()),
                "steps": args.steps,
                "minutes": args.minutes,
                "limit": args.limit,
                **instrument(args),
                "classifier_blur": CLASSIFIER_BLUR,
            }
            trained, m = _finished(run, cfg, budget)
            if m is not None:
                print(f"== {name}, seed {seed}: reusing the finished run {run}", file=sys.stderr)
            else:
                if trained:  # the same training, evaluated another way: evaluate it again
                    print(f"== {name}, seed {seed}: evaluating the trained run {run} again",
                          file=sys.stderr)  # fmt: skip
                else:
                    print(f"== {name}, seed {seed}", file=sys.stderr)
                    if run.exists():
                        shutil.rmtree(run)
                    trainer = Trainer(cfg, data=args.data, run=run, device=args.device)
                    train(trainer, steps=args.steps, minutes=args.minutes)
                m = run_eval(
                    run,
                    args.data,
                    run / "eval",
                    device=args.device,
                    limit=args.limit,
                    **instrument(args),
                )
                (run / "budget.json").write_text(json.dumps(budget))
            results.setdefault(name, []).append(m)
            write_comparison(results, args.out)
    print((args.out / "comparison.md").read_text())
    return 0


TRAINING_BUDGET = ("data", "steps", "minutes")  # the rest of budget.json is how it was evaluated


def _finished(run: Path, cfg: Any, budget: dict[str, Any]) -> tuple[bool, dict[str, Any] | None]:
    """Whether an earlier ``compare`` trained ``run`` with the same resolved config and training
    budget (so an interrupted comparison, or one split across processes, picks up where it
    stopped), and its metrics if it was also evaluated the same way (the limit and the
    classifiers' training, blur included), else None: a run trained alike but evaluated by
    another instrument is evaluated again, not trained again. A ``config.yaml`` that lacks a
    key this version has was written before the key existed, under a default that may have
    changed since: that run is trained again."""
    from latentbridge import config as C

    files = [run / "config.yaml", run / "budget.json", run / "eval" / "metrics.json"]
    if not all(f.is_file() for f in files):
        return False, None
    try:
        saved = C.load_yaml(files[0])
        same = set(C.flatten(saved)) == set(C.valid_keys()) and C.from_dict(saved) == cfg
        old = json.loads(files[1].read_text())
        trained = same and all(old.get(k) == budget[k] for k in TRAINING_BUDGET)
        return trained, json.loads(files[2].read_text()) if trained and old == budget else None
    except (UserError, ValueError):
        return False, None


def _attribute_means(m: dict[str, Any], key: str = "accuracy") -> dict[str, float]:
    """Each attribute's ``key`` (preservation, or chance) in one run's metrics, averaged over
    the directions that read it."""
    per: dict[str, list[float]] = {}
    for d in m.get("directions", {}).values():
        for name, v in ((d.get("attributes") or {}).get(key) or {}).items():
            if name != "mean" and v is not None:
                per.setdefault(name, []).append(v)
    return {name: statistics.mean(vs) for name, vs in per.items()}


def attribute_table(results: dict[str, list[dict[str, Any]]]) -> tuple[str, str]:
    """Markdown and HTML tables of what each method keeps of each attribute: one row per
    method, one column per attribute (its preservation averaged over the run's directions, mean
    ± std over seeds), and chance's row below. Empty strings where no run reads two attributes
    or more: with one, the comparison table's mean says it all."""
    names: dict[str, None] = {}
    for ms in results.values():
        for m in ms:
            names.update(dict.fromkeys(_attribute_means(m)))
    if len(names) < 2:
        return "", ""
    rows = []
    for method, ms in results.items():
        means = [_attribute_means(m) for m in ms]
        rows.append([method, *(_cell([r.get(n) for r in means]) for n in names)])
    chance = next(
        (c for ms in results.values() for m in ms if (c := _attribute_means(m, "chance"))), {}
    )
    if chance:
        rows.append(["chance", *(f"{chance[n]:.3f}" if n in chance else "—" for n in names)])
    return _tables(["method", *names], rows)


def write_comparison(results: dict[str, list[dict[str, Any]]], out: Path) -> None:
    """comparison.md, comparison.html (with a plot) and comparison.json in ``out``; with two
    attributes or more, the md and html end with preservation per attribute."""
    from latentbridge.eval.report import STYLE, comparison_plot

    md, table = comparison_table(results)
    per_md, per_table = attribute_table(results)
    if per_md:
        title = "Preservation per attribute (mean over directions)"
        md += f"\n{title}:\n\n{per_md}"
        table += f"<h2>{title}</h2>{per_table}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "comparison.md").write_text(md)
    (out / "comparison.json").write_text(
        json.dumps({k: [m["summary"] for m in v] for k, v in results.items()}, indent=2)
    )
    plot = comparison_plot(results)
    img = f"<img src='{plot}'>" if plot else ""
    (out / "comparison.html").write_text(
        f"<!doctype html><meta charset='utf-8'><style>{STYLE}</style><h1>Method comparison</h1>{table}{img}"
    )
