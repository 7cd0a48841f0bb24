"""Numeric precision of a run: which one ``auto`` means on a device, and its autocast context.

Training (``train.precision``, ``--precision``) and inference (``latentbridge.load(...,
precision=)``, ``translate --precision``) share these, so ``auto`` means the same everywhere:
bf16 where the device computes it natively (:func:`bf16_native`), fp32 elsewhere. A CPU with
AVX-512 but without its BF16 extension or AMX runs bf16 too, emulated by oneDNN and about half as
fast as fp32 (docs/PERFORMANCE.md, section AA): ``auto`` takes fp32 there, and an explicit
``bf16`` still runs. Only where oneDNN has no bf16 kernels at all is bf16 refused.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from typing import Any

import torch

from latentbridge.errors import UserError


def bf16_supported(device: torch.device) -> bool:
    """Whether bf16 runs at a usable speed: on a CPU, oneDNN's bf16 kernels (native with AVX-512
    BF16 or AMX, emulated with AVX-512 alone); on CUDA, bf16 arithmetic, native or emulated."""
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device.type == "cpu":
        return bool(
            torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
        )
    return False


def bf16_native(device: torch.device) -> bool:
    """Whether the device computes bf16 in hardware: a CPU with AVX-512 BF16 or AMX, a GPU of
    compute capability 8.0 or more. oneDNN's own check (:func:`bf16_supported`) is true on any
    AVX-512 CPU, where bf16 is emulated: a training step of the demo's model took 1.9x as long
    as in fp32 (docs/PERFORMANCE.md, section AA)."""
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported(including_emulation=False))
    if device.type != "cpu" or not bf16_supported(device):
        return False
    checks = [
        getattr(torch.cpu, n, None) for n in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    ]
    return any(bool(check()) for check in checks if check is not None)


def bf16_kind(device: torch.device) -> str:
    """How the device computes bf16: ``native``, ``emulated`` (slower than fp32) or ``none``."""
    if bf16_native(device):
        return "native"
    return "emulated" if bf16_supported(device) else "none"


def resolve_precision(precision: str, device: torch.device) -> str:
    """``auto`` -> ``bf16`` where the device computes it natively (measured faster at no cost in
    quality: docs/PERFORMANCE.md, docs/RESULTS.md), else ``fp32``; other values unchanged."""
    if precision != "auto":
        return precision
    return "bf16" if bf16_native(device) else "fp32"


def check_native(precision: str, device: torch.device) -> None:
    """Refuse bf16 where the device has no bf16 kernels: autocast would still run, many times
    slower (oneDNN's reference convolution on a CPU without AVX-512). Where bf16 is emulated
    (AVX-512 without its BF16 extension or AMX) it runs, about half as fast as fp32, with a note
    on stderr saying so."""
    if precision == "bf16" and not bf16_supported(device):
        raise UserError(
            f"precision bf16: {device.type} here has no bf16 kernels, native or emulated (it "
            "would run many times slower); use fp32 or auto"
        )
    if precision == "bf16" and not bf16_native(device):
        lacks = "AVX-512 BF16 or AMX" if device.type == "cpu" else "bf16 units"
        print(
            f"note: bf16 is emulated on this {device.type} (no {lacks}), slower than fp32; "
            "precision auto would use fp32",
            file=sys.stderr,
        )


def autocast_factory(precision: str, device: torch.device) -> Callable[[], Any]:
    """A zero-argument factory of the autocast context for a resolved ``precision``."""
    if precision == "fp32":
        return contextlib.nullcontext
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    if precision == "fp16" and device.type != "cuda":
        raise UserError("precision fp16 needs a CUDA device; use bf16 on the CPU")
    return lambda: torch.autocast(device.type, dtype=dtype)
