"""``latentbridge bench``: how close training and translation come to the machine's own peak.

In one process it measures
1. the matrix-multiply peak of the device (fp32, and bf16 where the CPU or GPU has it);
2. for one preset and image size: training pairs/s (median over timed steps after warm-up),
   FLOPs per step (:class:`torch.utils.flop_counter.FlopCounterMode` over one full step, both
   phases, forward and backward), achieved FLOP/s and the utilisation = achieved / measured peak;
   and, because a shared machine's speed drifts, the median utilisation of each step against a
   short fp32 matmul burst timed next to it (``utilisation.matched_fp32``);
3. translation images/s at batch 1 (latency) and batch 64, with their utilisation;
4. data loading: decoding the folder (images/s), assembling cached batches (images/s), what a
   training step consumes (images/s), and the share of the training wall time spent computing
   when batches come through the training loop's own prefetching;
5. peak memory (CUDA: allocator peak; CPU: the process's peak resident set).

The dataset is a temporary folder of random PNGs (two domains) at the chosen size, written by the
bench itself. Numbers are measured, never estimated; a timing is a median over repetitions.

Under ``torchrun`` (data-parallel training, e.g. one single-threaded rank per CPU core) every rank
runs all of the above at the same time and the report is the machine's: peaks, FLOPs and FLOP/s
are summed over ranks (each rank's peak is timed while the other ranks time theirs), training
steps are global steps, and rank 0 prints and writes the JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.flop_counter import FlopCounterMode

from latentbridge.errors import UserError
from latentbridge.precision import bf16_supported, check_native, resolve_precision

DOMAINS = ("A", "B")
IMAGES_PER_DOMAIN = 128  # enough for several distinct batches of 64 without a long decode
TRANSLATE_BATCHES = (1, 64)  # the latency and throughput batch sizes
PEAK_SIDES = (1024, 2048)  # square matmul sides tried for the peak on a CPU; the best rate counts
# A GPU needs far larger products than a CPU to keep all its matrix units busy.
GPU_PEAK_SIDES = (4096, 8192)
PEAK_SECONDS = 0.4  # minimum duration of one timed burst of matmuls
PEAK_TRIALS = 3  # bursts per (dtype, side); the fastest burst is the peak
PROBE_SIDE, PROBE_SECONDS = 1024, 0.1  # the fp32 matmul burst timed around every training step


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


# --- timing helpers ------------------------------------------------------------------------------


def sync(device: torch.device) -> None:
    """Wait for queued device work, so a wall-clock interval covers what it claims to."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def _timed(fn: Callable[[], Any], device: torch.device) -> float:
    """Seconds one call of ``fn`` takes, device work included."""
    sync(device)
    t0 = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - t0


def matmul_peak(
    device: torch.device,
    dtype: torch.dtype,
    sides: tuple[int, ...] = PEAK_SIDES,
    seconds: float = PEAK_SECONDS,
    trials: int = PEAK_TRIALS,
) -> float:
    """The best measured FLOP/s of a square matmul (2 n^3 FLOPs) over ``sides`` and bursts.

    Each burst repeats the product for at least :data:`PEAK_SECONDS`; the peak is the fastest
    burst, the rate the hardware demonstrably reaches with this library build.
    """
    best = 0.0
    for n in sides:
        a = torch.randn(n, n, device=device).to(dtype)
        b = torch.randn(n, n, device=device).to(dtype)
        for _ in range(2):  # warm-up: library dispatch, clocks, caches
            torch.mm(a, b)
        sync(device)
        for _ in range(trials):
            reps, t0 = 0, time.perf_counter()
            while True:
                torch.mm(a, b)
                reps += 1
                if reps % 4 == 0:
                    sync(device)
                    if time.perf_counter() - t0 >= seconds:
                        break
            best = max(best, 2 * n**3 * reps / (time.perf_counter() - t0))
    return best


def probe_rate(device: torch.device) -> float:
    """FLOP/s of one short fp32 matmul burst: the machine's speed at this moment.

    A shared or thermally throttled machine drifts by tens of percent from minute to minute; the
    peak above is its best moment. Timing a burst next to every training step gives each step a
    denominator measured under the same conditions (``utilisation.matched_fp32``)."""
    return matmul_peak(device, torch.float32, (PROBE_SIDE,), PROBE_SECONDS, trials=1)


def measure_peaks(
    device: torch.device, sides: tuple[int, ...] | None = None, seconds: float = PEAK_SECONDS
) -> dict[str, float]:
    """``{"fp32": FLOP/s, "bf16": FLOP/s}`` (bf16 only where the device supports it).

    ``sides`` defaults to :data:`GPU_PEAK_SIDES` on CUDA and :data:`PEAK_SIDES` elsewhere."""
    if sides is None:
        sides = GPU_PEAK_SIDES if device.type == "cuda" else PEAK_SIDES
    dtypes = {"fp32": torch.float32}
    if bf16_supported(device):
        dtypes["bf16"] = torch.bfloat16
    return {k: matmul_peak(device, dt, sides, seconds) for k, dt in dtypes.items()}


def count_flops(fn: Callable[[], Any]) -> int:
    """FLOPs of one call of ``fn`` (convolutions, matmuls and their backward passes).

    Compiled networks (``train.compile``) run eagerly for this one call: the counter sees the
    aten operators, which a compiled graph hides, and the work is the same either way."""
    eager = getattr(torch.compiler, "set_stance", None)  # torch >= 2.6, as train.compile needs
    with eager("force_eager") if eager else nullcontext(), FlopCounterMode(display=False) as c:
        fn()
    return int(c.get_total_flops())


def peak_memory_mb(device: torch.device) -> float:
    """CUDA: the allocator's peak; otherwise the process's peak resident set size, in MiB."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return kib / 1024 if sys.platform != "darwin" else kib / 2**20


# --- the dataset ---------------------------------------------------------------------------------


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


# --- the measurements ----------------------------------------------------------------------------


def _config(opts: BenchOptions) -> Any:
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


def _utilisation(flops_per_s: float, peaks: dict[str, float], precision: str) -> dict[str, float]:
    """achieved / peak against the fp32 peak and against the peak of the precision used."""
    out = {"vs_fp32_peak": flops_per_s / peaks["fp32"]} if "fp32" in peaks else {}
    if precision in peaks:
        out["vs_precision_peak"] = flops_per_s / peaks[precision]
    return out


def run_bench(opts: BenchOptions) -> dict[str, Any]:
    """Every measurement of the module docstring for ``opts``; returns the JSON-able report."""
    from latentbridge.model import check_compile
    from latentbridge.train import distributed
    from latentbridge.train.loop import Trainer

    check_options(opts)
    if opts.threads is not None:
        torch.set_num_threads(opts.threads)
    device = distributed.resolve_device(opts.device)
    cfg = _config(opts)
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
    data["consumed_images_per_s"] = train["images_per_s"]
    data["compute_fraction"] = train.pop("compute_fraction")
    train["utilisation"] = _utilisation(train["flops_per_s"], peaks, precision)
    drift = train.pop("drift")
    if drift:
        train["utilisation"]["matched_fp32"] = drift["matched_fp32"]
        train["probe_flops_per_s"] = drift["probe_flops_per_s"]
    for t in translate:
        t["utilisation"] = _utilisation(t["flops_per_s"], peaks, precision)
    report = {
        "machine": machine_info(device),
        "config": {
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
        },
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


def combine_ranks(report: dict[str, Any]) -> dict[str, Any]:
    """The machine's report from every rank's own (a no-op outside ``torch.distributed``).

    Sums over ranks: peaks, FLOPs per step and FLOP/s of training and translation, translation
    images/s; the slowest rank's step time; the mean drift-matched utilisation. Utilisation is
    then recomputed from the sums, so it is machine FLOP/s against the machine's summed peak.
    """
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return report
    world = dist.get_world_size()

    def reduce(values: list[float], op: Any = dist.ReduceOp.SUM) -> list[float]:
        t = torch.tensor(values, dtype=torch.float64)
        dist.all_reduce(t, op=op)
        return t.tolist()

    peaks = report["peak_flops_per_s"]
    report["peak_flops_per_s"] = dict(zip(peaks, reduce(list(peaks.values())), strict=True))
    t = report["train"]
    t["flops_per_step"], t["flops_per_s"] = reduce([t["flops_per_step"], t["flops_per_s"]])
    (t["step_s"],) = reduce([t["step_s"]], dist.ReduceOp.MAX)
    matched = t["utilisation"].get("matched_fp32")
    precision = report["config"]["precision"]
    t["utilisation"] = _utilisation(t["flops_per_s"], report["peak_flops_per_s"], precision)
    if matched is not None:
        t["utilisation"]["matched_fp32"] = reduce([matched])[0] / world
    for tr in report["translate"]:
        tr["flops_per_s"], tr["images_per_s"] = reduce([tr["flops_per_s"], tr["images_per_s"]])
        tr["utilisation"] = _utilisation(tr["flops_per_s"], report["peak_flops_per_s"], precision)
    report["config"]["ranks"] = world
    return report


def machine_info(device: torch.device) -> dict[str, Any]:
    """What ran the bench: device name, threads, torch version and the load at the start."""
    import os
    import platform

    name = platform.processor() or platform.machine()
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    elif Path("/proc/cpuinfo").is_file():
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return {
        "device": str(device),
        "name": name,
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "loadavg_1min": load,
    }


# --- the report ----------------------------------------------------------------------------------


def _si(x: float, unit: str) -> str:
    """1.23e11 -> '123 G' + unit."""
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:.3g} {prefix}{unit}"
    return f"{x:.3g} {unit}"


def _pct(u: dict[str, float]) -> str:
    parts = [f"{u['vs_fp32_peak']:.0%} of fp32 peak"] if "vs_fp32_peak" in u else []
    if (
        "vs_precision_peak" in u
        and "vs_fp32_peak" in u
        and u["vs_precision_peak"] != u["vs_fp32_peak"]
    ):
        parts.append(f"{u['vs_precision_peak']:.0%} of its own")
    return ", ".join(parts) or "(no peak measured)"


def format_report(r: dict[str, Any]) -> str:
    """A plain-text table of :func:`run_bench`'s report."""
    m, c, t, d = r["machine"], r["config"], r["train"], r["data"]
    rows = [
        (
            "machine",
            f"{m['name']} ({m['device']}, {m['torch_threads']} threads, "
            f"load {m['loadavg_1min']:.2f}, torch {m['torch']})",
        ),
        (
            "run",
            f"{c['method']} {c['size']}px batch {c['batch_size']} {c['precision']}"
            + (f", compiled ({c['compile']})" if c.get("compile", "off") != "off" else "")
            + ", "
            f"{c['steps']} timed steps after {c['warmup']}"
            + (f", {c['ranks']} data-parallel ranks (machine totals)" if c["ranks"] > 1 else ""),
        ),
    ]
    for dtype, flops in r["peak_flops_per_s"].items():
        rows.append((f"matmul peak {dtype}", _si(flops, "FLOP/s")))
    rows += [
        ("train step", f"{t['step_s'] * 1e3:.1f} ms (median)"),
        ("train pairs/s", f"{t['pairs_per_s']:.1f}"),
        ("train FLOPs/step", _si(t["flops_per_step"], "FLOP")),
        ("train achieved", f"{_si(t['flops_per_s'], 'FLOP/s')} = {_pct(t['utilisation'])}"),
    ]
    if "matched_fp32" in t["utilisation"]:
        probes = t["probe_flops_per_s"]
        rows.append(
            (
                "train vs drift",
                f"{t['utilisation']['matched_fp32']:.0%} of the fp32 rate timed around each step "
                f"(median; bursts {_si(min(probes), '')}-{_si(max(probes), 'FLOP/s')})",
            )
        )
    for tr in r["translate"]:
        rows.append(
            (
                f"translate batch {tr['batch']}",
                f"{tr['images_per_s']:.1f} img/s, {tr['latency_ms']:.2f} ms/batch"
                + (
                    f" in chunks of {tr['chunk']}"
                    if tr.get("chunk", tr["batch"]) < tr["batch"]
                    else ""
                )
                + f", {_si(tr['flops_per_s'], 'FLOP/s')} = {_pct(tr['utilisation'])}",
            )
        )
    rows += [
        ("data decode", f"{d['decode_images_per_s']:.0f} img/s (from PNG folder)"),
        ("data batches", f"{d['batch_images_per_s']:.0f} img/s (cached, workers={d['workers']})"),
        ("step consumes", f"{d['consumed_images_per_s']:.0f} img/s"),
        ("compute share", f"{d['compute_fraction']:.1%} of training wall time"),
        ("peak memory", f"{r['peak_memory_mb']:.0f} MiB"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


# --- the command ---------------------------------------------------------------------------------

EXAMPLE = """
latentbridge bench                                   # baseline, 32 px, preset batch, auto device
latentbridge bench --method unit --size 64 --batch-size 32 --json bench_unit64.json
latentbridge bench --device cuda --size 256 --precision bf16 --batch-size 8
latentbridge bench --device cuda --config configs/faces256.yaml   # the 256 px GPU preset
"""


def add_bench_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``latentbridge bench`` (its options, a worked example and :func:`cmd_bench`)."""
    from latentbridge.cli import add_compile_argument, add_set_argument

    p = subparsers.add_parser(
        "bench",
        help="measure training/translation speed against the machine's matmul peak",
        description=(
            "Measure the device's matrix-multiply peak, then training pairs/s, FLOPs per step, "
            "utilisation (achieved / peak), translation images/s at batch 1 and 64, data "
            "loading rates and peak memory for one preset, on random images it writes itself."
        ),
        epilog="example:\n" + textwrap.indent(textwrap.dedent(EXAMPLE).strip(), "  "),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--method", help="a preset (see `latentbridge methods`; default: the config's, or baseline)"
    )
    p.add_argument("--config", type=Path, help="a YAML config file (architecture, batch, ...)")
    p.add_argument(
        "--size", type=int, help="image side in px (data.size; default: the config's, or 32)"
    )
    p.add_argument("--batch-size", type=int, help="images per domain per step (train.batch_size)")
    from latentbridge.cli import add_device_argument

    add_device_argument(p)
    p.add_argument(
        "--precision", choices=["auto", "fp32", "bf16", "fp16"], help="autocast (train.precision)"
    )
    add_compile_argument(p)
    p.add_argument("--steps", type=int, default=10, help="timed training steps (default 10)")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    p.add_argument(
        "--translate-reps", type=int, default=10, help="timed translations per batch size"
    )
    p.add_argument(
        "--translate-chunk",
        type=int,
        help="images per pass through the networks when translating (default: the package's, "
        "on the CPU 32768 pixels' worth; docs/PERFORMANCE.md, section Y)",
    )
    p.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's)")
    add_set_argument(p, "override a config key, e.g. model.width=64 (repeatable)")
    p.add_argument(
        "--no-peak",
        action="store_true",
        help="skip the matmul peak and the bursts timed around steps",
    )
    p.add_argument("--json", type=Path, help="also write the report to this JSON file")
    p.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    """Run the bench from parsed arguments; print the table and write ``--json``."""
    from latentbridge import config as C

    opts = BenchOptions(
        method=args.method,
        size=args.size,
        batch_size=args.batch_size,
        device=args.device,
        precision=args.precision,
        compile=args.compile,
        steps=args.steps,
        warmup=args.warmup,
        translate_reps=args.translate_reps,
        translate_chunk=args.translate_chunk,
        threads=args.threads,
        overrides=C.parse_set(args.set),
        file=C.load_yaml(args.config) if args.config else None,
        peak=not args.no_peak,
        probe=not args.no_peak,
        peak_sides=getattr(args, "peak_sides", None),
        peak_seconds=getattr(args, "peak_seconds", PEAK_SECONDS),
    )
    report = run_bench(opts)
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun rank 0 speaks for the machine
        return 0
    print(format_report(report))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, default=_json_default) + "\n")
        print(f"wrote {args.json}")
    return 0


def _json_default(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
