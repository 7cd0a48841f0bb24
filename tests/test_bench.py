"""``latentbridge bench`` runs end to end on a tiny model and reports positive, finite numbers.

Nothing here is timed against a threshold: the numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import pytest
import torch

from latentbridge import bench
from latentbridge import config as C
from latentbridge.errors import UserError
from tests.conftest import TINY


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="latentbridge")
    bench.add_bench_parser(parser.add_subparsers())
    return parser


def _tiny_set() -> list[str]:
    keep = {k: v for k, v in TINY.items() if k not in ("data.size", "train.batch_size")}
    return [arg for k, v in keep.items() for arg in ("--set", f"{k}={v}")]


def _positive_numbers(obj: object) -> list[float]:
    """Every number in the measured sections of the report."""
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in _positive_numbers(v)]
    if isinstance(obj, list):
        return [x for v in obj for x in _positive_numbers(v)]
    if isinstance(obj, (int, float)) and not isinstance(obj, bool):
        return [float(obj)]
    return []


def test_bench_command_writes_a_complete_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench.json"
    argv = ["bench", "--size", "16", "--batch-size", "4", "--device", "cpu", "--steps", "2"]
    argv += ["--warmup", "1", "--translate-reps", "1", "--translate-chunk", "16"]
    args = _parser().parse_args([*argv, "--json", str(out), *_tiny_set()])
    args.peak_sides, args.peak_seconds = (64,), 0.01  # a tiny, quick peak
    assert bench.cmd_bench(args) == 0
    printed = capsys.readouterr().out
    assert "train pairs/s" in printed and "translate batch 64" in printed
    report = json.loads(out.read_text())
    assert set(report) >= {"machine", "config", "peak_flops_per_s", "train", "translate", "data"}
    assert report["config"]["size"] == 16 and report["config"]["batch_size"] == 4
    assert report["config"]["compile"] == "off" and "compiled" not in printed
    report["config"]["compile"] = "default"  # how a compiled run names itself in the table
    assert "fp32, compiled (default), 2 timed steps" in bench.format_report(report)
    assert "fp32" in report["peak_flops_per_s"]
    assert report["machine"]["bf16"] in ("native", "emulated", "none")
    report["peak_flops_per_s"]["bf16"] = 3e10
    for kind, said in [("emulated", True), ("native", False)]:
        report["machine"]["bf16"] = kind
        line = next(x for x in bench.format_report(report).splitlines() if "peak bf16" in x)
        assert ("emulated" in line) == said, line
    train = report["train"]
    for key in ("step_s", "pairs_per_s", "flops_per_step", "flops_per_s", "utilisation"):
        assert key in train
    assert len(train["step_s_all"]) == 2
    assert train["utilisation"]["vs_fp32_peak"] > 0
    assert train["utilisation"]["matched_fp32"] > 0  # against bursts timed around each step
    assert len(train["probe_flops_per_s"]) == 3  # before the first step and after each
    assert [t["batch"] for t in report["translate"]] == [1, 64]
    assert [t["chunk"] for t in report["translate"]] == [1, 16]  # --translate-chunk 16
    assert "in chunks of 16" in printed
    data = report["data"]
    for key in ("decode_images_per_s", "batch_images_per_s", "consumed_images_per_s"):
        assert data[key] > 0
    assert 0 < data["compute_fraction"] <= 1
    assert report["peak_memory_mb"] > 0
    measured = {k: report[k] for k in ("peak_flops_per_s", "train", "translate", "data")}
    numbers = _positive_numbers(measured)
    assert numbers and all(math.isfinite(x) and x >= 0 for x in numbers)


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--steps", "0"), ("--batch-size", "0"), ("--threads", "0"), ("--translate-chunk", "0")],
)
def test_bad_options_are_user_errors(flag: str, value: str) -> None:
    args = _parser().parse_args(["bench", "--device", "cpu", "--no-peak", flag, value])
    with pytest.raises(UserError):
        bench.cmd_bench(args)


def test_bf16_refusals_come_before_measuring(monkeypatch: pytest.MonkeyPatch) -> None:
    """bf16 where the CPU has none (emulated), and ``--compile`` with bf16 on the CPU, stop at
    once, before the matmul peak, saying why (the check is patched: any CPU runs both cases)."""
    from latentbridge import precision

    def no_peak(*args: object, **kw: object) -> float:
        raise AssertionError("measured before refusing")

    monkeypatch.setattr(bench.machine, "matmul_peak", no_peak)
    argv = ["bench", "--device", "cpu", "--precision", "bf16"]
    monkeypatch.setattr(precision, "bf16_supported", lambda device: False)
    with pytest.raises(UserError, match="no bf16 kernels"):
        bench.cmd_bench(_parser().parse_args(argv))
    monkeypatch.setattr(precision, "bf16_supported", lambda device: True)
    with pytest.raises(UserError, match="non-finite gradients"):
        bench.cmd_bench(_parser().parse_args([*argv, "--compile", "default"]))


def test_bench_under_torchrun_reports_the_machine_once(tmp_path: Path) -> None:
    """Two gloo ranks: one report (rank 0's), global FLOPs per step = one process's."""
    import os
    import subprocess
    import sys

    common = ["bench", "--size", "16", "--batch-size", "4", "--device", "cpu", "--steps", "1"]
    common += ["--warmup", "0", "--translate-reps", "1", "--no-peak", *_tiny_set()]
    single = tmp_path / "one.json"
    assert bench.cmd_bench(_parser().parse_args([*common, "--json", str(single)])) == 0
    two = tmp_path / "two.json"
    launcher = ["-m", "torch.distributed.run", "--standalone", "--nnodes", "1"]
    cmd = [sys.executable, *launcher, "--nproc_per_node", "2", "-m", "latentbridge"]
    # faulthandler: should a rank abort (once seen in CI, at exit), its threads' Python stacks
    # are in stderr, ahead of torchrun's summary
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONFAULTHANDLER": "1"}
    done = subprocess.run(
        [*cmd, *common, "--json", str(two)], env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-8000:]
    assert done.stdout.count("train pairs/s") == 1  # rank 0 speaks for the machine
    one, both = json.loads(single.read_text()), json.loads(two.read_text())
    assert one["config"]["ranks"] == 1 and both["config"]["ranks"] == 2
    flops_one, flops_two = one["train"]["flops_per_step"], both["train"]["flops_per_step"]
    assert abs(flops_two - flops_one) / flops_one < 0.02  # two halves of the batch = the whole


def test_config_file_sets_the_run_and_options_override_it(tmp_path: Path) -> None:
    config = tmp_path / "gpu.yaml"
    config.write_text(
        "method: unit\ndata:\n  size: 48\nmodel:\n  width: 8\ntrain:\n  batch_size: 3\n"
    )
    args = _parser().parse_args(["bench", "--config", str(config)])
    assert args.config == config and args.method is None and args.size is None
    file = C.load_yaml(config)
    cfg = bench.run_config(bench.BenchOptions(file=file))
    assert (cfg.method, cfg.data.size, cfg.model.width, cfg.train.batch_size) == ("unit", 48, 8, 3)
    cfg = bench.run_config(bench.BenchOptions(file=file, method="cogan", size=32, batch_size=5))
    assert (cfg.method, cfg.data.size, cfg.model.width, cfg.train.batch_size) == ("cogan", 32, 8, 5)
    assert bench.run_config(bench.BenchOptions()).method == "baseline"  # no file, no --method


def test_timed_steps_are_full_steps_not_the_presets_warm_start() -> None:
    assert bench.run_config(bench.BenchOptions(method="bridge")).train.warmup == 0  # bridge: 200
    opts = bench.BenchOptions(method="bridge", overrides={"train.warmup": 7})
    assert bench.run_config(opts).train.warmup == 7
    file = {"method": "bridge", "train": {"warmup": 5}}
    assert bench.run_config(bench.BenchOptions(file=file)).train.warmup == 5


def test_peak_matrix_sides_follow_the_device(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, ...]] = []
    monkeypatch.setattr(
        bench.machine, "matmul_peak", lambda dev, dt, sides, secs: seen.append(sides) or 1.0
    )
    monkeypatch.setattr(bench.machine, "bf16_supported", lambda dev: False)
    bench.measure_peaks(torch.device("cpu"))
    bench.measure_peaks(torch.device("cuda"))  # nothing runs there: the product is patched out
    bench.measure_peaks(torch.device("cpu"), (64,))
    assert seen == [bench.PEAK_SIDES, bench.GPU_PEAK_SIDES, (64,)]
