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

Where each part lives: ``machine`` (the peaks, the bursts timed beside each step, FLOP counts,
memory, what the device is), ``measure`` (the options and the measurements of 2-4), ``report``
(utilisation, the machine's totals over ranks, the table) and ``command`` (the CLI). Every name
is importable from the package itself.
"""

from __future__ import annotations

from latentbridge.bench.command import EXAMPLE, add_bench_parser, cmd_bench
from latentbridge.bench.machine import (
    GPU_PEAK_SIDES,
    PEAK_SECONDS,
    PEAK_SIDES,
    PEAK_TRIALS,
    PROBE_SECONDS,
    PROBE_SIDE,
    count_flops,
    machine_info,
    matmul_peak,
    measure_peaks,
    peak_memory_mb,
    probe_rate,
    sync,
)
from latentbridge.bench.measure import (
    DOMAINS,
    IMAGES_PER_DOMAIN,
    TRANSLATE_BATCHES,
    BenchOptions,
    check_options,
    measure_data,
    measure_training,
    measure_translation,
    run_bench,
    run_config,
    write_dataset,
)
from latentbridge.bench.report import combine_ranks, format_report, utilisation

__all__ = [
    "BenchOptions",
    "DOMAINS",
    "EXAMPLE",
    "GPU_PEAK_SIDES",
    "IMAGES_PER_DOMAIN",
    "PEAK_SECONDS",
    "PEAK_SIDES",
    "PEAK_TRIALS",
    "PROBE_SECONDS",
    "PROBE_SIDE",
    "TRANSLATE_BATCHES",
    "add_bench_parser",
    "check_options",
    "cmd_bench",
    "combine_ranks",
    "count_flops",
    "format_report",
    "machine_info",
    "matmul_peak",
    "measure_data",
    "measure_peaks",
    "measure_training",
    "measure_translation",
    "peak_memory_mb",
    "probe_rate",
    "run_bench",
    "run_config",
    "sync",
    "utilisation",
    "write_dataset",
]
