"""``benchmarks/perf_upconv.py``: its up-sampling convolution by phases is the package's
up-sampling then convolving, so its timings compare one function computed two ways."""

from __future__ import annotations

import torch
from benchmarks.perf_upconv import upsample2x_conv3x3
from torch.nn import functional as F


def test_up_sampling_convolution_by_phases_matches_up_sampling_then_convolving() -> None:
    """conv3x3(nearest x2 up-sampling), padding 1, with and without a bias: values and the
    gradients of input, weight and bias."""
    torch.manual_seed(0)
    x = torch.randn(2, 5, 4, 6, dtype=torch.float64, requires_grad=True)
    w = torch.randn(7, 5, 3, 3, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(7, dtype=torch.float64, requires_grad=True)
    g = torch.randn(2, 7, 8, 12, dtype=torch.float64)
    for b in (None, bias):
        ours = upsample2x_conv3x3(x, w, b)
        ref = F.conv2d(F.interpolate(x, scale_factor=2, mode="nearest"), w, b, padding=1)
        assert ours.shape == ref.shape and torch.allclose(ours, ref)
        inputs = (x, w) if b is None else (x, w, b)
        for a, r in zip(torch.autograd.grad(ours, inputs, g), torch.autograd.grad(ref, inputs, g)):
            assert torch.allclose(a, r)
