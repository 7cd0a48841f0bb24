"""What a translation looks like to the target domain: how busy it is, and what a second pass
through the target's auto-encoder does to it.

For every ordered pair of domains of a run, on the test split that ``latentbridge eval`` uses
(its translations, its cached attribute classifiers): the detail of real target images and of
the translations (``losses.detail``, the mean absolute difference of neighbouring pixels: mean,
10th and 90th percentile), and attribute preservation of x_ab and of DE_b(EN_b(x_ab)).

    python benchmarks/second_pass.py --run runs/hD_ref_s0 --data /tmp/fd32n --device cpu
"""

from __future__ import annotations

from torch import Tensor

from _evaluated import evaluated_run
from latentbridge import losses
from latentbridge.eval import metrics as M
from latentbridge.eval.evaluate import _batched


def _spread(t: Tensor) -> str:
    return f"{t.mean():.4f} (p10 {t.quantile(0.1):.4f}, p90 {t.quantile(0.9):.4f})"


def main() -> None:
    ev, _ = evaluated_run(__doc__)
    gen = ev.pipe.gen
    for (a, b), x_ab in ev.x_ab.items():
        if a == b:
            continue
        print(f"{a}->{b}: detail of real {b} {_spread(losses.detail(ev.test[b].images))}")
        print(f"{a}->{b}: detail of x_ab     {_spread(losses.detail(x_ab))}")
        if b not in ev.clf or ev.test[a].labels is None or ev.attrs is None:
            continue
        again = _batched(lambda x, b=b: gen.reconstruct(x, b), ev.pipe.device, x_ab)
        for name, x in (("x_ab", x_ab), ("DE_b(EN_b(x_ab))", again)):
            acc = M.attribute_accuracy(ev.clf[b].predict(x), ev.test[a].labels, ev.attrs.names)
            print(
                f"{a}->{b}: preservation of {name}: "
                + " ".join(f"{k} {v:.3f}" for k, v in acc.items())
            )


if __name__ == "__main__":
    main()
