"""Realism: how far translations lie from the target domain's real images -- KID and FID in a
feature space, and a classifier two-sample test on the images themselves."""

from __future__ import annotations

import torch
from torch import Tensor
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import poly_kernel

from latentbridge.eval.classifier_training import train_attribute_classifier


def _flat64(x: Tensor) -> Tensor:
    return x.detach().flatten(1).double()


class _Identity(torch.nn.Module):
    """Feature "network" for torchmetrics when features are precomputed."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, x: Tensor) -> Tensor:
        return x


def _mmd2_u(x: Tensor, y: Tensor) -> Tensor:
    """Unbiased MMD^2 of index-paired samples x, y (m, F), Gretton et al. (2012), eq. (3):
    ``1/(m(m-1)) sum_{i != j} k(x_i, x_j) + k(y_i, y_j) - k(x_i, y_j) - k(x_j, y_i)``
    with torchmetrics' KID kernel ``k(u, v) = (u.v / F + 1)^3``."""
    m = len(x)
    off = ~torch.eye(m, dtype=torch.bool, device=x.device)
    k_xx, k_yy, k_xy = poly_kernel(x, x), poly_kernel(y, y), poly_kernel(x, y)
    return (k_xx + k_yy - k_xy - k_xy.T)[off].sum() / (m * (m - 1))


def kid(
    real_feats: Tensor,
    fake_feats: Tensor,
    *,
    subset_size: int = 1000,
    subsets: int = 100,
    seed: int = 0,
) -> tuple[float, float]:
    """Kernel Inception Distance (Binkowski et al., 2018) on precomputed features (B, F).

    KID = unbiased MMD^2 with the cubic polynomial kernel of the paper (see `_mmd2_u`), averaged
    over ``subsets`` random subsets of ``m = min(subset_size, B_real, B_fake)`` rows of each set.
    Returns (mean, std over subsets). Unlike torchmetrics' KID, the cross term leaves out the
    i == j pairs and both subsets come from one random stream; the estimate stays unbiased, and a
    set compared with itself scores exactly 0 (torchmetrics gives about -2 k(x, x) / m there).
    Unrelated samples of one distribution scatter around 0 and may go negative. KID depends on
    the feature scale: compare values only in one feature space.
    """
    real, fake = _flat64(real_feats), _flat64(fake_feats).to(real_feats.device)
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"feature widths differ: {real.shape[1]} vs {fake.shape[1]}")
    m = min(subset_size, len(real), len(fake))
    if m < 2 or subsets < 1:
        raise ValueError("KID needs at least 2 samples in each set and subsets >= 1")
    seeds = torch.randint(2**62, (subsets,), generator=torch.Generator().manual_seed(seed))
    scores = []
    for s in seeds.tolist():
        # one stream per subset for both sets: equal-sized sets get the same rows (see docstring)
        i = torch.randperm(len(real), generator=torch.Generator().manual_seed(s))[:m]
        j = torch.randperm(len(fake), generator=torch.Generator().manual_seed(s))[:m]
        scores.append(_mmd2_u(real[i.to(real.device)], fake[j.to(real.device)]))
    out = torch.stack(scores)
    return float(out.mean()), float(out.std(unbiased=False))


def fid(real_feats: Tensor, fake_feats: Tensor) -> float:
    """Frechet distance (Heusel et al., 2017) between Gaussians fitted to features (B, F):
    ``|mu_r - mu_f|^2 + Tr(S_r + S_f - 2 (S_r S_f)^{1/2})``, via torchmetrics in float64.

    Caveat: with B not much larger than F the covariances are poorly estimated and FID is biased
    upwards (two disjoint samples of one distribution score > 0); compare FIDs only at equal B.
    """
    real, fake = _flat64(real_feats), _flat64(fake_feats).to(real_feats.device)
    if real.shape[1] != fake.shape[1] or len(real) < 2 or len(fake) < 2:
        raise ValueError(f"need >= 2 samples of equal width, got {real.shape} and {fake.shape}")
    metric = FrechetInceptionDistance(feature=_Identity(real.shape[1])).to(real.device)
    metric.update(real, real=True)
    metric.update(fake, real=False)
    # sqrt(S_r S_f) by eigenvalues can leave round-off of either sign: report it, don't hide it.
    return float(metric.compute())


def two_sample_accuracy(
    real: Tensor,
    fake: Tensor,
    *,
    seed: int = 0,
    steps: int = 300,
    batch_size: int = 64,
    width: int = 16,
) -> float:
    """Classifier two-sample test (Lopez-Paz & Oquab, 2017) on images (B, 3, H, W) in [-1, 1].

    Both sets are cut to n = min(B_real, B_fake) (so chance is exactly 0.5), shuffled, and split
    in halves; a small CNN (`AttributeClassifier`, depth 3, one 2-way head, no augmentation) is
    trained for ``steps`` minibatches to tell the training halves apart, and its accuracy on the
    held-out halves is returned. 0.5 = indistinguishable *to this classifier at this budget*
    (a lower bound on distinguishability), 1.0 = always told apart.
    """
    if real.ndim != 4 or real.shape[1:] != fake.shape[1:]:
        raise ValueError(f"real {tuple(real.shape)} and fake {tuple(fake.shape)}: same (C, H, W)")
    n = min(len(real), len(fake))
    if n < 4:
        raise ValueError("two_sample_accuracy needs at least 4 images in each set")
    gen = torch.Generator().manual_seed(seed)
    fake = fake.to(real.device)
    ri = torch.randperm(len(real), generator=gen)[:n].to(real.device)
    fi = torch.randperm(len(fake), generator=gen)[:n].to(real.device)
    half = n // 2
    x_train = torch.cat([real[ri[:half]], fake[fi[:half]]])
    x_test = torch.cat([real[ri[half:]], fake[fi[half:]]])
    y_train = torch.arange(2, device=real.device).repeat_interleave(half)[:, None]
    y_test = torch.arange(2, device=real.device).repeat_interleave(n - half)
    clf = train_attribute_classifier(
        x_train, y_train, [2], steps=steps, batch_size=batch_size, seed=seed, augment=False,
        width=width, depth=3,
    )  # fmt: skip
    return float((clf.predict(x_test)[:, 0] == y_test).double().mean())
