"""Training batches as a pure function of (seed, step): resuming at step s reads exactly what an
uninterrupted run would have read, whatever the number of ranks.

Each domain's sample order is an endless chain of permutations, permutation ``e`` drawn from
``(seed, domain index, e)``. Step s uses positions ``[s * B, (s + 1) * B)`` of that chain (B =
``train.batch_size``); with R ranks and A accumulation steps the B positions are cut into R * A
equal chunks, chunk ``m * R + r`` going to rank r's micro-batch m. Flips are drawn with the
permutation, so they too depend on the position only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from latentbridge.data.folders import decode_all, find_domains, list_images, warn_skipped
from latentbridge.data.labels import read_attributes, read_labels
from latentbridge.errors import UserError

LABELS = "labels/"  # a batch's key prefix for the class ids of a domain's images


def split_labels(batch: dict[str, Tensor]) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """A batch -> (images per domain, class ids per labelled domain)."""
    images = {k: v for k, v in batch.items() if not k.startswith(LABELS)}
    labels = {k[len(LABELS) :]: v for k, v in batch.items() if k.startswith(LABELS)}
    return images, labels


class DomainStream:
    """The endless, seeded sample order of one domain with ``n`` images."""

    def __init__(self, n: int, *, seed: int, domain_index: int, flip: bool) -> None:
        self.n, self.seed, self.domain_index, self.flip = n, seed, domain_index, flip
        self._epochs: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _epoch(self, e: int) -> tuple[np.ndarray, np.ndarray]:
        if e not in self._epochs:
            rng = np.random.default_rng([self.seed, self.domain_index, e])
            perm = rng.permutation(self.n)
            flips = rng.random(self.n) < 0.5 if self.flip else np.zeros(self.n, bool)
            if len(self._epochs) > 4:  # only neighbouring epochs are ever needed again
                self._epochs.pop(min(self._epochs))
            self._epochs[e] = (perm, flips)
        return self._epochs[e]

    def take(self, start: int, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Image indices and flip flags at stream positions ``start .. start + count - 1``."""
        pos = np.arange(start, start + count)
        idx, flips = np.empty(count, np.int64), np.empty(count, bool)
        for e in np.unique(pos // self.n):
            sel = pos // self.n == e
            perm, fl = self._epoch(int(e))
            idx[sel], flips[sel] = perm[pos[sel] % self.n], fl[pos[sel] % self.n]
        return idx, flips


def to_tensor(images: np.ndarray) -> Tensor:
    """uint8 (B, H, W, 3) -> float (B, 3, H, W) in [-1, 1]."""
    t = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()
    return t.div_(127.5).sub_(1.0)


class TrainData:
    """The training images of every domain, decoded once (and checked) at start-up; with
    ``labels``, also the class ids of ``labels.csv`` where a domain's file covers its images
    (``self.labels``, the attribute table in ``self.attributes``)."""

    def __init__(
        self,
        root: Path,
        *,
        size: int,
        seed: int,
        flip: bool = False,
        split: str = "train",
        domains: list[str] | None = None,
        labels: bool = False,
    ) -> None:
        folders = find_domains(Path(root), split)
        if not folders:
            raise UserError(f"no {split} domain folders found in {root}")
        if domains is not None:
            missing = [d for d in domains if d not in folders]
            if missing:
                raise UserError(f"domain(s) {missing} not in {root}; it has {list(folders)}")
            folders = {d: folders[d] for d in domains}
        self.domains = list(folders)
        self.images: dict[str, np.ndarray] = {}
        self.paths: dict[str, list[Path]] = {}
        for d, folder in folders.items():
            decoded = decode_all(list_images(folder), size)
            warn_skipped(decoded.skipped, f"domain {d!r} ({folder})")
            if not decoded.paths:
                raise UserError(f"domain {d!r} has no readable image in {folder}")
            self.images[d], self.paths[d] = decoded.images, decoded.paths
        self.attributes = read_attributes(Path(root)) if labels else None
        self.labels: dict[str, Tensor] = {}
        if self.attributes is not None:
            for d, folder in folders.items():
                names = [str(p.relative_to(folder)) for p in self.paths[d]]
                found = read_labels(folder, names, self.attributes.names)
                if found is not None:
                    self.labels[d] = found
        self.streams = {
            d: DomainStream(len(self.images[d]), seed=seed, domain_index=i, flip=flip)
            for i, d in enumerate(self.domains)
        }

    def batch(
        self, step: int, *, batch_size: int, chunk: int = 0, chunks: int = 1
    ) -> dict[str, Tensor]:
        """Chunk ``chunk`` of ``chunks`` of step ``step``'s global batch, per domain."""
        if batch_size % chunks:
            raise UserError(
                f"train.batch_size={batch_size} must be divisible by {chunks} (ranks x accumulate)"
            )
        per = batch_size // chunks
        out = {}
        for d in self.domains:
            idx, flips = self.streams[d].take(step * batch_size + chunk * per, per)
            imgs = self.images[d][idx]
            imgs[flips] = imgs[flips, :, ::-1]
            out[d] = to_tensor(imgs)
            if d in self.labels:  # data.flip is for classes that survive a mirror
                out[LABELS + d] = self.labels[d][idx]
        return out

    def fixed(self, n: int) -> dict[str, Tensor]:
        """The first ``n`` images of every domain (the fixed batch of the sample grids)."""
        return {d: to_tensor(self.images[d][:n]) for d in self.domains}
