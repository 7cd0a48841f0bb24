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

import argparse
from itertools import permutations
from pathlib import Path

import torch

from latentbridge.eval import metrics as M
from latentbridge.eval.evaluate import evaluator


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", type=Path, required=True)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--device", default="auto")
    args = p.parse_args()
    ev = evaluator(args.run, args.data, device=args.device)
    siamese = ev.pipe.gen.siamese
    if siamese is None:
        raise SystemExit(f"{args.run} was not trained with loss.travel: it has no siamese network")
    if ev.attrs is None:
        raise SystemExit(f"{args.data} has no attribute labels to probe")
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
