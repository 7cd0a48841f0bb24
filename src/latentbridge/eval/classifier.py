"""Per-domain attribute classifiers and feature networks for evaluation.

A translation a->b *kept the subject* when domain b's attribute classifier, applied to the
translation, reads back the attributes of the source image. That classifier is a small CNN
(`attribute_net.AttributeClassifier`) trained on domain b's labelled training images
(`classifier_training.train_attribute_classifier`) and cached here, keyed by the data; its
penultimate layer (globally pooled features) is also the feature space of KID/FID -- "a network
trained on the data", since no Inception weights can be downloaded. A user may instead bring a
TorchScript feature network (`feature_network.load_feature_network`).

Every name of the three modules is importable from here, as the evaluator, the tests and the
benchmarks read them.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from torch import Tensor

from latentbridge.eval.attribute_net import CACHE_FORMAT, AttributeClassifier
from latentbridge.eval.classifier_training import gaussian_blur, train_attribute_classifier
from latentbridge.eval.feature_network import FeatureExtractor, InputRange, load_feature_network

__all__ = [
    "AttributeClassifier",
    "FeatureExtractor",
    "InputRange",
    "data_key",
    "gaussian_blur",
    "load_feature_network",
    "load_or_train_classifier",
    "train_attribute_classifier",
]


def data_key(paths: Sequence[str | os.PathLike[str]], size: int, extra: str = "") -> str:
    """sha256 hex digest over the sorted absolute file paths, their byte sizes and mtimes,
    ``size`` (the image side the data is loaded at) and ``extra`` (e.g. the label schema). Any
    file added, removed, renamed or rewritten changes the key; the same files named from another
    working directory do not."""
    h = hashlib.sha256()
    for p in sorted(os.path.abspath(os.fspath(p)) for p in paths):
        st = os.stat(p)
        h.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    h.update(f"size={size}\0extra={extra}".encode())
    return h.hexdigest()


def load_or_train_classifier(
    cache_dir: Path,
    key: str,
    images: Tensor,
    labels: Tensor,
    num_classes: Sequence[int],
    **kw: Any,
) -> AttributeClassifier:
    """Load the classifier cached under ``cache_dir`` for (``key``, ``num_classes``, training
    keyword arguments ``kw``), or train it with `train_attribute_classifier` and cache it.

    ``key`` identifies the data (see `data_key`); the file name also hashes the training
    arguments except ``device`` and ``progress``, so changing ``steps`` or ``seed`` never reuses a stale model.
    """
    hparams = {k: v for k, v in kw.items() if k not in ("device", "progress")}
    spec = {"key": key, "num_classes": list(num_classes), "kw": hparams, "format": CACHE_FORMAT}
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()
    path = Path(cache_dir) / f"classifier-{digest[:20]}.pt"
    if path.exists():
        return AttributeClassifier.load(path, map_location=kw.get("device") or images.device)
    model = train_attribute_classifier(images, labels, num_classes, **kw)
    model.save(path)
    return model
