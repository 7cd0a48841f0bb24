"""Data-parallel training on PyTorch's own engine: ``torchrun`` sets the environment,
``torch.distributed`` connects the ranks (gloo on CPU, NCCL on CUDA), and
DistributedDataParallel averages gradients. One process without ``torchrun`` is world size 1."""

from __future__ import annotations

import gc
import os
import warnings
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from latentbridge.errors import UserError


@dataclass(frozen=True)
class Dist:
    rank: int
    world: int
    local_rank: int
    device: torch.device

    @property
    def main(self) -> bool:
        """Rank 0: the only rank that writes logs, samples and checkpoints."""
        return self.rank == 0


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto`` -> CUDA if available, else MPS, else CPU; ``cuda`` takes the local rank's GPU."""
    if name == "auto":
        if torch.cuda.is_available():
            name = "cuda"
        elif getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            name = "mps"
        else:
            name = "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UserError("--device cuda asked for, but no CUDA device is available")
        return torch.device("cuda", local_rank) if name == "cuda" else torch.device(name)
    if name not in ("cpu", "mps"):
        raise UserError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N")
    return torch.device(name)


def setup(device: str) -> Dist:
    """Join the process group that ``torchrun`` described, or stay a single process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = resolve_device(device, local_rank)
    if world > 1 and not dist.is_initialized():
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    return Dist(rank, world, local_rank, dev)


def quiet_1x1_grad_strides() -> None:
    """Compiled, the 1x1 flag-merge conv of a fully shared decoder gets its weight gradient with
    strides (C, 1, C, C) where DDP's bucket has (C, 1, 1, 1): the same memory for a 1x1 kernel,
    copied into the bucket as usual, but reported in four lines per rank at the first backward.
    Only that case is silenced; a mismatch for a larger kernel still warns."""
    warnings.filterwarnings(
        "ignore",
        message=r"(?s)Grad strides do not match bucket view strides.*"
        r"grad\.sizes\(\) = \[\d+, \d+, 1, 1\]",
    )


def wrap(module: nn.Module, d: Dist) -> nn.Module:
    """DistributedDataParallel around ``module`` when there are several ranks.

    ``find_unused_parameters`` is needed: with one random domain pair per step (ComboGAN) the
    other domains' networks get no gradient (for the other presets it costs nothing measurable:
    docs/PERFORMANCE.md, section S).
    """
    if d.world == 1:
        return module
    ids = [d.device.index] if d.device.type == "cuda" else None
    quiet_1x1_grad_strides()
    with warnings.catch_warnings():  # newer torch: "broadcast_buffers is deprecated" (it works)
        warnings.simplefilter("ignore", FutureWarning)
        return nn.parallel.DistributedDataParallel(
            module, device_ids=ids, find_unused_parameters=True, broadcast_buffers=False
        )


def agree_max(d: Dist, *values: float) -> list[float]:
    """The largest of every rank's value, for each of ``values`` (the values themselves in one
    process): how ranks that decide by their own clock or signals stop at the same step instead
    of leaving the others waiting in a gradient all-reduce, and set the same learning rate."""
    if d.world == 1:
        return list(values)
    flags = torch.tensor(values, dtype=torch.float64, device=d.device)
    dist.all_reduce(flags, op=dist.ReduceOp.MAX)
    return flags.tolist()


def barrier(d: Dist) -> None:
    if d.world > 1:
        dist.barrier()


def teardown(d: Dist) -> None:
    """Leave the process group. Callers drop their DDP-wrapped modules first, so that nothing
    of the group is left for interpreter shutdown to destroy: a two-rank ``bench`` once ended in
    SIGABRT ("terminate called without an active exception") after its work was done, the
    likely cause a gloo object outliving the group in a DDP reducer (not reproduced in 90
    local runs before or after this order)."""
    if d.world > 1 and dist.is_initialized():
        gc.collect()
        dist.destroy_process_group()
