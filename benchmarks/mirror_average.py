"""How much of a translation no mirror image agrees on, and what averaging it away would keep.

For a trained run, on the test split that ``latentbridge eval`` uses, per direction a -> b: x_ab,
the translation of x's mirror image mirrored back (``x_ab_mirror``, what ``loss.mirror``
compares), their mean absolute difference (0: the translator is mirror-symmetric), and the
attribute preservation of each and of their average, read by ``eval``'s own classifiers. A
translation whose average reads better than itself carries detail its mirror image does not
agree on. Last, the average taken before the decoder instead: ``code_average`` =
DE_b((EN_a(x) + flip(EN_a(flip(x)))) / 2), one translation of a mirror-symmetric code.

    python benchmarks/mirror_average.py --run runs/NAME --data /tmp/fd32n --device cpu
"""

from __future__ import annotations

from itertools import permutations

import torch
from torch import Tensor

from _evaluated import evaluated_run
from latentbridge.eval.evaluate import Evaluator, _batched


def code_average(ev: Evaluator, x: Tensor, a: str, b: str) -> Tensor | None:
    """DE_b of the mean of EN_a(x) and the code of x's mirror image mirrored back, with the
    evaluator's networks and precision, on the CPU; None for a vector code (no mirror image)."""
    pipe, gen = ev.pipe, ev.pipe.gen
    if pipe.cfg.model.latent != "spatial":
        return None

    def one(xx: Tensor) -> Tensor:
        with pipe.autocast():
            z = (gen.encode(xx, a) + gen.encode(xx.flip(-1), a).flip(-1)) / 2
            return gen.decode(z, b).float()

    with torch.no_grad():
        return _batched(one, pipe.device, x)


def main() -> None:
    ev, _ = evaluated_run(__doc__)
    if ev.attrs is None:
        raise SystemExit(f"{ev.data} has no attribute labels to read")
    names = ev.attrs.names
    for a, b in permutations(ev.test, 2):
        labels = ev.test[a].labels
        if labels is None or b not in ev.clf:
            continue
        x = ev.test[a].images
        with torch.no_grad():
            y = ev.x_ab[(a, b)]  # the translations eval reads
            y_mirror = ev.pipe.translate(x.flip(-1), a, b).flip(-1)
            gap = float((y - y_mirror).abs().mean())
            print(f"{a}->{b}: mean |x_ab - x_ab_mirror| {gap:.4f} (images in [-1, 1])")
            kinds = [("x_ab", y), ("x_ab_mirror", y_mirror), ("average", (y + y_mirror) / 2)]
            from_codes = code_average(ev, x, a, b)
            if from_codes is not None:
                kinds.append(("code_average", from_codes))
            for kind, out in kinds:
                read = ev.clf[b].predict(out).cpu()
                acc = (read == labels).float().mean(0)
                row = " ".join(f"{n} {v:.3f}" for n, v in zip(names, acc.tolist(), strict=True))
                print(f"{a}->{b}: preservation of {kind:12s}: {row} mean {acc.mean():.3f}")


if __name__ == "__main__":
    main()
