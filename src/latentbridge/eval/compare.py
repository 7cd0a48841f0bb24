"""``latentbridge compare``: every listed method trained on one budget, evaluated alike, and
tabulated (mean ± std over seeds) in comparison.md, .html and .json."""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from latentbridge.errors import UserError
from latentbridge.eval.commands import (
    DATA_HELP,
    LIMIT_HELP,
    add_classifier_arguments,
    at_least_one,
    at_least_two,
    instrument,
    run_eval,
)

if TYPE_CHECKING:
    from latentbridge.config import Config


def add_compare_parser(sub: argparse._SubParsersAction) -> None:
    from latentbridge.cli import add_device_argument, add_set_argument

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
        "--seeds", type=at_least_one, default=1, help="runs per method, seeds 0..K-1 (default 1)"
    )
    c.add_argument(
        "--out",
        type=Path,
        required=True,
        help="output folder: runs/METHOD-sSEED, comparison.md, .html and .json",
    )
    add_set_argument(c, "override a config key for every method (repeatable)")
    c.add_argument("--limit", type=at_least_two, default=500, help=LIMIT_HELP)
    add_classifier_arguments(c)
    add_device_argument(c)
    c.set_defaults(func=cmd_compare)


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
    from latentbridge.eval.report import table_html

    md = "| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n"
    md += "".join("| " + " | ".join(r) + " |\n" for r in rows)
    return md, table_html(head, rows)


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
    from latentbridge.eval.plots import preservation_references

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
            cfg = methods.resolve(name, overrides={**overrides, "train.seed": seed})
            m = _compare_run(
                args, cfg, args.out / "runs" / f"{name}-s{seed}", f"{name}, seed {seed}"
            )
            results.setdefault(name, []).append(m)
            write_comparison(results, args.out)
    print((args.out / "comparison.md").read_text())
    return 0


def _compare_run(args: argparse.Namespace, cfg: Config, run: Path, label: str) -> dict[str, Any]:
    """One method and seed of a comparison: its metrics, reused from an earlier ``compare``
    where it trained and evaluated ``run`` alike (`_finished`), evaluated again where only the
    training matches, else trained afresh and evaluated."""
    from latentbridge.eval.instruments import CLASSIFIER_BLUR
    from latentbridge.train.loop import train
    from latentbridge.train.trainer import Trainer

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
        print(f"== {label}: reusing the finished run {run}", file=sys.stderr)
        return m
    if trained:  # the same training, evaluated another way: evaluate it again
        print(f"== {label}: evaluating the trained run {run} again", file=sys.stderr)
    else:
        print(f"== {label}", file=sys.stderr)
        if run.exists():
            shutil.rmtree(run)
        train(Trainer(cfg, data=args.data, run=run, device=args.device), steps=args.steps,
              minutes=args.minutes)  # fmt: skip
    m = run_eval(
        run, args.data, run / "eval", device=args.device, limit=args.limit, **instrument(args)
    )
    (run / "budget.json").write_text(json.dumps(budget))
    return m


TRAINING_BUDGET = ("data", "steps", "minutes")  # the rest of budget.json is how it was evaluated


def _finished(run: Path, cfg: Config, budget: dict[str, Any]) -> tuple[bool, dict[str, Any] | None]:
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
    from latentbridge.eval.plots import comparison_plot
    from latentbridge.eval.report import STYLE

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
