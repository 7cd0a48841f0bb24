"""Metric functions of the evaluation: tensors in, plain Python numbers out.

Nothing here knows the translation model. Contracts: images are float (B, 3, H, W) in [-1, 1];
latents are (B, ...) and are flattened to (B, D); labels are LongTensor (B, A) of class ids (or (B,)
for a single attribute where stated). Every function is deterministic given ``seed``, works on any
device (computations follow the input's device; sklearn probes run on CPU copies), and can fail:
none clips or rescales its result towards a "good" value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import Tensor
from torchmetrics.functional.image import structural_similarity_index_measure
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import poly_kernel

from latentbridge.eval.classifier import train_attribute_classifier

_PROBE_MAX_ITER = 2000  # lbfgs iterations for the linear probes; enough for standardised inputs
_SSIM_KERNEL = 11  # Gaussian window of Wang et al. (2004): 11x11, sigma 1.5
_SSIM_SIGMA = 1.5


# ----------------------------------------------------------------------------- attributes
def attribute_accuracy(pred: Tensor, target: Tensor, names: Sequence[str]) -> dict[str, float]:
    """Per-attribute accuracy ``mean_i [pred[i, k] == target[i, k]]`` for each attribute k (named
    ``names[k]``), plus ``"mean"``: the unweighted mean over attributes. pred/target: (B, A)."""
    if pred.shape != target.shape or pred.ndim != 2 or pred.shape[1] != len(names):
        raise ValueError(
            f"pred {tuple(pred.shape)} and target {tuple(target.shape)} must both be (B, {len(names)})"
        )
    if len(pred) == 0:
        raise ValueError("attribute_accuracy needs at least one sample")
    per = (pred.to(target.device) == target).double().mean(dim=0).tolist()
    out = dict(zip(names, per, strict=True))
    out["mean"] = float(np.mean(per))
    return out


INTERVAL_LEVEL = 0.95  # coverage of `attribute_interval`'s bootstrap intervals
INTERVAL_RESAMPLES = 1000  # bootstrap resamples of the test images
_BOOTSTRAP_ELEMENTS = 2**22  # values gathered per chunk of resamples (32 MiB of float64)


def attribute_interval(
    pred: Tensor,
    target: Tensor,
    names: Sequence[str],
    *,
    against: Tensor | None = None,
    level: float = INTERVAL_LEVEL,
    resamples: int = INTERVAL_RESAMPLES,
    seed: int = 0,
) -> dict[str, list[float]]:
    """How far `attribute_accuracy` could move with another draw of as many test images: a
    percentile bootstrap interval ``[low, high]`` of coverage ``level`` per attribute and for
    ``"mean"`` (Efron & Tibshirani, 1993). Each of ``resamples`` resamples draws the samples (rows)
    with replacement, all attributes of a sample together, so the mean's interval counts how the
    attributes of one subject are kept or lost together. It measures the test set's finite size
    only: a run trained with another seed varies beyond it. Deterministic given ``seed``.

    ``against``: another reading of the same images; the interval is then that of ``accuracy(pred)
    - accuracy(against)``, a paired bootstrap (every resample draws the same images for both).
    Images both get right or both get wrong do not move the difference, so it is known better
    than the two intervals side by side suggest; one that holds 0 says these test images cannot
    tell the two readings apart."""
    hits = _hits(pred, target, names)
    if against is not None:
        hits = hits - _hits(against, target, names)
    return _bootstrap(hits, names, level=level, resamples=resamples, seed=seed)


def _hits(pred: Tensor, target: Tensor, names: Sequence[str]) -> Tensor:
    """(B, A) float64 on the CPU: 1 where ``pred`` reads ``target``'s class."""
    attribute_accuracy(pred, target, names)  # the same shape checks
    return (pred.to(target.device) == target).double().cpu()


def _bootstrap(
    values: Tensor, names: Sequence[str], *, level: float, resamples: int, seed: int
) -> dict[str, list[float]]:
    """Percentile bootstrap interval of the column means of ``values`` (B, A) and of their mean,
    resampling rows."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    gen = torch.Generator().manual_seed(seed)
    n, a = values.shape
    chunk = max(1, _BOOTSTRAP_ELEMENTS // max(n * a, 1))  # resamples gathered at once
    parts = []
    for start in range(0, resamples, chunk):
        rows = torch.randint(n, (min(chunk, resamples - start), n), generator=gen)
        parts.append(values[rows].mean(dim=1))  # (r, A): each resample's mean per column
    means = torch.cat(parts)
    means = torch.cat([means, means.mean(dim=1, keepdim=True)], dim=1)
    q = torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=means.dtype)
    low, high = torch.quantile(means, q, dim=0).tolist()
    return {name: [lo, hi] for name, lo, hi in zip([*names, "mean"], low, high, strict=True)}


def attribute_confusion(
    pred: Tensor, target: Tensor, num_classes: Sequence[int], names: Sequence[str]
) -> dict[str, list[list[int]]]:
    """Per attribute k (named ``names[k]``), the counts ``[i][j]`` of samples labelled i that
    were read as j (rows: the source's class; columns: what the classifier reads on the
    translation). Says *how* an attribute is lost: every row in one column is a translation that
    always draws that class; equal rows, one that draws it at random; the diagonal, kept."""
    if pred.shape != target.shape or pred.ndim != 2 or pred.shape[1] != len(names):
        raise ValueError(
            f"pred {tuple(pred.shape)} and target {tuple(target.shape)} must both be (B, {len(names)})"
        )
    if len(num_classes) != len(names):
        raise ValueError(f"{len(num_classes)} class counts for {len(names)} attributes")
    out = {}
    for k, (name, n) in enumerate(zip(names, num_classes, strict=True)):
        p, t = pred[:, k].long().cpu(), target[:, k].long().cpu()
        if len(p) and (min(p.min(), t.min()) < 0 or max(p.max(), t.max()) >= n):
            raise ValueError(f"attribute {name!r}: class ids outside 0..{n - 1}")
        counts = torch.bincount(t * n + p, minlength=n * n).view(n, n)
        out[name] = counts.tolist()
    return out


def attribute_accuracy_by_group(
    pred: Tensor, target: Tensor, num_classes: Sequence[int], names: Sequence[str]
) -> dict[str, dict[str, list[float | None]]]:
    """Who loses what: ``out[attr][other][c]`` is attribute ``attr``'s accuracy over the samples
    whose *source* label of attribute ``other`` is class c (None where no sample has it), for
    every ordered pair of two different attributes. A translation that keeps glasses for pale
    faces and draws them on dark ones shows as a row falling along the skin tones, which the
    overall accuracy and the confusion counts both average away. Empty with one attribute."""
    hits = _hits(pred, target, names)
    if len(num_classes) != len(names):
        raise ValueError(f"{len(num_classes)} class counts for {len(names)} attributes")
    out: dict[str, dict[str, list[float | None]]] = {}
    for k, name in enumerate(names):
        by: dict[str, list[float | None]] = {}
        for j, (other, n) in enumerate(zip(names, num_classes, strict=True)):
            if j == k:
                continue
            group = target[:, j].long().cpu()
            by[other] = [
                float(hits[group == c, k].mean()) if bool((group == c).any()) else None
                for c in range(n)
            ]
        if by:
            out[name] = by
    return out


def chance_level(
    target_train_labels: Tensor,
    num_classes: Sequence[int],
    names: Sequence[str] | None = None,
    *,
    eval_labels: Tensor | None = None,
) -> dict[str, float]:
    """Accuracy of the majority-class guess, per attribute and ``"mean"``.

    For attribute k, the guess is the most frequent class in ``target_train_labels[:, k]``; its
    score is that class's rate in ``eval_labels`` if given (what a constant predictor fitted on
    the training labels scores on the evaluation set), else in the training labels themselves.
    Keys are ``names`` (default ``"attr0"``, ``"attr1"``, ...).
    """
    names = list(names) if names is not None else [f"attr{k}" for k in range(len(num_classes))]
    train = target_train_labels.cpu()
    evals = train if eval_labels is None else eval_labels.cpu()
    if train.ndim != 2 or train.shape[1] != len(num_classes) or evals.shape[1:] != train.shape[1:]:
        raise ValueError(f"labels must be (B, {len(num_classes)}), got {tuple(train.shape)}")
    out: dict[str, float] = {}
    for k, (name, n) in enumerate(zip(names, num_classes, strict=True)):
        majority = int(torch.bincount(train[:, k], minlength=n).argmax())
        out[name] = float((evals[:, k] == majority).double().mean())
    out["mean"] = float(np.mean(list(out.values())))
    return out


# ----------------------------------------------------------------------------- distributions
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


# ----------------------------------------------------------------------------- paired images
def paired_l1(a: Tensor, b: Tensor) -> float:
    """Mean absolute pixel error between paired images (B, C, H, W) in [-1, 1], expressed on the
    [0, 1] scale: ``mean |a - b| / 2``. 0 = identical, 1 = every pixel at opposite extremes."""
    if a.shape != b.shape:
        raise ValueError(
            f"paired images must have equal shapes: {tuple(a.shape)} vs {tuple(b.shape)}"
        )
    return float((a.detach().double() - b.detach().to(a.device).double()).abs().mean() / 2)


def ssim(a: Tensor, b: Tensor) -> float:
    """Mean SSIM (Wang et al., 2004) of paired images (B, C, H, W) in [-1, 1], mapped to [0, 1]
    (data range 1), with an 11x11 Gaussian window of sigma 1.5 (shrunk to the largest odd size
    that fits images smaller than 11 px); torchmetrics' implementation. 1 = identical."""
    if a.shape != b.shape or a.ndim != 4:
        raise ValueError(
            f"paired images must be equal (B, C, H, W): {tuple(a.shape)} vs {tuple(b.shape)}"
        )
    side = min(a.shape[-2:])
    kernel = min(_SSIM_KERNEL, side if side % 2 else side - 1)
    x, y = (a.detach().double() + 1) / 2, (b.detach().to(a.device).double() + 1) / 2
    value = structural_similarity_index_measure(
        x, y, gaussian_kernel=True, sigma=_SSIM_SIGMA, kernel_size=kernel, data_range=1.0
    )
    return float(value)


# ----------------------------------------------------------------------------- latents
def _np_latents(z: Tensor) -> np.ndarray:
    return z.detach().flatten(1).double().cpu().numpy()


def _np_labels(y: Tensor) -> np.ndarray:
    y = y.detach().cpu()
    return (y if y.ndim == 2 else y[:, None]).numpy()


def _fit_probe(x: np.ndarray, y: np.ndarray, seed: int) -> Pipeline | DummyClassifier:
    """Standardise + multinomial logistic regression; a constant predictor when ``y`` has a
    single class (logistic regression is undefined there)."""
    if len(np.unique(y)) < 2:
        return DummyClassifier(strategy="most_frequent").fit(x, y)
    lr = LogisticRegression(max_iter=_PROBE_MAX_ITER, random_state=seed)
    return make_pipeline(StandardScaler(), lr).fit(x, y)


def _probe_score(probe: Pipeline | DummyClassifier, x: np.ndarray, y: np.ndarray) -> float:
    return float((probe.predict(x) == y).mean())


def _split(n: int, seed: int, test_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    n_test = int(round(n * test_fraction))
    if not 0 < n_test < n:
        raise ValueError(f"cannot split {n} samples with test_fraction={test_fraction}")
    perm = np.random.default_rng(seed).permutation(n)
    return perm[n_test:], perm[:n_test]


def linear_probe_accuracy(
    z_train: Tensor, y_train: Tensor, z_test: Tensor, y_test: Tensor, *, seed: int = 0
) -> float:
    """Accuracy on (z_test, y_test) of a linear probe (standardised features, multinomial logistic
    regression, sklearn) fitted on (z_train, y_train). z: (B, ...) flattened; y: (B,) class ids."""
    y_tr, y_te = _np_labels(y_train)[:, 0], _np_labels(y_test)[:, 0]
    probe = _fit_probe(_np_latents(z_train), y_tr, seed)
    return _probe_score(probe, _np_latents(z_test), y_te)


def domain_probe_accuracy(
    z_a: Tensor, z_b: Tensor, *, seed: int = 0, test_fraction: float = 0.5
) -> float:
    """Held-out accuracy of a linear probe guessing the domain (a or b) of a latent -- the
    two-sample test of Lopez-Paz & Oquab (2017) on latents. Both sets are cut to the same size
    (chance exactly 0.5) and split train/test. 0.5 = aligned latents, 1.0 = separable domains."""
    za, zb = _np_latents(z_a), _np_latents(z_b)
    rng = np.random.default_rng(seed)
    n = min(len(za), len(zb))
    za, zb = za[rng.permutation(len(za))[:n]], zb[rng.permutation(len(zb))[:n]]
    tr, te = _split(n, seed, test_fraction)
    x_tr, x_te = np.concatenate([za[tr], zb[tr]]), np.concatenate([za[te], zb[te]])
    y_tr = np.repeat([0, 1], len(tr))
    y_te = np.repeat([0, 1], len(te))
    return _probe_score(_fit_probe(x_tr, y_tr, seed), x_te, y_te)


def attribute_probe_transfer(
    z_a: Tensor,
    y_a: Tensor,
    z_b: Tensor,
    y_b: Tensor,
    names: Sequence[str],
    *,
    seed: int = 0,
    test_fraction: float = 0.3,
) -> dict[str, dict[str, float]]:
    """Does an attribute mean the same latent direction in both domains?

    For each attribute k, a linear probe is fitted on a ``1 - test_fraction`` split of
    (z_a, y_a[:, k]) and scored on (i) the held-out z_a (``"within"``: is the attribute linearly
    in z_a at all?) and (ii) all of z_b (``"transfer"``: is it in the *same* place in z_b?).
    ``"chance"`` is the rate in y_b of the probe split's majority class. Each inner dict maps
    ``names`` and ``"mean"`` to an accuracy. y: (B, A) or (B,) class ids; z: (B, ...).
    """
    za, zb = _np_latents(z_a), _np_latents(z_b)
    ya, yb = _np_labels(y_a), _np_labels(y_b)
    if ya.shape[1] != len(names) or yb.shape[1] != len(names):
        raise ValueError(f"labels must have {len(names)} columns, got {ya.shape} and {yb.shape}")
    tr, te = _split(len(za), seed, test_fraction)
    out: dict[str, dict[str, float]] = {"within": {}, "transfer": {}, "chance": {}}
    for k, name in enumerate(names):
        probe = _fit_probe(za[tr], ya[tr, k], seed)
        out["within"][name] = _probe_score(probe, za[te], ya[te, k])
        out["transfer"][name] = _probe_score(probe, zb, yb[:, k])
        majority = np.bincount(ya[tr, k]).argmax()
        out["chance"][name] = float((yb[:, k] == majority).mean())
    for scores in out.values():
        scores["mean"] = float(np.mean(list(scores.values())))
    return out


def retrieval_top1(z_a: Tensor, z_b: Tensor) -> float:
    """Paired cross-domain retrieval: row i of z_a and of z_b encode the same subject. Returns the
    fraction of i whose nearest row of z_b by cosine similarity (flattened latents) is row i.
    Chance = 1/B; 1.0 = every subject found."""
    if len(z_a) != len(z_b) or len(z_a) == 0:
        raise ValueError(f"paired latents need equal, non-zero counts: {len(z_a)} vs {len(z_b)}")
    a = torch.nn.functional.normalize(_flat64(z_a), dim=1)
    b = torch.nn.functional.normalize(_flat64(z_b).to(a.device), dim=1)
    nearest = (a @ b.T).argmax(dim=1)
    return float((nearest == torch.arange(len(a), device=a.device)).double().mean())
