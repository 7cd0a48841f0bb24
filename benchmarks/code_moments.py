"""Whether a translation keeps more when its code is first moved to the target domain's moments.

Codes of two domains are told apart by a linear probe (``eval``'s domain probe reads 0.98–1.00
for every run so far), so a decoder DE_b is asked to draw codes unlike any it reconstructs. This
script removes the part of that difference a per-coordinate affine map can: every coordinate of
z = EN_a(x) is standardised with the mean and standard deviation of that coordinate over the
codes of a's *training* images and given those of b's, z' = (z - mu_a) / sigma_a * sigma_b + mu_b,
and x_ab' = DE_b(z'). Per direction it prints the domain probe on the test codes before and after
(0.5: no linear probe tells them apart), on paired test splits how often the nearest of b's codes
is the same subject's (``eval``'s paired retrieval) before and after, and the mean attribute
preservation of the plain and the moved translations, each with its 95 % interval over the test
images and the paired interval of their difference, as ``benchmarks/paired_difference.py``
computes them. Nothing is trained; the run's weights are read as ``latentbridge eval`` reads
them.

    python benchmarks/code_moments.py --run runs/NAME --data /tmp/fd32n --device cpu
"""

from __future__ import annotations

from itertools import permutations

import torch
from torch import Tensor

from _evaluated import add_fit_images, evaluated_run, preservation_change, training_codes
from latentbridge.eval import metrics as M
from latentbridge.eval.evaluate import _batched
from latentbridge.eval.labelled import pairs_by_name


def moments(z: Tensor) -> tuple[Tensor, Tensor]:
    """Per-coordinate mean and standard deviation of codes ``z`` (N, ...) over the N codes."""
    z = z.float()
    return z.mean(0), z.std(0)


def moved(z: Tensor, source: tuple[Tensor, Tensor], target: tuple[Tensor, Tensor]) -> Tensor:
    """``z`` standardised with the ``source`` moments and given the ``target`` ones, coordinate
    by coordinate; a coordinate constant in the source keeps its offset from the source mean."""
    (m_s, s_s), (m_t, s_t) = source, target
    scale = torch.where(s_s > 1e-8, s_t / s_s.clamp_min(1e-8), torch.ones_like(s_s))
    return (z.float() - m_s) * scale + m_t


def main() -> None:
    ev, args = evaluated_run(__doc__, lambda p: add_fit_images(p, "give the moments"))
    gen, dev = ev.pipe.gen, ev.pipe.device
    codes = training_codes(ev, args.fit_images)
    fit = {d: moments(z) for d, z in codes.items()}
    counts = ", ".join(f"{d} {len(z)}" for d, z in codes.items())
    print(f"moments from the codes of the training images ({counts})")
    for a, b in permutations(ev.test, 2):
        if a not in fit or b not in fit:
            continue
        za, zb = ev.z[a].float().cpu(), ev.z[b].float().cpu()
        z_moved = moved(za, fit[a], fit[b])
        before, after = M.domain_probe_accuracy(za, zb), M.domain_probe_accuracy(z_moved, zb)
        line = f"{a}->{b}: domain probe {before:.3f} -> {after:.3f}"
        ia, ib = pairs_by_name(ev.test[a], ev.test[b])
        if ev.attrs is not None and ev.attrs.paired_test and ev.split == "test" and len(ia) > 1:
            r0, r1 = M.retrieval_top1(za[ia], zb[ib]), M.retrieval_top1(z_moved[ia], zb[ib])
            line += f"; paired retrieval top-1 {r0:.3f} -> {r1:.3f} (chance {1 / len(ia):.3f})"
        x_moved = _batched(lambda z, b=b: gen.decode(z, b), dev, z_moved.to(ev.z[a].dtype))
        line += preservation_change(ev, a, b, x_moved)
        print(line)


if __name__ == "__main__":
    main()
