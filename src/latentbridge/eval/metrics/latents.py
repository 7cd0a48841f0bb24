"""Latent alignment: linear probes on the codes (does the code tell the domain? does an attribute
lie in the same place in both domains' codes?) and paired cross-domain retrieval."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import Tensor

_PROBE_MAX_ITER = 2000  # lbfgs iterations for the linear probes; enough for standardised inputs


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
    a = torch.nn.functional.normalize(z_a.detach().flatten(1).double(), dim=1)
    b = torch.nn.functional.normalize(z_b.detach().flatten(1).double().to(a.device), dim=1)
    nearest = (a @ b.T).argmax(dim=1)
    return float((nearest == torch.arange(len(a), device=a.device)).double().mean())
