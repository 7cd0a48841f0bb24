"""The two objectives of a step as modules, so that DistributedDataParallel can wrap each.

:class:`GenObjective` owns the encoders and decoders; it calls the discriminators through
detached parameters (``torch.func.functional_call``), so its loss sends gradients to the images
but never to a discriminator. :class:`DisObjective` owns the discriminators and sees generated
images and codes detached. Neither steps an optimizer: that is :func:`latentbridge.train.step`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor, nn

from latentbridge import augment, terms
from latentbridge.config import Config, name_list
from latentbridge.errors import UserError
from latentbridge.forward import Forward
from latentbridge.model import Critics, Translator


def frozen_call(module: nn.Module) -> Callable[..., Tensor]:
    """Call ``module`` with its parameters detached: gradients reach the inputs only."""
    params = {n: p.detach() for n, p in module.named_parameters()}
    params.update(dict(module.named_buffers()))
    return lambda *args, **kwargs: torch.func.functional_call(module, params, args, kwargs)


def load_teacher(spec: str) -> Callable[[Tensor], Tensor]:
    """A frozen feature network from a TorchScript file or ``package.module:attribute``.

    It takes images (B, 3, H, W) in [-1, 1] and returns features (B, ...).
    """
    if Path(spec).is_file():
        net = torch.jit.load(spec, map_location="cpu")
    else:
        mod_name, _, attr = spec.partition(":")
        try:
            obj = getattr(importlib.import_module(mod_name), attr or "model")
        except (ImportError, AttributeError) as exc:
            raise UserError(
                f"loss.teacher_net {spec!r}: not a file nor an importable object"
            ) from exc
        net = obj() if isinstance(obj, type) or not isinstance(obj, nn.Module) else obj
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


class GenObjective(nn.Module):
    """Generator phase: the weighted sum of the active generator terms for one micro-batch."""

    def __init__(self, cfg: Config, gen: Translator, critics: Critics) -> None:
        super().__init__()
        self.cfg = cfg
        self.gen = gen
        # Kept out of this module's parameters (a list hides it from nn.Module), so that a DDP
        # wrapper of this objective never synchronises discriminator gradients.
        self._critics = [critics]
        uses_teacher = cfg.loss.teacher > 0 or cfg.loss.teacher_keep > 0
        self.teacher = load_teacher(cfg.loss.teacher_net) if uses_teacher else None
        self.index = {d: i for i, d in enumerate(gen.domains)}
        relit = name_list(cfg.loss.relight_from) or list(gen.domains)
        self.read_relit = tuple(relit) if cfg.loss.cycle_relight else ()
        self.augment = augment.augmenter(cfg.loss.diffaug)

    def context(self, pairs: list[terms.Pair], *, frozen: bool) -> terms.Context:
        critics = self._critics[0]
        call = frozen_call if frozen else (lambda m: m)
        image = {d: call(critics.image[d]) for d in critics.image}
        aug = self.augment
        domains = sorted({d for p in pairs for d in p}, key=self.index.__getitem__)
        return terms.Context(
            cfg=self.cfg.loss,
            pairs=pairs,
            domains=domains,
            index=self.index,
            d_image=lambda d, x: image[d](x if aug is None else aug(x)),
            d_features=lambda d, x: image[d](x if aug is None else aug(x), features=True),
            d_latent=call(critics.latent) if critics.latent is not None else None,
            teacher=self.teacher,
        )

    def forward(
        self, x: dict[str, Tensor], pairs: list[terms.Pair], weights: dict[str, float]
    ) -> tuple[Tensor, dict[str, Tensor], Forward]:
        """Returns (total loss, unweighted named terms ``"gen/<term>/<a>-><b>"``, the forward)."""
        fwd = Forward(
            self.gen,
            x,
            sample=self.cfg.loss.kl > 0 and self.training,
            read_noise=self.cfg.loss.cycle_noise if self.training else 0.0,
            back_translate=self.cfg.loss.back_translate,
            draw_style=self.training,
            input_noise=self.cfg.loss.input_noise if self.training else 0.0,
            read_relit=self.read_relit if self.training else (),
            relight_range=(self.cfg.loss.relight_gain, self.cfg.loss.relight_warmth),
        )
        ctx = self.context(pairs, frozen=True)
        return _weighted_sum("gen", fwd, ctx, terms.GEN_TERMS, weights) + (fwd,)


class DisObjective(nn.Module):
    """Discriminator phase: real images against the generator phase's outputs, detached."""

    def __init__(self, gen_objective: GenObjective, critics: Critics) -> None:
        super().__init__()
        self.critics = critics
        self._gen = [gen_objective]

    def forward(
        self, fwd: Forward, pairs: list[terms.Pair], weights: dict[str, float]
    ) -> tuple[Tensor, dict[str, Tensor]]:
        ctx = self._gen[0].context(pairs, frozen=False)
        return _weighted_sum("dis", fwd, ctx, terms.DIS_TERMS, weights)


def _weighted_sum(
    phase: str,
    fwd: Forward,
    ctx: terms.Context,
    table: dict[str, terms.Term],
    weights: dict[str, float],
) -> tuple[Tensor, dict[str, Tensor]]:
    named: dict[str, Tensor] = {}
    total: Tensor | None = None
    for name, w in weights.items():
        for key, value in table[name](fwd, ctx).items():
            named[f"{phase}/{key}"] = value.detach()
            total = w * value if total is None else total + w * value
    assert total is not None, "a phase needs at least one active term"
    return total, named
