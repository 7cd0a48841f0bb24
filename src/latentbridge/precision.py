"""Numeric precision of a run: which one ``auto`` means on a device, and its autocast context.

Training (``train.precision``, ``--precision``) and inference (``latentbridge.load(...,
precision=)``, ``translate --precision``) share these, so ``auto`` means the same everywhere:
bf16 where the device computes it natively, fp32 elsewhere.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import torch

from latentbridge.errors import UserError


def bf16_supported(device: torch.device) -> bool:
    """Whether the device has native bf16 arithmetic (AVX-512 BF16 / AMX on a CPU, Ampere+)."""
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device.type == "cpu":
        return bool(
            torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
        )
    return False


def resolve_precision(precision: str, device: torch.device) -> str:
    """``auto`` -> ``bf16`` where the device computes it natively (measured faster at no cost in
    quality: docs/PERFORMANCE.md, docs/RESULTS.md), else ``fp32``; other values unchanged."""
    if precision != "auto":
        return precision
    return "bf16" if bf16_supported(device) else "fp32"


def check_native(precision: str, device: torch.device) -> None:
    """Refuse bf16 where the device has no native bf16: autocast would still run, emulated and
    many times slower (oneDNN's reference convolution on a CPU without AVX-512 BF16 / AMX)."""
    if precision == "bf16" and not bf16_supported(device):
        raise UserError(
            f"precision bf16: {device.type} here has no native bf16 arithmetic (it would be "
            "emulated, many times slower); use fp32 or auto"
        )


def autocast_factory(precision: str, device: torch.device) -> Callable[[], Any]:
    """A zero-argument factory of the autocast context for a resolved ``precision``."""
    if precision == "fp32":
        return contextlib.nullcontext
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    if precision == "fp16" and device.type != "cuda":
        raise UserError("precision fp16 needs a CUDA device; use bf16 on the CPU")
    return lambda: torch.autocast(device.type, dtype=dtype)
