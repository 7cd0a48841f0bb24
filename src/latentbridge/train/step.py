"""One training step: the only place with ``zero_grad()``, ``backward()`` and ``step()``.

Phases are data (:class:`Phase`): the generator phase updates encoders and decoders against
frozen discriminators; the discriminator phase then updates the discriminators on the same
step's outputs, detached. With ``train.accumulate = A`` each phase sums A micro-batches' gradients
(each loss divided by A) before its optimizer steps once.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from itertools import permutations

import torch
from torch import Tensor, nn

from latentbridge import terms
from latentbridge.errors import TrainingDiverged


@dataclass
class Phase:
    """A module whose forward returns (loss, named terms, ...), and the optimizer that steps it."""

    name: str
    objective: nn.Module  # GenObjective / DisObjective, possibly wrapped in DDP
    optimizer: torch.optim.Optimizer
    lr: float  # base learning rate
    lr_step: int = 0  # multiply by lr_gamma every lr_step steps (0 = constant)
    lr_gamma: float = 0.5
    scaler: torch.amp.GradScaler | None = None
    lr_decay: float = 0.0  # linear fall to 0 over this last fraction of the budget (0 = off)

    def set_lr(self, step: int, progress: float = 0.0) -> None:
        """The step decay is a pure function of the step, so a resume restores it exactly; the
        linear decay is a function of ``progress``, the fraction of the budget already spent."""
        lr = self.lr * self.lr_gamma ** (step // self.lr_step) if self.lr_step > 0 else self.lr
        if self.lr_decay > 0:
            lr *= min(1.0, max(0.0, 1.0 - progress) / self.lr_decay)
        for group in self.optimizer.param_groups:
            group["lr"] = lr


def step_pairs(domains: list[str], mode: str, *, seed: int, step: int) -> list[terms.Pair]:
    """The ordered domain pairs trained at ``step``: all of them, or one drawn from (seed, step),
    so that every rank draws the same pair without communicating."""
    pairs = list(permutations(domains, 2))
    if mode == "all" or len(domains) == 2:
        return pairs
    a, b = random.Random(seed * 1_000_003 + step).sample(domains, 2)
    return [(a, b), (b, a)]


def _no_sync(module: nn.Module, last: bool) -> contextlib.AbstractContextManager[None]:
    """DDP all-reduces on the last micro-batch only."""
    if not last and hasattr(module, "no_sync"):
        return module.no_sync()  # type: ignore[operator,no-any-return]
    return contextlib.nullcontext()


def _check_finite(loss: Tensor, named: dict[str, Tensor], step: int, last_ckpt: str) -> None:
    if not torch.isfinite(loss.detach()):
        bad = [k for k, v in named.items() if not torch.isfinite(v).all()] or ["(the total)"]
        raise TrainingDiverged(
            f"non-finite loss at step {step} in term {', '.join(bad)}; the run stopped; "
            f"last good checkpoint: {last_ckpt or 'none yet'}"
        )


def train_step(
    *,
    gen: Phase,
    dis: Phase | None,
    micro_batches: list[dict[str, Tensor]],
    pairs: list[terms.Pair],
    weights: dict[str, float],
    d_weights: dict[str, float],
    step: int,
    autocast: Callable[[], contextlib.AbstractContextManager[None]],
    last_ckpt: str = "",
    progress: float = 0.0,
) -> dict[str, Tensor]:
    """Run the generator phase, then the discriminator phase; return the named terms (detached,
    averaged over micro-batches). Raises :class:`TrainingDiverged` on a non-finite loss."""
    logs: dict[str, Tensor] = {}
    n = len(micro_batches)
    forwards = []
    gen.set_lr(step, progress)
    gen.optimizer.zero_grad(set_to_none=True)
    for i, x in enumerate(micro_batches):
        with _no_sync(gen.objective, i == n - 1):
            with autocast():
                loss, named, fwd = gen.objective(x, pairs, weights)
            _check_finite(loss, named, step, last_ckpt)
            _backward(gen, loss / n)
        forwards.append(fwd)
        _accumulate(logs, named, n)
    _optimizer_step(gen)
    if dis is not None and d_weights:
        dis.set_lr(step, progress)
        dis.optimizer.zero_grad(set_to_none=True)
        for i, fwd in enumerate(forwards):
            with _no_sync(dis.objective, i == n - 1):
                with autocast():
                    loss, named = dis.objective(fwd, pairs, d_weights)
                _check_finite(loss, named, step, last_ckpt)
                _backward(dis, loss / n)
            _accumulate(logs, named, n)
        _optimizer_step(dis)
    return logs


def _backward(phase: Phase, loss: Tensor) -> None:
    (phase.scaler.scale(loss) if phase.scaler else loss).backward()


def _optimizer_step(phase: Phase) -> None:
    if phase.scaler:
        phase.scaler.step(phase.optimizer)
        phase.scaler.update()
    else:
        phase.optimizer.step()
    _project(phase)


def _project(phase: Phase) -> None:
    """Clamp every parameter that declares ``bounds`` (lo, hi) back into them after a step (the
    layer-instance norm's mix, as U-GAT-IT's clipper does)."""
    with torch.no_grad():
        for group in phase.optimizer.param_groups:
            for p in group["params"]:
                bounds = getattr(p, "bounds", None)
                if bounds is not None:
                    p.clamp_(*bounds)


def _accumulate(logs: dict[str, Tensor], named: dict[str, Tensor], n: int) -> None:
    for k, v in named.items():
        logs[k] = logs[k] + v.float() / n if k in logs else v.float() / n
