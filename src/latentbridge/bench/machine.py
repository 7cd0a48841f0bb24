"""The machine under the bench: its matrix-multiply peak, a burst timed beside each step,
FLOP counts, peak memory and what the device is."""

from __future__ import annotations

import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from latentbridge.precision import bf16_kind, bf16_supported

PEAK_SIDES = (1024, 2048)  # square matmul sides tried for the peak on a CPU; the best rate counts
# A GPU needs far larger products than a CPU to keep all its matrix units busy.
GPU_PEAK_SIDES = (4096, 8192)
PEAK_SECONDS = 0.4  # minimum duration of one timed burst of matmuls
PEAK_TRIALS = 3  # bursts per (dtype, side); the fastest burst is the peak
PROBE_SIDE, PROBE_SECONDS = 1024, 0.1  # the fp32 matmul burst timed around every training step


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


def machine_info(device: torch.device) -> dict[str, Any]:
    """What ran the bench: device name, threads, torch version, the load at the start, and how
    the device computes bf16 (``native``, ``emulated`` by oneDNN on an AVX-512 CPU without its
    BF16 extension or AMX, or ``none``)."""
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
        "bf16": bf16_kind(device),
    }
