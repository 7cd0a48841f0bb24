"""Whether a translation keeps more when each place of its code is first replaced by the nearest
code vector the target domain's own images have there.

A decoder DE_b reconstructs b's codes and is asked to draw a's, which a linear probe tells apart
(``eval``'s domain probe reads 0.98-1.00 for every run so far); moving them to b's moments
coordinate by coordinate changed photo->cartoon by -0.013 to +0.014
(``benchmarks/code_moments.py``). This script goes further: the code z = EN_a(x) is spatial
(C, h, w), and each of its h * w vectors is replaced by the mean of the ``--k`` nearest (L2)
vectors among those the codes of b's *training* images have at the same place (``--anywhere``:
at any place), so DE_b draws only vectors it has reconstructed. Per direction it prints the
domain probe on the test codes before and after, and the mean attribute preservation of the
plain and the snapped translations with their 95 % intervals and the paired interval of the
difference, as ``benchmarks/code_moments.py`` does. Nothing is trained.

    python benchmarks/code_snap.py --run runs/NAME --data /tmp/fd32n --device cpu [--k 1]
"""

from __future__ import annotations

import argparse
from itertools import permutations

import torch
from torch import Tensor

from _evaluated import add_fit_images, evaluated_run, preservation_change, training_codes
from latentbridge.eval import metrics as M
from latentbridge.eval.evaluate import _batched

QUERY_CHUNK = 1024  # code vectors compared with the bank at once


def nearest_mean(queries: Tensor, bank: Tensor, k: int) -> Tensor:
    """For each row of ``queries`` (Q, C), the mean of its ``k`` nearest rows of ``bank`` (B, C)
    in L2 distance."""
    out = []
    for q in queries.split(QUERY_CHUNK):
        idx = torch.cdist(q, bank).topk(min(k, len(bank)), largest=False).indices
        out.append(bank[idx].mean(dim=1))
    return torch.cat(out) if out else queries.clone()


def snapped(z: Tensor, bank: Tensor, k: int = 1, anywhere: bool = False) -> Tensor:
    """``z`` (N, C, h, w) with every place's vector replaced by the mean of its ``k`` nearest
    among ``bank`` (M, C, h, w): those at the same place, or at any place with ``anywhere``."""
    if z.dim() != 4:
        raise SystemExit("code_snap.py needs a spatial code (model.latent=spatial)")
    n, c, h, w = z.shape
    places = z.float().permute(2, 3, 0, 1).reshape(h * w, n, c)  # (places, N, C)
    known = bank.float().permute(2, 3, 0, 1).reshape(h * w, len(bank), c)
    if anywhere:
        flat = nearest_mean(places.reshape(-1, c), known.reshape(-1, c), k)
        out = flat.reshape(h * w, n, c)
    else:
        out = torch.stack([nearest_mean(q, b, k) for q, b in zip(places, known)])
    return out.reshape(h, w, n, c).permute(2, 3, 0, 1).contiguous()


def _more(p: argparse.ArgumentParser) -> None:
    p.add_argument("--k", type=int, default=1, help="nearest vectors averaged (default 1)")
    p.add_argument("--anywhere", action="store_true", help="nearest at any place of the code")
    add_fit_images(p, "are the bank")


def main() -> None:
    ev, args = evaluated_run(__doc__, _more)
    gen, dev = ev.pipe.gen, ev.pipe.device
    banks = training_codes(ev, args.fit_images)
    where = "any place" if args.anywhere else "the same place"
    print(f"banks: the codes of {args.fit_images} training images per domain; k={args.k}, {where}")
    for a, b in permutations(ev.test, 2):
        if a not in banks or b not in banks:
            continue
        za, zb = ev.z[a].float().cpu(), ev.z[b].float().cpu()
        z_snap = snapped(za, banks[b], args.k, args.anywhere)
        before, after = M.domain_probe_accuracy(za, zb), M.domain_probe_accuracy(z_snap, zb)
        line = f"{a}->{b}: domain probe {before:.3f} -> {after:.3f}"
        x_snap = _batched(lambda z, b=b: gen.decode(z, b), dev, z_snap.to(ev.z[a].dtype))
        print(line + preservation_change(ev, a, b, x_snap))


if __name__ == "__main__":
    main()
