"""The command line of the scripts that read one trained run on one dataset's test split:
``--run RUN --data DIR [--device D]``, answered by the evaluator ``latentbridge eval`` uses (its
translations, its cached attribute classifiers)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from torch import Tensor

from latentbridge.eval import metrics as M
from latentbridge.eval.evaluate import Evaluator, _batched, evaluator
from latentbridge.eval.labelled import load_split


def evaluated_run(
    doc: str | None, more: Callable[[argparse.ArgumentParser], None] | None = None
) -> tuple[Evaluator, argparse.Namespace]:
    """Parse ``--run``, ``--data`` and ``--device`` (the script's ``doc``'s first line is its
    help), and whatever ``more`` adds to the parser; return the run's evaluator on the data's
    test split and the parsed arguments."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    p.add_argument("--run", type=Path, required=True)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--device", default="auto")
    if more is not None:
        more(p)
    args = p.parse_args()
    return evaluator(args.run, args.data, device=args.device), args


def preservation_change(ev: Evaluator, a: str, b: str, x_new: Tensor) -> str:
    """``"; preservation P (interval) -> Q (interval), difference D (paired 95 % interval)"``:
    the mean attribute preservation of the run's a -> b translations and of ``x_new`` (other
    translations of the same test images of a), as ``benchmarks/paired_difference.py`` reads
    them; empty where b has no classifier or a no labels."""
    labels = ev.test[a].labels
    if b not in ev.clf or labels is None or ev.attrs is None:
        return ""
    names, clf = ev.attrs.names, ev.clf[b]
    plain, new = clf.predict(ev.x_ab[(a, b)]), clf.predict(x_new)
    p_acc = M.attribute_accuracy(plain, labels, names)["mean"]
    n_acc = M.attribute_accuracy(new, labels, names)["mean"]
    p_iv = M.attribute_interval(plain, labels, names)["mean"]
    n_iv = M.attribute_interval(new, labels, names)["mean"]
    diff = M.attribute_interval(new, labels, names, against=plain)["mean"]
    return (
        f"; preservation {p_acc:.3f} ({p_iv[0]:.3f}–{p_iv[1]:.3f}) -> {n_acc:.3f} "
        f"({n_iv[0]:.3f}–{n_iv[1]:.3f}), difference {n_acc - p_acc:+.3f} (paired 95 % "
        f"interval {diff[0]:+.3f} to {diff[1]:+.3f})"
    )


def add_fit_images(p: argparse.ArgumentParser, what: str) -> None:
    """``--fit-images N``: how many training images per domain ``what`` (e.g. "give the
    moments") — the codes :func:`training_codes` reads."""
    p.add_argument(
        "--fit-images",
        type=int,
        default=1000,
        help=f"training images per domain whose codes {what} (default 1000)",
    )


def training_codes(ev: Evaluator, limit: int) -> dict[str, Tensor]:
    """EN_d of the first ``limit`` training images of every domain d of the run, on the CPU."""
    gen, dev = ev.pipe.gen, ev.pipe.device
    train = load_split(ev.data, "train", ev.pipe.size, ev.pipe.domains, limit=limit)
    return {
        d: _batched(lambda x, d=d: gen.encode(x, d), dev, s.images).cpu() for d, s in train.items()
    }
