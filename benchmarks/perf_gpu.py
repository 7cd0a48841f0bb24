"""GPU tables for docs/PERFORMANCE.md: every preset at the GPU architectures, optimisations side by
side, pairs/s against batch size and the largest batch that fits a memory cap.

Usage: python benchmarks/perf_gpu.py [--device cuda] [--sizes 128,256] [--methods all]
       [--steps 10] [--cap-gib 12] [--cap-size 256] [--ab-batch 128:32,256:12]
       [--parts peaks,ab,profile,cap,presets] [--out DIR]

Each size uses ``configs/faces{size}.yaml`` (architecture, batch size, the file's preset). In one
process, in this order; every part's numbers go to ``DIR/perf_gpu.json`` as soon as they exist, so
a run cut short keeps what it measured:

1. ``peaks``: the device's fp32 and bf16 matmul peaks (:func:`latentbridge.bench.measure_peaks`),
   measured again at the end; the higher of the two counts.
2. ``ab``: side by side at each size (and at ``--ab-batch`` sizes), the file's preset: bf16
   autocast with cuDNN's heuristic algorithms and NCHW tensors (the package's code) against one
   change each — cuDNN autotuning, channels-last networks, fp32. One cached batch, steps
   interleaved A B C D round by round; ratio = the bf16 reference's median step time / the
   variant's (> 1: the variant is faster).
3. ``profile``: where one step's wall time goes (torch.profiler): device busy time, kernel
   launches and host ops per step, the top host and device ops.
4. ``cap``: pairs/s of the file's preset at ``--cap-size`` for batch 1, 2, 4, ... and the largest
   ``train.batch_size`` whose training steps fit in ``--cap-gib`` GiB: the caching allocator is
   capped with ``torch.cuda.set_per_process_memory_fraction`` (an allocation beyond it raises out
   of memory), batches double until one does not fit, then bisection. The CUDA context itself
   (some hundreds of MiB outside the allocator) is not counted. CUDA only.
5. ``presets``: :func:`latentbridge.bench.run_bench` for every preset at each size, bf16, the
   file's architecture and batch size: the same table as for the CPU (benchmarks/perf_presets.py).

A run on the CPU (``--device cpu --sizes 32``) exercises everything but ``cap``.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from latentbridge import bench, config, methods
from latentbridge.nn import networks
from latentbridge.train.distributed import resolve_device
from latentbridge.train.trainer import Trainer

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
VARIANTS = {  # name -> (precision, cuDNN autotuning, channels-last networks)
    "bf16": ("bf16", False, False),  # the reference: bf16 autocast, heuristic algorithms, NCHW
    "autotune": ("bf16", True, False),  # torch.backends.cudnn.benchmark = True
    "channels_last": ("bf16", False, True),
    "fp32": ("fp32", False, False),  # convolutions in TF32 (PyTorch's default), matmuls fp32
}


def size_file(size: int) -> dict[str, Any]:
    path = CONFIGS / f"faces{size}.yaml"
    if not path.is_file():
        raise SystemExit(f"no {path}: --sizes takes sizes with a configs/faces<size>.yaml")
    return config.load_yaml(path)


def machine(device: torch.device) -> dict[str, Any]:
    """``bench.machine_info`` plus, on CUDA, the card's memory, cuDNN, TF32 flags and driver."""
    info = bench.machine_info(device)
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info |= {
            "memory_gib": props.total_memory / 2**30,
            "multiprocessors": props.multi_processor_count,
            "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version(),
            "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
            "tf32_cudnn": torch.backends.cudnn.allow_tf32,
        }
        try:
            info["driver"] = subprocess.run(
                ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=20,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return info


def free(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


@contextmanager
def channels_last(on: bool) -> Iterator[None]:
    """Networks built inside use channels-last tensors and weights when ``on``."""
    saved = networks.MEMORY_FORMAT
    networks.MEMORY_FORMAT = torch.channels_last if on else torch.contiguous_format
    try:
        yield
    finally:
        networks.MEMORY_FORMAT = saved


def make_trainer(
    file: dict[str, Any], root: Path, run: Path, device: torch.device, **over: Any
) -> Trainer:
    over = {"data.workers": 0, "train.warmup": 0, **over}  # warmup 0: the full step, always
    cfg = methods.resolve(None, file=file, overrides=over)
    return Trainer(cfg, data=root, run=run, device=str(device))


def side_by_side(
    file: dict[str, Any],
    root: Path,
    tmp: Path,
    device: torch.device,
    rounds: int,
    warmup: int,
    batch_size: int | None = None,
) -> dict[str, Any]:
    trainers = {}
    over = {} if batch_size is None else {"train.batch_size": batch_size}
    for name, (precision, _, cl) in VARIANTS.items():
        if precision == "bf16" and not bench.bf16_supported(device):
            continue
        with channels_last(cl):
            trainers[name] = make_trainer(
                file, root, tmp / f"ab_{name}", device, **over, **{"train.precision": precision}
            )
    batch = next(iter(trainers.values())).micro_batches(0)
    times: dict[str, list[float]] = {n: [] for n in trainers}
    for r in range(warmup + rounds):
        for name, tr in trainers.items():
            torch.backends.cudnn.benchmark = VARIANTS[name][1]
            bench.sync(device)
            t0 = time.perf_counter()
            tr.one_step(batch)
            bench.sync(device)
            if r >= warmup:
                times[name].append(time.perf_counter() - t0)
    torch.backends.cudnn.benchmark = False
    ref = statistics.median(times["bf16"]) if "bf16" in times else None
    out = {}
    for name, ts in times.items():
        med = statistics.median(ts)
        out[name] = {"step_ms": med * 1e3, "ratio": ref / med if ref else None, "steps_ms": ts}
    out["batch_size"] = next(iter(trainers.values())).cfg.train.batch_size
    del trainers
    free(device)
    return out


def profile_steps(
    file: dict[str, Any], root: Path, tmp: Path, device: torch.device, steps: int = 3
) -> dict[str, Any]:
    """Where a step's wall time goes: device kernel time and launches per step, top ops.

    ``gpu_busy`` = the summed duration of the device's kernels and copies / wall time; far
    below 1 means the device waits for the host to issue work (launch-bound)."""
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    tr = make_trainer(file, root, tmp / "prof", device)
    micro = tr.micro_batches(0)
    for _ in range(3):
        tr.one_step(micro)
    bench.sync(device)
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=acts) as prof:
        t0 = time.perf_counter()
        for _ in range(steps):
            tr.one_step(micro)
        bench.sync(device)
        wall = (time.perf_counter() - t0) / steps
    kernels = [e for e in prof.events() if e.device_type == DeviceType.CUDA]
    busy = sum(e.time_range.elapsed_us() for e in kernels) / 1e6 / steps
    avgs = prof.key_averages()
    top_cpu = sorted(avgs, key=lambda e: e.self_cpu_time_total, reverse=True)[:12]
    top_dev = sorted(avgs, key=lambda e: e.self_device_time_total, reverse=True)[:8]
    out = {
        "batch_size": tr.cfg.train.batch_size,
        "wall_ms": wall * 1e3,
        "device_busy_ms": busy * 1e3,
        "gpu_busy": busy / wall if kernels else None,
        "launches_per_step": len(kernels) / steps,
        "cpu_ops_per_step": sum(e.count for e in avgs if e.device_type == DeviceType.CPU) / steps,
        "top_cpu_self_ms": {
            e.key: [e.self_cpu_time_total / 1e3 / steps, e.count / steps] for e in top_cpu
        },
        "top_device_ms": {
            e.key: [e.self_device_time_total / 1e3 / steps, e.count / steps] for e in top_dev
        },
    }
    del tr
    free(device)
    return out


def largest_fitting(fits: Callable[[int], bool], limit: int = 4096) -> tuple[int, int | None]:
    """(largest batch for which ``fits`` holds, smallest tried that failed or None).

    Doubles from 1 until a batch fails (or ``limit``), then bisects between the last that fitted
    and the first that failed; assumes fitting is monotone in the batch size."""
    lo, hi = 0, None
    b = 1
    while b <= limit:
        if not fits(b):
            hi = b
            break
        lo, b = b, 2 * b
    if hi is None:
        return lo, None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid
    return lo, hi


def memory_cap(
    file: dict[str, Any], root: Path, tmp: Path, device: torch.device, cap_gib: float, steps: int
) -> dict[str, Any]:
    total = torch.cuda.get_device_properties(device).total_memory
    free(device)
    torch.cuda.set_per_process_memory_fraction(min(1.0, cap_gib * 2**30 / total), device)
    tried: dict[int, dict[str, Any]] = {}

    def fits(b: int) -> bool:
        free(device)
        torch.cuda.reset_peak_memory_stats(device)
        timed = b & (b - 1) == 0  # powers of two: timed (pairs/s); bisection: fit only
        try:
            tr = make_trainer(file, root, tmp / f"cap{b}", device, **{"train.batch_size": b})
            micro = tr.micro_batches(0)
            ts = []
            for i in range(2 + (steps if timed else 0)):
                bench.sync(device)
                t0 = time.perf_counter()
                tr.one_step(micro)
                bench.sync(device)
                if i >= 2:
                    ts.append(time.perf_counter() - t0)
            row: dict[str, Any] = {"fits": True}
            row["peak_mib"] = torch.cuda.max_memory_allocated(device) / 2**20
            if ts:
                row["step_ms"] = statistics.median(ts) * 1e3
                row["pairs_per_s"] = b / statistics.median(ts)
        except RuntimeError as exc:  # out of memory, also as cuDNN's CUDNN_STATUS_ALLOC_FAILED
            row = {"fits": False, "error": f"{type(exc).__name__}: {str(exc)[:160]}"}
        tried[b] = row
        print(f"  batch {b}: {row}", flush=True)
        return bool(row["fits"])

    try:
        largest, first_fail = largest_fitting(fits)
    finally:
        free(device)
        torch.cuda.set_per_process_memory_fraction(1.0, device)
    return {
        "cap_gib": cap_gib,
        "largest_batch": largest,
        "first_failing_batch": first_fail,
        "tried": {str(k): v for k, v in sorted(tried.items())},
    }


def presets(
    file: dict[str, Any],
    names: list[str],
    device: torch.device,
    steps: int,
    warmup: int,
    out: dict[str, Any],
    emit: Callable[[], None],
) -> None:
    """Fills ``out[name]`` with each preset's bench report (or its error), calling ``emit``."""
    for name in names:
        opts = bench.BenchOptions(
            method=name,
            file=file,
            device=str(device),
            precision="bf16" if bench.bf16_supported(device) else "fp32",
            steps=steps,
            warmup=warmup,
            translate_reps=5,
            peak=False,
            probe=False,
            overrides={"train.warmup": 0},  # bridge: its full step, not the AE warm-up
        )
        try:
            out[name] = bench.run_bench(opts)
        except Exception as exc:  # one preset failing must not lose the others' numbers
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
        print(f"  {name}: {_preset_line(out[name])}", flush=True)
        free(device)
        emit()


def _preset_line(r: dict[str, Any]) -> str:
    if "error" in r:
        return r["error"]
    t = r["train"]
    return f"{t['step_s'] * 1e3:.1f} ms/step, {t['flops_per_s'] / 1e12:.2f} TFLOP/s"


def tables(res: dict[str, Any]) -> str:
    """Markdown tables of everything measured so far."""
    peaks = res.get("peaks", {})
    lines = [f"machine: {res['machine']}", f"peaks: {peaks}"]
    for size, ab in res.get("ab", {}).items():
        lines += [f"\nside by side, {size} px, batch {ab.get('batch_size')}:"]
        lines += ["| variant | step ms | ratio vs bf16 |", "|---|---|---|"]
        for name, row in ab.items():
            if name == "batch_size":
                continue
            ratio = f"x{row['ratio']:.2f}" if row["ratio"] else "-"
            lines.append(f"| {name} | {row['step_ms']:.2f} | {ratio} |")
    for size, p in res.get("profile", {}).items():
        busy = f"{p['gpu_busy']:.0%}" if p["gpu_busy"] is not None else "-"
        lines += [
            f"\nprofile, {size} px batch {p['batch_size']}: {p['wall_ms']:.1f} ms/step wall, "
            f"device busy {p['device_busy_ms']:.1f} ms ({busy}), "
            f"{p['launches_per_step']:.0f} kernels/step, {p['cpu_ops_per_step']:.0f} host ops/step",
            "top host ops (self ms/step, calls/step): "
            + "; ".join(f"{k} {v[0]:.1f}/{v[1]:.0f}" for k, v in p["top_cpu_self_ms"].items()),
            "top device ops: "
            + "; ".join(f"{k[:50]} {v[0]:.2f}/{v[1]:.0f}" for k, v in p["top_device_ms"].items()),
        ]
    if "cap" in res:
        c = res["cap"]
        lines += [f"\nbatch vs pairs/s and the {c['cap_gib']} GiB cap:"]
        lines += ["| batch | fits | step ms | pairs/s | peak MiB |", "|---|---|---|---|---|"]
        for b, row in c["tried"].items():
            step = f"{row['step_ms']:.1f}" if "step_ms" in row else "-"
            pairs = f"{row['pairs_per_s']:.0f}" if "pairs_per_s" in row else "-"
            mib = f"{row['peak_mib']:.0f}" if "peak_mib" in row else "-"
            lines.append(f"| {b} | {row['fits']} | {step} | {pairs} | {mib} |")
        lines.append(f"largest batch in {c['cap_gib']} GiB: {c['largest_batch']}")
    fp32, bf16 = peaks.get("fp32"), peaks.get("bf16")
    for size, rows in res.get("presets", {}).items():
        lines += [
            f"\npresets, {size} px:",
            "| preset | batch | step ms | pairs/s | GFLOP/step | TFLOP/s | % fp32 peak | "
            "% bf16 peak | translate b1 ms | translate b64 img/s | b64 % bf16 peak | "
            "compute share | peak MiB |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for name, r in rows.items():
            if "error" in r:
                lines.append(f"| {name} | {r['error']} |")
                continue
            t, b1, b64 = r["train"], r["translate"][0], r["translate"][-1]
            fs = t["flops_per_s"]
            lines.append(
                f"| {name} | {r['config']['batch_size']} | {t['step_s'] * 1e3:.1f} | "
                f"{t['pairs_per_s']:.0f} | {t['flops_per_step'] / 1e9:.1f} | {fs / 1e12:.2f} | "
                + (f"{fs / fp32:.0%} | " if fp32 else "- | ")
                + (f"{fs / bf16:.0%} | " if bf16 else "- | ")
                + f"{b1['latency_ms']:.2f} | {b64['images_per_s']:.0f} | "
                + (f"{b64['flops_per_s'] / bf16:.0%} | " if bf16 else "- | ")
                + f"{r['data']['compute_fraction']:.1%} | {r['peak_memory_mb']:.0f} |"
            )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--sizes", default="128,256")
    ap.add_argument("--methods", default="all")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--cap-gib", type=float, default=12.0)
    ap.add_argument("--cap-size", type=int, default=256)
    ap.add_argument(
        "--ab-batch",
        default="",
        help="also side by side at these batch sizes, e.g. 128:32,256:12 (size:batch)",
    )
    ap.add_argument("--parts", default="peaks,ab,profile,cap,presets")
    ap.add_argument("--out", type=Path, default=Path("perf_gpu_out"))
    args = ap.parse_args()
    device = resolve_device(args.device)
    sizes = [int(s) for s in args.sizes.split(",")]
    names = list(methods.REGISTRY) if args.methods == "all" else args.methods.split(",")
    parts = set(args.parts.split(","))
    args.out.mkdir(parents=True, exist_ok=True)
    res: dict[str, Any] = {"machine": machine(device), "started": time.strftime("%F %T %Z")}
    t_start = time.perf_counter()

    def emit() -> None:
        res["seconds"] = time.perf_counter() - t_start
        (args.out / "perf_gpu.json").write_text(json.dumps(res, indent=1, default=str) + "\n")

    print(res["machine"], flush=True)
    if "peaks" in parts:
        res["peaks"] = bench.measure_peaks(device)
        print("peaks", res["peaks"], flush=True)
        emit()
    with tempfile.TemporaryDirectory(prefix="perf-gpu-") as tmp_name:
        tmp = Path(tmp_name)
        roots = {s: bench.write_dataset(tmp / f"data{s}", s) for s in {*sizes, args.cap_size}}
        for spec in filter(None, args.ab_batch.split(",")):
            s = int(spec.split(":")[0])
            roots.setdefault(s, bench.write_dataset(tmp / f"data{s}", s))
        if "ab" in parts:
            res["ab"] = {}
            for s in sizes:
                print(f"side by side {s} px", flush=True)
                res["ab"][s] = side_by_side(size_file(s), roots[s], tmp, device, 10, args.warmup)
                emit()
            for spec in filter(None, args.ab_batch.split(",")):
                s, b = (int(v) for v in spec.split(":"))
                print(f"side by side {s} px batch {b}", flush=True)
                res["ab"][f"{s}/b{b}"] = side_by_side(
                    size_file(s), roots[s], tmp, device, 10, args.warmup, batch_size=b
                )
                emit()
        if "profile" in parts:
            res["profile"] = {}
            for s in sizes:
                print(f"profile {s} px", flush=True)
                res["profile"][s] = profile_steps(size_file(s), roots[s], tmp, device)
                emit()
        if "cap" in parts and device.type == "cuda":
            print(f"memory cap {args.cap_gib} GiB at {args.cap_size} px", flush=True)
            res["cap"] = memory_cap(
                size_file(args.cap_size), roots[args.cap_size], tmp, device, args.cap_gib, 5
            )
            emit()
    if "presets" in parts:
        res["presets"] = {}
        for s in sizes:
            print(f"presets {s} px", flush=True)
            res["presets"][s] = {}
            presets(size_file(s), names, device, args.steps, args.warmup, res["presets"][s], emit)
    if "peaks" in parts:
        after = bench.measure_peaks(device)
        res["peaks_after"] = after
        res["peaks"] = {k: max(v, after[k]) for k, v in res["peaks"].items()}
    emit()
    text = tables(res)
    (args.out / "perf_gpu.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
