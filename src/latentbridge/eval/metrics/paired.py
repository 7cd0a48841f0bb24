"""Paired ground truth: a translation against its true counterpart, pixel by pixel (L1) and by
local structure (SSIM)."""

from __future__ import annotations

from torch import Tensor
from torchmetrics.functional.image import structural_similarity_index_measure

_SSIM_KERNEL = 11  # Gaussian window of Wang et al. (2004): 11x11, sigma 1.5
_SSIM_SIGMA = 1.5


def paired_l1(a: Tensor, b: Tensor) -> float:
    """Mean absolute pixel error between paired images (B, C, H, W) in [-1, 1], expressed on the
    [0, 1] scale: ``mean |a - b| / 2``. 0 = identical, 1 = every pixel at opposite extremes."""
    if a.shape != b.shape:
        raise ValueError(
            f"paired images must have equal shapes: {tuple(a.shape)} vs {tuple(b.shape)}"
        )
    return float((a.detach().double() - b.detach().to(a.device).double()).abs().mean() / 2)


def ssim(a: Tensor, b: Tensor) -> float:
    """Mean SSIM (Wang et al., 2004) of paired images (B, C, H, W) in [-1, 1], mapped to [0, 1]
    (data range 1), with an 11x11 Gaussian window of sigma 1.5 (shrunk to the largest odd size
    that fits images smaller than 11 px); torchmetrics' implementation. 1 = identical."""
    if a.shape != b.shape or a.ndim != 4:
        raise ValueError(
            f"paired images must be equal (B, C, H, W): {tuple(a.shape)} vs {tuple(b.shape)}"
        )
    side = min(a.shape[-2:])
    kernel = min(_SSIM_KERNEL, side if side % 2 else side - 1)
    x, y = (a.detach().double() + 1) / 2, (b.detach().to(a.device).double() + 1) / 2
    value = structural_similarity_index_measure(
        x, y, gaussian_kernel=True, sigma=_SSIM_SIGMA, kernel_size=kernel, data_range=1.0
    )
    return float(value)
