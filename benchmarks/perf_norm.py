"""Normalisation kernels side by side: forward + backward of instance norm, by layout and dtype.

Usage: .venv/bin/python benchmarks/perf_norm.py [--threads 1] [--batch 16] [--lin]

Compares PyTorch's ``InstanceNorm2d`` (a reshape to batch norm), the group-norm kernel with one
group per channel (``latentbridge.nn.blocks.InstanceNorm2d``) and a composite of ``var_mean``,
on NCHW and channels-last tensors in fp32 and bf16, at the decoder's 64 px shapes. With
``--lin``: U-GAT-IT's layer-instance norm as ``LayerInstanceNorm2d`` computes it (the affine
inside two group-norm passes) against the two normalised tensors mixed and then scaled, beside
instance norm, at the light model's 32 px shapes. Prints the fastest of ``--reps`` timings in ms
as a markdown table.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from latentbridge.nn.blocks import InstanceNorm2d, LayerInstanceNorm2d

SHAPES = ((32, 64), (64, 32), (128, 16))  # (channels, side) of the 64 px encoder/decoder
LIGHT_SHAPES = ((16, 32), (32, 16), (64, 8))  # the light model (width 16, max 64) at 32 px


class Composite(nn.InstanceNorm2d):
    """Instance norm written out (var_mean, scale, shift): autograd runs every pass."""

    def forward(self, x: Tensor) -> Tensor:
        var, mean = torch.var_mean(x, (2, 3), keepdim=True, correction=0)
        y = (x - mean) * torch.rsqrt(var + self.eps)
        return y * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class MixedAfter(LayerInstanceNorm2d):
    """The layer-instance norm written out: both norms, their mix, then the affine."""

    def forward(self, x: Tensor) -> Tensor:
        x = x.contiguous()  # planar, as the norm ran before
        inst = F.group_norm(x, x.shape[1], eps=self.eps)
        layer = F.group_norm(x, 1, eps=self.eps)
        out = layer + self.rho.clamp(0, 1).view(1, -1, 1, 1) * (inst - layer)
        assert self.weight is not None and self.bias is not None
        return out * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


def fastest_ms(fn: Callable[[Tensor], Tensor], x: Tensor, reps: int) -> float:
    """The fastest of ``reps`` forward + backward passes, in ms (after 2 warm-up passes)."""

    def once() -> None:
        fn(x).float().sum().backward()

    for _ in range(2):
        once()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        once()
        times.append(time.perf_counter() - t0)
    return min(times) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--reps", type=int, default=6)
    ap.add_argument("--lin", action="store_true", help="the layer-instance norm, 32 px shapes")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    kinds: dict[str, type[nn.Module]] = {"group-norm kernel": InstanceNorm2d}
    if args.lin:
        kinds["lin, mixed then scaled"] = MixedAfter
        kinds["lin, affine inside (ours)"] = LayerInstanceNorm2d
    else:
        kinds = {"torch InstanceNorm2d": nn.InstanceNorm2d, **kinds, "composite": Composite}
    print(
        f"batch {args.batch}, {args.threads} thread(s), torch {torch.__version__}, "
        f"load {os.getloadavg()[0]:.2f}"
    )
    print("| shape | layout | dtype | " + " | ".join(kinds) + " |")
    print("|---|---|---|" + "---|" * len(kinds))
    for channels, side in LIGHT_SHAPES if args.lin else SHAPES:
        for layout in (torch.contiguous_format, torch.channels_last):
            for dtype in (torch.float32, torch.bfloat16):
                x = torch.randn(args.batch, channels, side, side).to(dtype)
                x = x.contiguous(memory_format=layout).requires_grad_()
                cells = []
                for cls in kinds.values():
                    norm = cls(channels, affine=True).to(dtype)
                    if isinstance(norm, LayerInstanceNorm2d):  # a mix, as after training
                        with torch.no_grad():
                            norm.rho.uniform_(0, 1)
                    cells.append(f"{fastest_ms(norm, x, args.reps):.2f}")
                name = "channels_last" if layout == torch.channels_last else "NCHW"
                shape = f"{args.batch}x{channels}x{side}x{side}"
                print(f"| {shape} | {name} | {str(dtype)[6:]} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
