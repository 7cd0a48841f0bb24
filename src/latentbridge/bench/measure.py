"""The bench's measurements: training, translation and data loading for one preset, on a
folder of random images the bench writes itself (see the package docstring)."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from PIL import Image

from latentbridge.bench.machine import (
    PEAK_SECONDS,
    _timed,
    count_flops,
    machine_info,
    measure_peaks,
    peak_memory_mb,
    probe_rate,
    sync,
)
from latentbridge.bench.report import combine_ranks, utilisation
from latentbridge.errors import UserError
from latentbridge.precision import check_native, resolve_precision

if TYPE_CHECKING:
    from latentbridge.config import Config

DOMAINS = ("A", "B")
IMAGES_PER_DOMAIN = 128  # enough for several distinct batches of 64 without a long decode
TRANSLATE_BATCHES = (1, 64)  # the latency and throughput batch sizes


@dataclass
class BenchOptions:
    """What to measure. ``precision=None`` keeps the preset's ``train.precision``."""

    method: str | None = None  # None: the config file's ``method:``, else ``baseline``
    size: int | None = None  # None: the config file's ``data.size``, else the default (32)
    batch_size: int | None = None  # None: the preset's train.batch_size
    device: str = "auto"
    precision: str | None = None
    compile: str | None = None  # train.compile (None: the config's)
    steps: int = 10  # timed training steps
    warmup: int = 3  # untimed training steps first (allocator, oneDNN primitive caches)
    translate_reps: int = 10  # timed translation calls per batch size
    translate_chunk: int | None = None  # images per pass (None: model.translation_chunk)
    threads: int | None = None  # torch intra-op threads (None: leave torch's default)
    overrides: dict[str, Any] = field(default_factory=dict)  # --set KEY=VALUE
    file: dict[str, Any] | None = None  # a YAML config (--config), below the options above
    peak: bool = True  # measure the matmul peak
    peak_sides: tuple[int, ...] | None = None  # matmul sides for the peak (None: by device)
    peak_seconds: float = PEAK_SECONDS  # duration of one timed burst
    probe: bool = True  # time an fp32 matmul burst around every training step (drift-matched)


def write_dataset(root: Path, size: int, n: int = IMAGES_PER_DOMAIN, seed: int = 0) -> Path:
    """``root/A`` and ``root/B``, each with ``n`` random RGB PNGs of side ``size``."""
    rng = np.random.default_rng(seed)
    for name in DOMAINS:
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{i:05d}.png")
    return root


def run_config(opts: BenchOptions) -> Config:
    """The run's config. The timed steps are full training steps: a preset's auto-encoder warm
    start (``train.warmup``, reconstruction only) is switched off unless ``--set`` or the config
    file names it, so that ``bench --method bridge`` does not time 200-step warm-up steps."""
    from latentbridge import methods

    updates: dict[str, Any] = dict(opts.overrides)
    if "train.warmup" not in updates and "warmup" not in (opts.file or {}).get("train", {}):
        updates["train.warmup"] = 0
    if opts.size is not None:
        updates["data.size"] = opts.size
    if opts.batch_size is not None:
        updates["train.batch_size"] = opts.batch_size
    if opts.precision is not None:
        updates["train.precision"] = opts.precision
    if opts.compile is not None:
        updates["train.compile"] = opts.compile
    return methods.resolve(opts.method, file=opts.file, overrides=updates)


def check_options(opts: BenchOptions) -> None:
    """Reject options the bench cannot run, as a :class:`UserError` with one line."""
    if opts.steps < 1:
        raise UserError(f"--steps must be at least 1, got {opts.steps}")
    if opts.warmup < 0:
        raise UserError(f"--warmup must be 0 or more, got {opts.warmup}")
    if opts.batch_size is not None and opts.batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {opts.batch_size}")
    if opts.threads is not None and opts.threads < 1:
        raise UserError(f"--threads must be at least 1, got {opts.threads}")
    if opts.translate_reps < 1:
        raise UserError(f"--translate-reps must be at least 1, got {opts.translate_reps}")
    if opts.translate_chunk is not None and opts.translate_chunk < 1:
        raise UserError(f"--translate-chunk must be at least 1, got {opts.translate_chunk}")


def _prefetched(trainer: Any, start: int) -> Iterator[Any]:
    from latentbridge.train.loop import _prefetch

    return _prefetch(trainer.micro_batches, start, trainer.cfg.data.workers)


def measure_training(trainer: Any, opts: BenchOptions) -> dict[str, Any]:
    """Step time, pairs/s, FLOPs and the compute share of wall time for ``trainer``'s config.

    Batches come through the training loop's own prefetching (``data.workers``), so the time a
    step waits for its batch is what ``latentbridge train`` would wait.
    """
    device = trainer.dist.device
    batches = _prefetched(trainer, 0)
    step = 0

    def one() -> None:
        nonlocal step
        trainer.step = step
        trainer.one_step(next(batches))
        step += 1

    flops = count_flops(one)
    for _ in range(opts.warmup):
        one()
    steps, waits = [], []
    probes = [probe_rate(device)] if opts.probe else []
    for _ in range(opts.steps):
        sync(device)
        t0 = time.perf_counter()
        micro = next(batches)
        t1 = time.perf_counter()
        trainer.step = step
        trainer.one_step(micro)
        sync(device)
        step += 1
        waits.append(t1 - t0)
        steps.append(time.perf_counter() - t0)
        if opts.probe:
            probes.append(probe_rate(device))
    batches.close()  # type: ignore[attr-defined]
    seconds = statistics.median(steps)
    batch = trainer.cfg.train.batch_size
    matched = {}
    if probes:  # each step against the faster of the bursts just before and just after it
        rates = [flops / s / max(a, b) for s, a, b in zip(steps, probes, probes[1:], strict=False)]
        matched = {"matched_fp32": statistics.median(rates), "probe_flops_per_s": probes}
    return {
        "drift": matched,
        "step_s": seconds,
        "step_s_all": steps,
        "pairs_per_s": batch / seconds,
        "images_per_s": batch * len(trainer.data.domains) / seconds,
        "flops_per_step": flops,
        "flops_per_s": flops / seconds,
        "compute_fraction": 1.0 - sum(waits) / sum(steps),
    }


def measure_translation(trainer: Any, opts: BenchOptions, batch: int) -> dict[str, Any]:
    """Images/s and latency of ``DE_B(EN_A(x))`` for one batch size, in eval mode, in chunks of
    ``opts.translate_chunk`` images (None: the package's own, as ``translate`` runs it)."""
    from latentbridge.model import translation_chunk

    device, gen = trainer.dist.device, trainer.model.gen
    size = trainer.cfg.data.size
    x = torch.rand(batch, 3, size, size, device=device) * 2 - 1
    chunk = opts.translate_chunk or translation_chunk(x)
    gen.eval()
    try:

        def one() -> None:
            with trainer.autocast():
                gen.translate(x, DOMAINS[0], DOMAINS[1], chunk=chunk)

        flops = count_flops(one)
        for _ in range(2):  # warm-up
            one()
        times = [_timed(one, device) for _ in range(opts.translate_reps)]
    finally:
        gen.train()
    seconds = statistics.median(times)
    return {
        "batch": batch,
        "chunk": min(chunk, batch),
        "latency_ms": seconds * 1e3,
        "images_per_s": batch / seconds,
        "flops_per_image": flops / batch,
        "flops_per_s": flops / seconds,
    }


def measure_data(trainer: Any, root: Path, size: int, reps: int = 5) -> dict[str, Any]:
    """Decode rate of the folder and assembly rate of cached batches, in images/s."""
    from latentbridge.data.folders import decode_all, list_images

    paths = [p for d in DOMAINS for p in list_images(root / d)]
    t0 = time.perf_counter()
    decode_all(paths, size)
    decode_s = time.perf_counter() - t0
    t = trainer.cfg.train
    times = []
    for k in range(reps):
        t0 = time.perf_counter()
        trainer.micro_batches(1000 + k)  # steps the timed run never reaches: no cache effects
        times.append(time.perf_counter() - t0)
    per_step = t.batch_size * len(trainer.data.domains)
    return {
        "decode_images_per_s": len(paths) / decode_s,
        "batch_images_per_s": per_step / statistics.median(times),
        "workers": trainer.cfg.data.workers,
    }


def run_bench(opts: BenchOptions) -> dict[str, Any]:
    """Every measurement of the module docstring for ``opts``; returns the JSON-able report."""
    from latentbridge.compiling import check_compile
    from latentbridge.train import distributed
    from latentbridge.train.trainer import Trainer

    check_options(opts)
    if opts.threads is not None:
        torch.set_num_threads(opts.threads)
    device = distributed.resolve_device(opts.device)
    cfg = run_config(opts)
    precision = resolve_precision(cfg.train.precision, device)
    check_native(precision, device)
    check_compile(cfg.train.compile, precision, device.type)  # before the peaks, not after
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    # The peak is measured before and after the model runs and the higher one kept: on a
    # machine whose cores are shared, one burst may have been slowed by a neighbour.
    peaks = measure_peaks(device, opts.peak_sides, opts.peak_seconds) if opts.peak else {}
    with tempfile.TemporaryDirectory(prefix="latentbridge-bench-") as tmp:
        root = write_dataset(Path(tmp) / "data", cfg.data.size)
        t0 = time.perf_counter()
        trainer = Trainer(cfg, data=root, run=Path(tmp) / "run", device=str(device))
        setup_s = time.perf_counter() - t0
        data = measure_data(trainer, root, cfg.data.size)
        train = measure_training(trainer, opts)
        translate = [measure_translation(trainer, opts, b) for b in TRANSLATE_BATCHES]
    ranks = trainer.dist
    del trainer  # its DDP modules hold the process group (distributed.teardown)
    if opts.peak:
        after = measure_peaks(device, opts.peak_sides, opts.peak_seconds)
        peaks = {k: max(v, after[k]) for k, v in peaks.items()}
    _add_utilisation(train, translate, data, peaks, precision)
    report = {
        "machine": machine_info(device),
        "config": _report_config(cfg, opts, precision),
        "peak_flops_per_s": peaks,
        "train": train,
        "translate": translate,
        "data": data,
        "setup_s": setup_s,
        "peak_memory_mb": peak_memory_mb(device),
    }
    report = combine_ranks(report)
    distributed.barrier(ranks)  # no rank leaves while another still talks to it
    distributed.teardown(ranks)
    return report


def _add_utilisation(
    train: dict[str, Any],
    translate: list[dict[str, Any]],
    data: dict[str, Any],
    peaks: dict[str, float],
    precision: str,
) -> None:
    """Each measurement's share of the machine's peak, and what the training consumed of the
    data loader's speed, written into the measurements."""
    data["consumed_images_per_s"] = train["images_per_s"]
    data["compute_fraction"] = train.pop("compute_fraction")
    train["utilisation"] = utilisation(train["flops_per_s"], peaks, precision)
    drift = train.pop("drift")
    if drift:
        train["utilisation"]["matched_fp32"] = drift["matched_fp32"]
        train["probe_flops_per_s"] = drift["probe_flops_per_s"]
    for t in translate:
        t["utilisation"] = utilisation(t["flops_per_s"], peaks, precision)


def _report_config(cfg: Config, opts: BenchOptions, precision: str) -> dict[str, Any]:
    """What was measured: the report's ``config`` (one rank's; `combine_ranks` counts them)."""
    return {
        "method": cfg.method,
        "size": cfg.data.size,
        "batch_size": cfg.train.batch_size,
        "precision": precision,
        "compile": cfg.train.compile,
        "workers": cfg.data.workers,
        "steps": opts.steps,
        "warmup": opts.warmup,
        "overrides": opts.overrides,
        "ranks": 1,
    }
