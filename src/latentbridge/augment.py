"""Differentiable augmentation of what the image discriminators see (DiffAugment, Zhao et al.
2020): real images and translations alike are randomly recoloured, shifted and cut out before
D_b judges them, so a discriminator cannot win by memorising a few thousand training images, and
the generators still get gradients through the augmentation. ``loss.diffaug`` names the
operations, comma-separated (e.g. ``"color,translation,cutout"``); empty = off.

:func:`relight` is the camera's part of a photo drawn again (exposure and white balance): the
change ``loss.relight`` asks a translation to ignore and ``loss.cycle_relight`` puts between a
translation and its way back; :func:`expose` makes it with given factors
(``benchmarks/exposure_response.py``).

Images are ``(B, 3, H, W)`` in [-1, 1]; every sample draws its own parameters on every call.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor
from torch.nn import functional as F


def color(x: Tensor) -> Tensor:
    """Brightness shift in [-0.5, 0.5], saturation scale in [0, 2], contrast scale in
    [0.5, 1.5], each per sample."""
    b = x.shape[0]

    def rand(lo: float, hi: float) -> Tensor:
        return torch.empty(b, 1, 1, 1, device=x.device, dtype=x.dtype).uniform_(lo, hi)

    x = x + rand(-0.5, 0.5)
    grey = x.mean(dim=1, keepdim=True)
    x = (x - grey) * rand(0.0, 2.0) + grey
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * rand(0.5, 1.5) + mean


def translation(x: Tensor, ratio: float = 0.125) -> Tensor:
    """Shift each sample by up to ``ratio`` of its side in each direction (whole pixels), the
    uncovered border filled with zeros (mid-grey)."""
    b, _, h, w = x.shape
    sy, sx = max(1, int(h * ratio + 0.5)), max(1, int(w * ratio + 0.5))
    dy = torch.randint(-sy, sy + 1, (b, 1, 1), device=x.device)
    dx = torch.randint(-sx, sx + 1, (b, 1, 1), device=x.device)
    rows = (torch.arange(h, device=x.device)[None, :, None] + dy + sy).expand(b, h, w)
    cols = (torch.arange(w, device=x.device)[None, None, :] + dx + sx).expand(b, h, w)
    padded = F.pad(x, [sx, sx, sy, sy])  # (B, C, H + 2sy, W + 2sx)
    batch = torch.arange(b, device=x.device)[:, None, None].expand(b, h, w)
    return padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)


def cutout(x: Tensor, ratio: float = 0.5) -> Tensor:
    """Zero (mid-grey) one square of ``ratio`` of the side per sample, anywhere in the image
    (it may run over the border)."""
    b, _, h, w = x.shape
    ch, cw = max(1, int(h * ratio + 0.5)), max(1, int(w * ratio + 0.5))
    top = torch.randint(-(ch // 2), h - ch // 2, (b, 1, 1), device=x.device)
    left = torch.randint(-(cw // 2), w - cw // 2, (b, 1, 1), device=x.device)
    yy = torch.arange(h, device=x.device)[None, :, None]
    xx = torch.arange(w, device=x.device)[None, None, :]
    hole = (yy >= top) & (yy < top + ch) & (xx >= left) & (xx < left + cw)
    return x * (~hole).unsqueeze(1).to(x.dtype)


def relight(x: Tensor, gain: float, warmth: float) -> Tensor:
    """``x`` (sRGB in [-1, 1]) as if the camera had exposed and white-balanced it otherwise
    (:func:`expose`), each sample with an exposure drawn log-uniformly from [1 / (1 + gain),
    1 + gain] and a colour temperature ``w`` uniform in [-warmth, warmth]. Gain 0 and warmth 0
    leave the image as it was."""
    b = x.shape[0]
    span = torch.log1p(torch.tensor(float(gain)))
    exposure = torch.exp(torch.empty(b, 1, 1, 1, device=x.device).uniform_(-1, 1) * span)
    w = torch.empty(b, 1, 1, 1, device=x.device).uniform_(-warmth, warmth)
    return expose(x, exposure, w)


def expose(x: Tensor, exposure: Tensor | float, warmth: Tensor | float = 0.0) -> Tensor:
    """``x`` (sRGB in [-1, 1]) re-exposed and re-white-balanced: in linear light (gamma 2.2)
    scaled by ``exposure`` and by a colour temperature ``1 + warmth * (1, 0.1, -1)`` (red up,
    blue down: warmer), then clipped and encoded again; per sample where the factors are
    (B, 1, 1, 1) tensors."""
    tint = 1 + torch.as_tensor(warmth, device=x.device) * torch.tensor(
        [1.0, 0.1, -1.0], device=x.device
    ).view(1, 3, 1, 1)
    linear = ((x.float() + 1) / 2).clamp(0, 1) ** 2.2
    out = (linear * exposure * tint).clamp(0, 1) ** (1 / 2.2)
    return (out * 2 - 1).to(x.dtype)


OPERATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "color": color,
    "translation": translation,
    "cutout": cutout,
}


def parse(policy: str) -> list[str]:
    """The operation names of a ``loss.diffaug`` policy; ValueError names an unknown one."""
    names = [p.strip() for p in policy.split(",") if p.strip()]
    unknown = [n for n in names if n not in OPERATIONS]
    if unknown:
        raise ValueError(f"unknown augmentation {unknown[0]!r}; choose from {list(OPERATIONS)}")
    return names


def augmenter(policy: str) -> Callable[[Tensor], Tensor] | None:
    """The function applying ``policy``'s operations in order, or None when it is empty."""
    ops = [OPERATIONS[n] for n in parse(policy)]
    if not ops:
        return None

    def apply(x: Tensor) -> Tensor:
        for op in ops:
            x = op(x)
        return x

    return apply
