"""An exponential moving average of the generator's weights (``train.ema``).

GAN generators oscillate around what they learn; averaging their weights over the last ~1/(1 -
decay) steps gives translations with less of that oscillation (Karras et al., *Progressive
Growing of GANs*, 2018; Yazıcı et al., *The Unusual Effectiveness of Averaging in GAN
Training*, ICLR 2019). The average is a second :class:`~latentbridge.model.Translator` that never
trains: after every optimizer step ``avg <- avg + (1 - d) * (w - avg)`` with
``d = min(decay, (1 + s) / (10 + s))`` at step ``s``, so the first steps are not held back by the
random initial weights. Checkpoints keep it as ``gen_ema``; ``latentbridge.load`` (and so
``translate`` and ``eval``) use it where present unless told ``ema=False`` / ``--no-ema``.
"""

from __future__ import annotations

from typing import Any

import torch

from latentbridge import config as C
from latentbridge.model import Translator


def decay_at(decay: float, step: int) -> float:
    """The averaging weight of the previous average after optimizer step ``step`` (0-based)."""
    return min(decay, (1 + step) / (10 + step))


class WeightAverage:
    """``avg`` follows ``gen``'s parameters and buffers (the same architecture, so the same
    order); ``avg`` is in eval mode and takes no gradients."""

    def __init__(self, gen: Translator, cfg: C.Config, decay: float) -> None:
        self.decay = decay
        with torch.random.fork_rng(devices=[]):  # its random init must not shift the run's RNG
            self.avg = Translator(cfg, gen.domains)
        self.avg.to(next(gen.parameters()).device)
        self.avg.load_state_dict(gen.state_dict())
        self.avg.eval().requires_grad_(False)
        self._src = list(gen.parameters())
        self._dst = list(self.avg.parameters())
        self._src_buf = list(gen.buffers())
        self._dst_buf = list(self.avg.buffers())

    @torch.no_grad()
    def update(self, step: int) -> None:
        """Move the average towards the weights after optimizer step ``step``."""
        torch._foreach_lerp_(self._dst, self._src, 1.0 - decay_at(self.decay, step))
        for dst, src in zip(self._dst_buf, self._src_buf):
            dst.copy_(src)

    def state_dict(self) -> dict[str, Any]:
        return self.avg.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.avg.load_state_dict(state)
