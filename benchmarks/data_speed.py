"""Measure how fast the benchmark generators write images; prints a markdown table.

Usage: .venv/bin/python benchmarks/data_speed.py [--n-train 2000] [--n-test 250] [--workers 0 2]

Each faces run writes 2 x (n_train + n_test) PNGs (photo and cartoon) into a temporary folder,
timed end to end (cartoon structure pool, rendering, PNG writing, labels, README, preview).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from latentbridge.data.digits import generate_digits
from latentbridge.data.faces import generate_faces


def time_faces(size: int, n_train: int, n_test: int, workers: int) -> tuple[int, float]:
    """(images written, seconds) for one faces run."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        generate_faces(
            Path(tmp) / "faces", size=size, n_train=n_train, n_test=n_test, workers=workers
        )
        return 2 * (n_train + n_test), time.perf_counter() - t0


def time_digits(size: int) -> tuple[int, float]:
    """(images written, seconds) for the full digits benchmark (all three domains)."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        root = generate_digits(Path(tmp) / "digits", size=size)
        n = sum(1 for _ in root.rglob("*.png")) - 1  # minus preview.png
        return n, time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--n-train", type=int, default=2000)
    p.add_argument("--n-test", type=int, default=250)
    p.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    p.add_argument("--sizes", type=int, nargs="+", default=[32, 64])
    args = p.parse_args()
    load = os.getloadavg()[0]  # other processes on the machine skew the numbers: report it
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU cores, load average {load:.1f}\n")
    print("| benchmark | size | workers | images | seconds | images/s |")
    print("|---|---|---|---|---|---|")
    for size in args.sizes:
        for workers in args.workers:
            n, sec = time_faces(size, args.n_train, args.n_test, workers)
            print(
                f"| faces (photo + cartoon) | {size} | {workers} | {n} | {sec:.1f} | {n / sec:.0f} |"
            )
    for size in args.sizes:
        n, sec = time_digits(size)
        print(f"| digits (mnist + printed + uci) | {size} | 0 | {n} | {sec:.1f} | {n / sec:.0f} |")
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
