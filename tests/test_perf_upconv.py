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


def test_a_variant_measures_a_tiny_model_and_puts_the_package_back() -> None:
    """``measure('phases', ...)`` runs the bench with the swapped forward (no peak, a step or
    two) and reports positive times; the package's ``UpBlock.forward`` is back afterwards."""
    import argparse

    from benchmarks import perf_upconv

    from latentbridge.nn import blocks

    package_forward = blocks.UpBlock.forward
    args = argparse.Namespace(
        method="baseline", size=16, batch_size=2, precision="fp32", compile="off",
        steps=1, warmup=1, translate_reps=1, threads=None,
    )  # fmt: skip
    row = perf_upconv.measure("phases", args)
    assert blocks.UpBlock.forward is package_forward
    assert set(row) == {"step_ms", "flops_per_step", "translate_b1_ms", "translate_b64_ms"}
    assert all(v > 0 for v in row.values())


def test_the_summary_takes_medians_and_ratios_against_the_first_variant() -> None:
    from benchmarks.perf_upconv import summarise

    rows = {
        "upsample": [{"step_ms": 10.0, "translate_b1_ms": 2.0, "translate_b64_ms": 8.0}] * 3,
        "phases": [
            {"step_ms": 5.0, "translate_b1_ms": 2.0, "translate_b64_ms": 4.0},
            {"step_ms": 6.0, "translate_b1_ms": 4.0, "translate_b64_ms": 4.0},
            {"step_ms": 99.0, "translate_b1_ms": 1.0, "translate_b64_ms": 16.0},
        ],
    }
    med = summarise(rows)
    assert med["upsample"]["ratio_step_ms"] == 1.0
    assert med["phases"]["step_ms"] == 6.0 and med["phases"]["ratio_step_ms"] == 10.0 / 6.0
    assert med["phases"]["ratio_translate_b1_ms"] == 1.0
    assert med["phases"]["ratio_translate_b64_ms"] == 2.0
