"""The command line of the scripts that read one trained run on one dataset's test split:
``--run RUN --data DIR [--device D]``, answered by the evaluator ``latentbridge eval`` uses (its
translations, its cached attribute classifiers)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from latentbridge.eval.evaluate import Evaluator, evaluator


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
