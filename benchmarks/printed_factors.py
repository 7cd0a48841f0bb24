"""Which of the printed digits' own variation costs the printed->MNIST translation its digit.

The digits benchmark's printed digits vary in much more than the digit: ink and background
colour (either may be the lighter), a textured background (gradient, blotches, grain), cut-off
neighbouring digits at both sides, and the digit's position, rotation and blur. This script
renders printed digits with the benchmark's own renderer (``latentbridge.data.digits``, the
same seed for every variant, so the same digits in the same fonts and sizes): once as the
benchmark renders them, once with each kind of variation held fixed — every other draw
unchanged; the colours three ways: white on black as MNIST, black on white, or as drawn but
always the lighter as ink — and last with all held at once (white on black, flat, alone,
centred and upright), and translates every set into MNIST with a trained run. Per variant it prints the MNIST classifier's digit preservation with its 95 % interval,
the difference from the digits as rendered with its paired 95 % interval, what the MNIST
classifier reads off the printed digits untranslated (white on black, alone and upright, they
are closer to MNIST than any translation needs to be), and what the printed classifier reads
off them. The classifiers and weights are those ``latentbridge eval`` uses.

    python benchmarks/printed_factors.py --run runs/NAME --data /tmp/dg32 --device cpu
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial

import numpy as np
import torch

import latentbridge.data.digits as digits
from _evaluated import evaluated_run
from _factors import Patch, add_render_arguments, combined, patched, read_variants


def _white_on_black(draw: Callable) -> Callable:
    """White ink on a black background, as MNIST's."""

    def colours(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        draw(rng)
        return np.zeros(3), np.full(3, 255.0)

    return colours


def _black_on_white(draw: Callable) -> Callable:
    """Black ink on a white background: MNIST's contrast, the other polarity."""

    def colours(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        draw(rng)
        return np.full(3, 255.0), np.zeros(3)

    return colours


_LUMA = np.array([0.299, 0.587, 0.114])  # Rec. 601, as the renderer weighs its colours


def _light_ink(draw: Callable) -> Callable:
    """The colours as drawn, swapped where the ink is the darker: always light on dark."""

    def colours(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        bg, ink = draw(rng)
        return (bg, ink) if ink @ _LUMA > bg @ _LUMA else (ink, bg)

    return colours


def _flat_background(draw: Callable) -> Callable:
    """The background one colour: no gradient, blotches or grain."""

    def background(rng: np.random.Generator, size: int, bg: np.ndarray) -> np.ndarray:
        img = draw(rng, size, bg)
        return np.broadcast_to(np.asarray(bg, dtype=np.float64), img.shape).copy()

    return background


def _keyword(**held: bool) -> Callable[[Callable], Callable]:
    """A wrapper of ``digits._ink_mask`` that passes it ``held`` (its own switches)."""
    return lambda draw: partial(draw, **held)


VARIANTS: dict[str, Patch] = {
    "as rendered": {},
    "white on black": {"_colours": _white_on_black},
    "black on white": {"_colours": _black_on_white},
    "light ink": {"_colours": _light_ink},
    "flat background": {"_background": _flat_background},
    "no neighbours": {"_ink_mask": _keyword(neighbours=False)},
    "centred, upright": {"_ink_mask": _keyword(jitter=False)},
}


HELD_TOGETHER = ("white on black", "flat background", "no neighbours", "centred, upright")


def render(size: int, seed: int, n: int, patch: Patch) -> tuple[np.ndarray, torch.Tensor]:
    """``n`` printed digits (uint8, (n, size, size, 3)) with ``patch`` applied, and their digits
    as (n, 1) labels."""
    with patched(digits, patch):
        images, labels = digits.render_printed(size, np.random.default_rng(seed), n)
    return images, torch.from_numpy(labels)[:, None]


def _more(p: argparse.ArgumentParser) -> None:
    add_render_arguments(p)
    p.add_argument("-n", type=int, default=500, help="printed digits per variant (default 500)")


def main() -> None:
    ev, args = evaluated_run(__doc__, _more)
    if ev.attrs is None or ev.attrs.names != ["digit"] or not {"printed", "mnist"} <= set(ev.clf):
        raise SystemExit(f"{ev.data} is not a digits benchmark with printed and MNIST classifiers")
    print(f"{args.n} printed digits per variant, renderer seed {args.seed}")
    read_variants(
        ev,
        "printed",
        "mnist",
        {**VARIANTS, "all held": combined(*(VARIANTS[k] for k in HELD_TOGETHER))},
        lambda patch: render(ev.pipe.size, args.seed, args.n, patch),
        args.grid,
    )


if __name__ == "__main__":
    main()
