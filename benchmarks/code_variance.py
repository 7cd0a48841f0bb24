"""How much of a domain's code its labelled attributes explain, and what is left to the rest.

For a trained run, on the test split that ``latentbridge eval`` uses (``eval``'s codes z = EN_d(x)
of the real test images): per labelled domain, the codes are fitted by least squares on the
one-hot classes of all attributes together and of each attribute alone, and the script prints
the share of the code's variance (summed over every code coordinate) that each fit explains,
R^2 = 1 - residual / total. What the attributes leave unexplained — pose, light, background,
texture, a digit's neighbours and strokes — is what the codes mostly hold; a class's mean code
(what ``loss.labels`` aligns across domains) is only the explained part. With C one-hot
columns fitted to N codes, chance alone explains about (C - 1) / (N - 1), printed beside it.

    python benchmarks/code_variance.py --run runs/NAME --data /tmp/fd32n --device cpu
"""

from __future__ import annotations

import torch
from torch import Tensor

from _evaluated import evaluated_run


def explained(z: Tensor, labels: Tensor, num_classes: list[int]) -> float:
    """R^2 of the least-squares fit of ``z`` (N, D) on the one-hot columns of ``labels`` (N, A),
    with an intercept, summed over the D coordinates."""
    z = z.double() - z.double().mean(0)
    cols = [torch.ones(len(z), 1, dtype=z.dtype)]
    for k, c in enumerate(num_classes):
        onehot = torch.nn.functional.one_hot(labels[:, k], c).to(z.dtype)
        cols.append(onehot[:, 1:])  # one class per attribute is the intercept's
    x = torch.cat(cols, 1)
    fit = x @ torch.linalg.lstsq(x, z).solution
    return 1.0 - float(((z - fit) ** 2).sum() / (z**2).sum())


def main() -> None:
    ev, _ = evaluated_run(__doc__)
    if ev.attrs is None:
        raise SystemExit(f"{ev.data} has no attribute labels")
    names, counts = ev.attrs.names, ev.attrs.num_classes
    for d, s in ev.test.items():
        if s.labels is None:
            continue
        z = ev.z[d].flatten(1).float().cpu()
        n = len(z)
        alone = {name: explained(z, s.labels[:, [k]], [counts[k]]) for k, name in enumerate(names)}
        together = explained(z, s.labels, counts)
        chance = (sum(counts) - len(counts)) / (n - 1)
        parts = ", ".join(
            f"{k} {v:.3f} (chance {(c - 1) / (n - 1):.3f})"
            for (k, v), c in zip(alone.items(), counts, strict=True)
        )
        print(
            f"{d}: {n} codes of {z.shape[1]} values; the attributes explain {together:.3f} of "
            f"their variance (chance {chance:.3f}); each alone: {parts}"
        )


if __name__ == "__main__":
    main()
