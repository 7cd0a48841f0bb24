"""The labels a benchmark ships: ``DIR/attributes.json`` (the attribute table) and
``labels.csv`` in each domain folder (``file,<attribute>...`` rows, file relative to the folder).

Evaluation reads them to score translations; training reads them only for ``loss.labels``, the
class-conditional code alignment, which uses the training images' labels and so is not
unsupervised.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor


@dataclass
class Attributes:
    names: list[str]
    classes: list[list[str]]
    paired_test: bool

    @property
    def num_classes(self) -> list[int]:
        return [len(c) for c in self.classes]


def read_attributes(root: Path) -> Attributes | None:
    """``DIR/attributes.json`` (written by ``latentbridge data``), if present."""
    path = Path(root) / "attributes.json"
    if not path.is_file():
        return None
    meta = json.loads(path.read_text())
    attrs = meta.get("attributes", {})
    return Attributes(list(attrs), [list(v) for v in attrs.values()], bool(meta.get("paired_test")))


def read_labels(folder: Path, names: list[str], attrs: list[str]) -> Tensor | None:
    """(N, A) class ids of the images ``names`` (relative to ``folder``) from its
    ``labels.csv``; None unless every image has a row."""
    path = folder / "labels.csv"
    if not path.is_file() or not attrs:
        return None
    with path.open(newline="") as f:
        rows = {row["file"]: row for row in csv.DictReader(f)}
    if any(n not in rows for n in names):
        return None
    return torch.tensor([[int(rows[n][a]) for a in attrs] for n in names], dtype=torch.long)
