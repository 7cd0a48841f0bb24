"""Tensors <-> images: conversion to uint8 and PIL, and grids of image rows."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor


def to_uint8(x: Tensor) -> np.ndarray:
    """(B, 3, H, W) in [-1, 1] -> (B, H, W, 3) uint8."""
    x = ((x.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).numpy()


def to_pil(x: Tensor) -> list[Image.Image]:
    """A batch in [-1, 1] as PIL RGB images."""
    return [Image.fromarray(a) for a in to_uint8(x)]


def from_pil(images: Sequence[Image.Image], size: int) -> Tensor:
    """PIL images (any mode) -> (B, 3, size, size) in [-1, 1], resized and centre-cropped."""
    from latentbridge.data.folders import fit_rgb
    from latentbridge.data.stream import to_tensor

    return to_tensor(np.stack([np.asarray(fit_rgb(im, size)) for im in images]))


def grid(rows: Sequence[Tensor], pad: int = 2) -> np.ndarray:
    """Rows of equal-length batches (each (B, 3, H, W) in [-1, 1]) -> one uint8 image."""
    b, _, h, w = rows[0].shape
    out = np.full((len(rows) * (h + pad) + pad, b * (w + pad) + pad, 3), 255, np.uint8)
    for r, row in enumerate(rows):
        for c, img in enumerate(to_uint8(row)):
            y, x = pad + r * (h + pad), pad + c * (w + pad)
            out[y : y + h, x : x + w] = img
    return out


def save_png(image: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path)
