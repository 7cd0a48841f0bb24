"""``benchmarks/perf_norm.py --lin``: its written-out layer-instance norm is the package's norm,
so its timings compare one function computed two ways, and the table has a cell for each."""

from __future__ import annotations

import sys

import pytest
import torch
from benchmarks import perf_norm

from latentbridge.nn.blocks import LayerInstanceNorm2d


def test_mixed_after_is_the_packages_layer_instance_norm() -> None:
    """Same parameters, same values, on planar and channels-last input."""
    torch.manual_seed(0)
    ours, written = LayerInstanceNorm2d(8), perf_norm.MixedAfter(8)
    with torch.no_grad():
        ours.rho.uniform_(0, 1), ours.weight.uniform_(0.5, 1.5), ours.bias.normal_()
    written.load_state_dict(ours.state_dict())
    x = torch.randn(3, 8, 6, 6) * 2 + 1
    for inp in (x, x.contiguous(memory_format=torch.channels_last)):
        assert torch.allclose(ours(inp), written(inp), atol=1e-5)


def test_lin_table_times_every_shape_layout_and_dtype(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["perf_norm.py", "--lin", "--batch", "2", "--reps", "1"])
    perf_norm.main()
    rows = [r for r in capsys.readouterr().out.splitlines() if r.startswith("| 2x")]
    assert len(rows) == len(perf_norm.LIGHT_SHAPES) * 2 * 2  # layouts x dtypes
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")][3:]
        assert len(cells) == 3 and all(float(c) > 0 for c in cells)
