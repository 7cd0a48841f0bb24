"""How much of a translation no mirror image agrees on, and what averaging it away would keep.

For a trained run, on the test split that ``latentbridge eval`` uses, per direction a -> b: x_ab,
the translation of x's mirror image mirrored back (``x_ab_mirror``, what ``loss.mirror``
compares), their mean absolute difference (0: the translator is mirror-symmetric), and the
attribute preservation of each and of their average, read by ``eval``'s own classifiers. A
translation whose average reads better than itself carries detail its mirror image does not
agree on.

    python benchmarks/mirror_average.py --run runs/NAME --data /tmp/fd32n --device cpu
"""

from __future__ import annotations

from itertools import permutations

import torch

from _evaluated import evaluated_run


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
            for kind, out in (
                ("x_ab", y),
                ("x_ab_mirror", y_mirror),
                ("average", (y + y_mirror) / 2),
            ):
                read = ev.clf[b].predict(out).cpu()
                acc = (read == labels).float().mean(0)
                row = " ".join(f"{n} {v:.3f}" for n, v in zip(names, acc.tolist(), strict=True))
                print(f"{a}->{b}: preservation of {kind:11s}: {row} mean {acc.mean():.3f}")


if __name__ == "__main__":
    main()
