"""Shared fixtures: tiny image folders and tiny model settings, so every test runs in seconds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

# Tiny tensors run fastest on one thread, and a second OpenMP thread only contends with others.
torch.set_num_threads(1)

TINY = {
    "data.size": 16,
    "train.batch_size": 4,
    "model.width": 8,
    "model.max_width": 16,
    "model.res_blocks": 1,
    "model.disc_width": 8,
    "model.disc_layers": 2,
    "model.latent_disc_width": 16,
    "model.latent_dim": 16,
    "data.workers": 0,
    "train.log_every": 1,
    "train.precision": "fp32",  # the bit-exact and cross-rank checks are stated for fp32
}


def tiny(**extra: object) -> dict[str, object]:
    """The tiny overrides plus ``extra`` (dotted keys with ``__`` for ``.``)."""
    return {**TINY, **{k.replace("__", "."): v for k, v in extra.items()}}


def make_domains(
    root: Path, names: tuple[str, ...] = ("A", "B"), n: int = 10, side: int = 20
) -> Path:
    """Folders of small coloured noise images, one colour per domain."""
    rng = np.random.default_rng(0)
    for k, name in enumerate(names):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        base = np.array([(200, 40, 40), (40, 40, 200), (40, 200, 40)][k % 3])
        for i in range(n):
            img = (rng.random((side, side, 3)) * 80 + base).clip(0, 255).astype(np.uint8)
            Image.fromarray(img).save(folder / f"img_{i:02d}.png")
    return root


def make_labelled(root: Path, domains: dict[str, int]) -> Path:
    """Domains of flat grey images, image i at grey level 10 * i, labelled ``level = i`` and
    ``parity = i % 2`` in labels.csv (``domains``: name -> number of labelled images; one more
    image than that, unlabelled, where the number is negative)."""
    root.mkdir(parents=True)
    (root / "attributes.json").write_text(
        json.dumps({"attributes": {"level": [str(i) for i in range(20)], "parity": ["0", "1"]}})
    )
    for name, n in domains.items():
        folder = root / name
        folder.mkdir()
        rows = ["file,level,parity"]
        for i in range(abs(n) + (n < 0)):
            Image.fromarray(np.full((8, 8, 3), 10 * i, np.uint8)).save(folder / f"{i:02d}.png")
            if i < abs(n):
                rows.append(f"{i:02d}.png,{i},{i % 2}")
        (folder / "labels.csv").write_text("\n".join(rows) + "\n")
    return root


@pytest.fixture
def two_domains(tmp_path: Path) -> Path:
    return make_domains(tmp_path / "data")


@pytest.fixture
def three_domains(tmp_path: Path) -> Path:
    return make_domains(tmp_path / "data3", ("A", "B", "C"))
