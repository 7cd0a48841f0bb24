"""What the scripts that hold one kind of a benchmark's variation fixed share: patching a
renderer's functions for one variant, combining variants, and reading each variant's
translations against the first (``photo_factors.py``, ``printed_factors.py``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import numpy as np
from torch import Tensor

from latentbridge.data.stream import to_tensor
from latentbridge.eval import metrics as M
from latentbridge.eval.evaluate import Evaluator, _batched
from latentbridge.imaging import grid, save_png

Patch = dict[str, Callable[[Callable], Callable]]  # function name -> wrapper of the original


@contextmanager
def patched(module: ModuleType, patch: Patch) -> Iterator[None]:
    """``module``'s named functions replaced by their ``patch`` wrappers while the block runs,
    and restored after it, also after an error."""
    saved = {name: getattr(module, name) for name in patch}
    try:
        for name, wrap in patch.items():
            setattr(module, name, wrap(saved[name]))
        yield
    finally:
        for name, fn in saved.items():
            setattr(module, name, fn)


def combined(*patches: Patch) -> Patch:
    """One patch that applies each of ``patches`` in turn (wrappers of one function nest)."""
    out: Patch = {}
    for p in patches:
        for name, wrap in p.items():
            inner = out.get(name)
            out[name] = wrap if inner is None else (lambda f, w=wrap, i=inner: w(i(f)))
    return out


def with_all_held(variants: dict[str, Patch]) -> dict[str, Patch]:
    """``variants`` and, last, "all held": every one of them at once."""
    return {**variants, "all held": combined(*(p for p in variants.values() if p))}


def add_render_arguments(p: argparse.ArgumentParser) -> None:
    """The factor scripts' common options: the renderer's seed and the grid's path."""
    p.add_argument("--seed", type=int, default=1, help="the renderer's seed (default 1)")
    p.add_argument(
        "--grid", type=Path, help="write a PNG of each variant's sources and translations"
    )


def translated(
    ev: Evaluator, source: str, target: str, images: np.ndarray
) -> tuple[Tensor, Tensor]:
    """uint8 ``images`` (N, H, W, 3) of ``source`` as a tensor, and the run's translations of
    them into ``target`` (the weights ``eval`` reads)."""
    gen, dev = ev.pipe.gen, ev.pipe.device
    x = to_tensor(images)
    return x, _batched(lambda v: gen.decode(gen.encode(v, source), target), dev, x)


def read_variants(
    ev: Evaluator,
    source: str,
    target: str,
    variants: dict[str, Patch],
    render: Callable[[Patch], tuple[np.ndarray, Tensor]],
    grid_png: Path | None = None,
    columns: int = 12,
) -> None:
    """For every variant: ``render(patch)`` gives uint8 source images and their labels (N, A);
    print the target classifier's attribute preservation on their translations into
    ``target`` (with its 95 % interval, per attribute, and — from the second variant on — the
    difference from the first with its paired interval), what the target classifier reads off
    the sources untranslated, and what the source classifier reads off them. With
    ``grid_png``, write a grid there: per variant a row of its first ``columns`` sources and a
    row of their translations."""
    assert ev.attrs is not None, "the callers check for attribute labels first"
    names = ev.attrs.names
    first: Tensor | None = None
    base = 0.0
    rows: list[Tensor] = []
    for name, patch in variants.items():
        images, labels = render(patch)
        x, x_ab = translated(ev, source, target, images)
        read = ev.clf[target].predict(x_ab)
        acc = M.attribute_accuracy(read, labels, names)
        low, high = M.attribute_interval(read, labels, names)["mean"]
        parts = ", ".join(f"{n} {acc[n]:.2f}" for n in names) if len(names) > 1 else ""
        line = f"{name:>16}: {source}->{target} {acc['mean']:.3f} ({low:.3f}–{high:.3f})"
        line += f"; {parts}" if parts else ""
        if first is None:
            first, base = read, acc["mean"]
        else:
            d_low, d_high = M.attribute_interval(read, labels, names, against=first)["mean"]
            line += f"; {acc['mean'] - base:+.3f} ({d_low:+.3f} to {d_high:+.3f})"
        copied = M.attribute_accuracy(ev.clf[target].predict(x), labels, names)["mean"]
        own = M.attribute_accuracy(ev.clf[source].predict(x), labels, names)["mean"]
        print(f"{line}; untranslated {copied:.3f}; the {source} classifier on them {own:.3f}")
        rows += [x[:columns], x_ab[:columns].float()]
    if grid_png is not None:
        sheet = grid(rows)  # drawn twice as large, pixel for pixel: 32-px images stay legible
        save_png(sheet.repeat(2, axis=0).repeat(2, axis=1), grid_png)
        print(
            f"grid (per variant: sources, then their translations, in the order above): {grid_png}"
        )
