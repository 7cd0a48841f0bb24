"""``benchmarks/perf_compile.py``'s layouts and table, without timing anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from benchmarks import perf_compile

from latentbridge.nn import blocks, networks


@pytest.mark.parametrize("per_domain", [False, True])
def test_native_norms_compute_what_the_package_norms_compute_on_channels_last(
    per_domain: bool,
) -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 8, 6, 6).to(memory_format=torch.channels_last).requires_grad_()
    outs, grads, kinds = [], [], []
    for mode in ("default+cl", "default+cl-native"):
        with perf_compile.layout(mode):
            norm = blocks.Norm2d("instance", 8, n_domains=2 if per_domain else 0)
        kinds.append(type(norm.inner.norm if per_domain else norm.inner))
        with torch.no_grad():  # non-trivial affine parameters, the same in both
            for p in norm.parameters():
                p.copy_(torch.linspace(0.5, 1.5, p.numel()).view_as(p))
        y = norm(x, 1)
        (g,) = torch.autograd.grad((y * torch.linspace(-1, 1, y.numel()).view_as(y)).sum(), x)
        outs.append(y)
        grads.append(g)
    assert kinds == [blocks.InstanceNorm2d, perf_compile.NativeInstanceNorm2d]
    assert torch.allclose(outs[0], outs[1], atol=1e-5)
    assert torch.allclose(grads[0], grads[1], atol=1e-4)


def test_a_layout_is_undone_after_building() -> None:
    before = networks.MEMORY_FORMAT, blocks.make_norm, blocks.DomainNorm
    with perf_compile.layout("default+cl-native"):
        assert networks.MEMORY_FORMAT == torch.channels_last
        assert blocks.DomainNorm is perf_compile.NativeDomainNorm
    assert (networks.MEMORY_FORMAT, blocks.make_norm, blocks.DomainNorm) == before


def test_table_ratios_are_against_the_first_mode_and_an_unknown_compile_time_shows_so(
    tmp_path: Path,
) -> None:
    def mode(steps: list[float], compile_s: float | None) -> dict:
        return {
            "step_ms": steps[0],
            "steps_ms": steps,
            "compile_s": compile_s,
            "vs_fp32_peak": 0.5,
            "matched_fp32": 0.6,
            "vs_precision_peak": 0.5,
        }

    report = {
        "sizes": {
            "64": {
                "method": "baseline",
                "batch_size": 32,
                "precision": "fp32",
                "modes": {
                    "default": mode([100.0, 100.0], None),
                    "default+cl": mode([50.0, 50.0], None),
                },
            }
        }
    }
    f = tmp_path / "r.json"
    f.write_text(json.dumps(report))
    rows = perf_compile.table([f]).splitlines()[2:]
    assert "| ×1.00 | — |" in rows[0]
    assert "| default+cl | 50.0 | ×2.00 | — |" in rows[1]


def test_compile_seconds_are_zero_for_eager_layouts_and_unknown_without_an_eager_mode() -> None:
    warm = {"off": 2.0, "off+cl": 2.5, "default": 9.0}
    assert perf_compile.compile_seconds("off+cl", warm) == 0.0
    assert perf_compile.compile_seconds("default", warm) == 7.0
    assert perf_compile.compile_seconds("default", {"default": 9.0}) is None
