"""How far a run's translations follow the source camera's exposure, and what that costs.

For a trained run, on the test split that ``latentbridge eval`` uses, per direction a -> b and
per exposure factor (in linear light, as ``augment.expose`` draws it; the faces benchmark's
photos are exposed by 0.8-1.25): the test images of a re-exposed, translated again, and

- ``response``: how much of the change in the source's mean brightness reaches the
  translation's, ``mean(x_ab') - mean(x_ab)`` over ``mean(x') - mean(x)`` (1: the translation
  follows the exposure fully; 0: it ignores it, as the subject's skin and hair colour do);
- ``changed``: the share of test images whose attribute, read by ``eval``'s classifier of b,
  differs between the two translations (per attribute);
- the preservation of the re-exposed images' translations against the run's own, with the paired
  interval of the difference.

    python benchmarks/exposure_response.py --run runs/NAME --data /tmp/fd32n --device cpu
"""

from __future__ import annotations

import argparse
from itertools import permutations

import torch

from _evaluated import evaluated_run, preservation_change
from latentbridge.augment import expose


def _more(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--factors",
        default="0.8,1.25",
        help="comma-separated exposure factors in linear light (default 0.8,1.25)",
    )


def main() -> None:
    ev, args = evaluated_run(__doc__, _more)
    factors = [float(f) for f in args.factors.split(",")]
    names = ev.attrs.names if ev.attrs is not None else []
    for a, b in permutations(ev.test, 2):
        x = ev.test[a].images
        y = ev.x_ab[(a, b)]
        for g in factors:
            x_g = expose(x, g)
            with torch.no_grad():
                y_g = ev.pipe.translate(x_g, a, b)
            shift = float(x_g.mean() - x.mean())
            moved = float(y_g.mean() - y.mean())
            response = f"{moved / shift:.2f}" if abs(shift) > 1e-6 else "n/a"
            line = (
                f"{a}->{b} exposure x{g:g}: source brightness {shift:+.4f}, translation "
                f"{moved:+.4f}, response {response}, mean |x_ab' - x_ab| "
                f"{float((y_g - y).abs().mean()):.4f}"
            )
            if b in ev.clf and names:
                read, read_g = ev.clf[b].predict(y), ev.clf[b].predict(y_g)
                changed = (read != read_g).float().mean(0).tolist()
                line += "; changed " + " ".join(
                    f"{n} {v:.3f}" for n, v in zip(names, changed, strict=True)
                )
            print(line + preservation_change(ev, a, b, y_g))


if __name__ == "__main__":
    main()
