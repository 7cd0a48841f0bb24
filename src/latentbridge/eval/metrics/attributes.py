"""Attribute preservation: how often a classifier reads the source's attributes off a
translation, how sure that number is (a bootstrap over the test images), where it goes wrong
(confusion counts, accuracy per group of subjects) and what chance would score."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor


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
