"""The evaluation's instruments: each labelled domain's attribute classifier (and, for a domain
without labels, a domain classifier whose features serve KID/FID), trained on the data's
training images to see through a little blur, and cached under `cache_dir` keyed by the data."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from latentbridge.data.labels import Attributes, read_attributes
from latentbridge.eval.classifier import (
    AttributeClassifier,
    data_key,
    gaussian_blur,
    load_or_train_classifier,
)
from latentbridge.eval.labelled import load_split


def cache_dir() -> Path:
    """Where evaluation classifiers are cached (``$LATENTBRIDGE_CACHE`` or ~/.cache/latentbridge)."""
    base = os.environ.get("LATENTBRIDGE_CACHE") or Path.home() / ".cache" / "latentbridge"
    return Path(base)


def classifiers(
    data: Path, size: int, attrs: Attributes | None, domains: list[str], fit: Fit
) -> dict[str, AttributeClassifier]:
    """Per domain with labelled training images: an attribute classifier (cached by data key)."""
    if attrs is None:
        return {}
    train = load_split(data, "train", size, domains, limit=fit.limit)
    out = {}
    for d, s in train.items():
        if s.labels is None:
            continue
        key = data_key([str(p) for p in s.paths], size, extra=f"attrs:{d}:{attrs.names}")
        out[d] = load_or_train_classifier(
            cache_dir(), key, s.images, s.labels, attrs.num_classes, **fit.train_args(),
            progress=f"classifier {d}",
        )  # fmt: skip
    return out


def domain_classifier(data: Path, size: int, domains: list[str], fit: Fit) -> AttributeClassifier:
    """Without labels: a classifier of the domain itself, whose features serve KID/FID."""
    train = load_split(data, "train", size, domains, limit=fit.limit)
    images = torch.cat([s.images for s in train.values()])
    labels = torch.cat([torch.full((len(s.images), 1), i) for i, s in enumerate(train.values())])
    paths = [str(p) for s in train.values() for p in s.paths]
    key = data_key(paths, size, extra="domain-classifier")
    return load_or_train_classifier(
        cache_dir(), key, images, labels, [len(train)], **fit.train_args(),
        progress="domain classifier",
    )  # fmt: skip


# The evaluation classifiers learn to see through a little blur (a Gaussian of std up to side/32
# px, 1 px at 32 px): trained on sharp images only, the cartoon classifier read glasses at chance
# (0.61) and MNIST's read digits at 0.48 on real test images blurred by 0.7 and 1 px, so a soft
# translation of the right subject scored as a wrong one (docs/EVAL.md, "Blur").
CLASSIFIER_BLUR = 1 / 32
# (Pixel noise as well, std up to 0.05-0.1, cost the cartoon glasses 0.016-0.023 on real images.)


def blurred(x: Tensor) -> Tensor:
    """Images blurred as much as the evaluation classifiers learn to see through (std side/32 px):
    their accuracy on these, beside the ceiling, says whether they read a soft image's subject."""
    return gaussian_blur(x, torch.full((len(x),), CLASSIFIER_BLUR * min(x.shape[-2:])))


@dataclass(frozen=True)
class Fit:
    """How the evaluation classifiers train: ``steps`` per round, up to ``rounds`` rounds (see
    `train_attribute_classifier`), on at most ``limit`` training images per domain, seeing
    through blur up to `CLASSIFIER_BLUR` of the side; all but the device and the limit are part
    of their cache key."""

    steps: int
    rounds: int
    device: torch.device
    limit: int = 5000
    blur: float = CLASSIFIER_BLUR

    def train_args(self) -> dict[str, Any]:
        """The keyword arguments `load_or_train_classifier` takes from this."""
        return {
            "steps": self.steps,
            "rounds": self.rounds,
            "blur": self.blur,
            "device": self.device,
        }


def prepare_classifiers(
    data: Path,
    size: int,
    domains: list[str],
    *,
    classifier_steps: int = 800,
    classifier_rounds: int = 5,
    device: torch.device,
) -> dict[str, Any]:
    """Train (or load) the classifiers that an :class:`Evaluator` of ``data`` will use, so that
    the evaluation finds them cached; returns their training records. ``demo`` calls this
    before training, to know how much of its time budget the training may take."""
    fit = Fit(classifier_steps, classifier_rounds, device)
    clf = classifiers(Path(data), size, read_attributes(Path(data)), domains, fit)
    records = {d: c.training_record for d, c in clf.items()}
    if len(clf) < len(domains):
        records["domain classifier"] = domain_classifier(
            Path(data), size, domains, fit
        ).training_record
    return records
