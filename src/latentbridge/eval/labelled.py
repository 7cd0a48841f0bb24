"""Labelled image sets for evaluation: a split's images per domain, with the labels of
``labels.csv`` and the attribute table of ``attributes.json`` where the dataset has them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch import Tensor

from latentbridge.data.folders import decode_all, find_domains, list_images, warn_skipped
from latentbridge.data.labels import read_attributes, read_labels
from latentbridge.data.stream import to_tensor
from latentbridge.errors import UserError


@dataclass
class DomainSet:
    """One domain's images (N, 3, S, S) in [-1, 1], their names (relative paths), and labels
    (N, A) when every image has a row in ``labels.csv`` (else ``None``)."""

    images: Tensor
    names: list[str]
    paths: list[Path]
    labels: Tensor | None


def load_split(
    root: Path, split: str, size: int, domains: list[str], *, limit: int | None = None
) -> dict[str, DomainSet]:
    """Every domain of ``split`` that the model knows, decoded at ``size`` (the first ``limit``
    images of each, in name order)."""
    folders = find_domains(root, split)
    unknown = [d for d in folders if d not in domains]
    if not folders or len([d for d in folders if d in domains]) < 2:
        raise UserError(f"{root} has no {split} split with two of the model's domains {domains}")
    attrs = read_attributes(root)
    out = {}
    for d, folder in folders.items():
        if d in unknown:
            continue
        files = list_images(folder)[:limit]
        decoded = decode_all(files, size)
        warn_skipped(decoded.skipped, f"{split} domain {d!r}")
        names = [str(p.relative_to(folder)) for p in decoded.paths]
        labels = read_labels(folder, names, attrs.names if attrs else [])
        out[d] = DomainSet(to_tensor(decoded.images), names, decoded.paths, labels)
    return out


def pairs_by_name(a: DomainSet, b: DomainSet) -> tuple[np.ndarray, np.ndarray]:
    """Indices (ia, ib) of images with the same name in both sets (the paired ground truth)."""
    where = {n: i for i, n in enumerate(b.names)}
    ia = [i for i, n in enumerate(a.names) if n in where]
    return np.array(ia, dtype=np.int64), np.array([where[a.names[i]] for i in ia], dtype=np.int64)
