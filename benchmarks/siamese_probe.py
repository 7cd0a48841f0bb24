"""What TraVeLGAN's siamese network S (``loss.travel``) has learnt to tell apart.

For a run trained with ``loss.travel``, on the test split that ``latentbridge eval`` uses: S
embeds the real images of every domain, and a linear probe per attribute is fitted on one
domain's embeddings (``eval.metrics.attribute_probe_transfer``, the same probe as the code's
attribute probe): ``within`` is its held-out accuracy in that domain (is the attribute in S at
all?), ``transfer`` its accuracy on the other domain's embeddings (in the same place?), beside
the majority-class rate. The transformation vectors can only ask a translation to keep what S
separates.

    python benchmarks/siamese_probe.py --run runs/hM_tv1_s0 --data /tmp/fd32n --device cpu
"""

from __future__ import annotations

from itertools import permutations

import torch

from _evaluated import evaluated_run
from latentbridge.eval import metrics as M


def main() -> None:
    ev, _ = evaluated_run(__doc__)
    siamese = ev.pipe.gen.siamese
    if siamese is None:
        raise SystemExit("this run was not trained with loss.travel: it has no siamese network")
    if ev.attrs is None:
        raise SystemExit(f"{ev.data} has no attribute labels to probe")
    with torch.no_grad():
        emb = {d: siamese(s.images.to(ev.pipe.device)).float().cpu() for d, s in ev.test.items()}
    for a, b in permutations(emb, 2):
        la, lb = ev.test[a].labels, ev.test[b].labels
        if la is None or lb is None:
            continue
        res = M.attribute_probe_transfer(emb[a], la, emb[b], lb, ev.attrs.names)
        for kind in ("within", "transfer", "chance"):
            row = " ".join(f"{k} {v:.3f}" for k, v in res[kind].items())
            print(f"probe fitted on S({a}), {kind:8s}: {row}")


if __name__ == "__main__":
    main()
