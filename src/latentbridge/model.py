"""The shared-latent model: per-domain encoders, decoders and discriminators keyed by domain name.

A translation a -> b is ``DE_b(EN_a(x))``. Which blocks are shared between domains is decided by
:class:`~latentbridge.config.SharingConfig` and realised in :mod:`latentbridge.nn.networks`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import torch
from torch import Tensor, nn

from latentbridge.config import Config
from latentbridge.config_checks import check_config
from latentbridge.errors import UserError
from latentbridge.nn.networks import (
    ImageEmbedding,
    LatentDiscriminator,
    MultiScale,
    StylePlanes,
    decoder_blocks,
    discriminator_blocks,
    encoder_blocks,
    latent_shape,
    shared_chains,
)

# Pixels per pass of a CPU translation: a batch of 64 images at 64 px keeps activations too large
# for a core's cache, and the same images in chunks of 8 translate x1.13 faster per image
# (docs/PERFORMANCE.md, section Y).
CPU_CHUNK_PIXELS = 32 * 32 * 32


def translation_chunk(x: Tensor) -> int:
    """Images per pass when translating the batch ``x``: on the CPU as many as hold
    :data:`CPU_CHUNK_PIXELS` (32 at 32 px, 8 at 64 px, at least 1), elsewhere the whole batch
    (a GPU wants the largest batch it can get)."""
    if x.device.type != "cpu":
        return max(len(x), 1)
    return max(CPU_CHUNK_PIXELS // (x.shape[-2] * x.shape[-1]), 1)


class Translator(nn.Module):
    """EN_d and DE_d for every domain d (the generator side of the model)."""

    def __init__(self, cfg: Config, domains: Sequence[str]) -> None:
        super().__init__()
        check_config(cfg, domains)
        self.domains = list(domains)
        n, s, m = len(domains), cfg.sharing, cfg.model
        flag = {
            "norm_domains": n if s.full and s.flag in ("norm", "both") else 0,
            "flag_domains": n if s.full and s.flag in ("channel", "both") else 0,
        }
        enc = encoder_blocks(m, cfg.data.size, **(flag if s.flag_encoder else {}))
        dec = decoder_blocks(m, cfg.data.size, **flag)
        chains = partial(shared_chains, n_domains=n, full=s.full, tied_init=s.tied_init)
        self.encoders = nn.ModuleDict(zip(domains, chains(enc, k=s.enc_blocks, where="last")))
        self.decoders = nn.ModuleDict(zip(domains, chains(dec, k=s.dec_blocks, where="first")))
        self.latent_shape = latent_shape(m, cfg.data.size)
        self.style_dim = m.style_dim
        if m.style_dim:  # ES_d and the planes DE_d reads s from: one per domain, never shared
            self.style_encoders = nn.ModuleDict(
                {d: ImageEmbedding(m, m.style_dim) for d in domains}
            )
            if m.latent == "spatial":  # a vector code takes s as more values instead
                side = self.latent_shape[-1]
                planes = {d: StylePlanes(m.style_dim, side) for d in domains}
                self.style_planes = nn.ModuleDict(planes)
        # TraVeLGAN's siamese network S, one for every domain, trained by the generator phase
        # (loss.travel): part of the translator's parameters, unused by a translation
        self.siamese = ImageEmbedding(m, cfg.loss.travel_dim) if cfg.loss.travel > 0 else None

    def index(self, domain: str) -> int:
        if domain not in self.encoders:
            raise UserError(f"unknown domain {domain!r}; this model knows {self.domains}")
        return self.domains.index(domain)

    def encode(self, x: Tensor, domain: str) -> Tensor:
        """z = EN_domain(x): the latent mean (UNIT's VAE adds unit noise during training)."""
        self.index(domain)
        return self.encoders[domain](x)

    def encode_style(self, x: Tensor, domain: str) -> Tensor:
        """s = ES_domain(x), the image's style code (B, model.style_dim)."""
        self.index(domain)
        return self.style_encoders[domain](x)

    def decode(self, z: Tensor, domain: str, style: Tensor | None = None) -> Tensor:
        """x = DE_domain(z, s), in [-1, 1]. With a style code, ``style`` None is s = 0 (the
        style prior's mean); without one, ``style`` must be None."""
        self.index(domain)
        if self.style_dim:
            s = z.new_zeros(z.shape[0], self.style_dim) if style is None else style.to(z.dtype)
            if z.dim() == 4:
                s = self.style_planes[domain](s).to(z.dtype)
            z = torch.cat([z, s], dim=1)
        elif style is not None:
            raise UserError("this model has no style code (model.style_dim=0)")
        return self.decoders[domain](z)

    def style_of(self, x: Tensor, domain: str) -> Tensor | None:
        """ES_domain(x) with a style code, else None: the style a reconstruction of x, or the
        way back of its cycle, decodes with."""
        return self.encode_style(x, domain) if self.style_dim else None

    def reconstruct(self, x: Tensor, domain: str) -> Tensor:
        """x_aa = DE_a(EN_a(x), ES_a(x)) for ``domain`` a."""
        return self.decode(self.encode(x, domain), domain, self.style_of(x, domain))

    def cycle(self, x_ab: Tensor, x: Tensor, a: str, b: str) -> Tensor:
        """x_aba = DE_a(EN_b(x_ab), ES_a(x)): the translation x_ab of x read back into a, with
        x's own style where there is a style code (as the training's cycle)."""
        return self.decode(self.encode(x_ab, b), a, self.style_of(x, a))

    @torch.no_grad()
    def translate(
        self,
        x: Tensor,
        source: str,
        target: str,
        *,
        chunk: int | None = None,
        style: Tensor | None = None,
    ) -> Tensor:
        """x_ab = DE_target(EN_source(x), s) for a batch (B, 3, H, W) in [-1, 1]; with a style
        code, s is ``style`` (B, model.style_dim), or 0 (the prior's mean) if None; ``chunk`` images
        per pass through the networks (None: :func:`translation_chunk`). Every image is
        translated on its own (no batch statistics in eval mode), so the chunk changes the speed,
        not the result."""
        chunk = translation_chunk(x) if chunk is None else chunk
        if chunk < 1:
            raise UserError(f"the translation chunk must be at least 1 image, got {chunk}")
        if style is not None and (not self.style_dim or style.shape != (len(x), self.style_dim)):
            raise UserError(
                f"style must be ({len(x)}, {self.style_dim}) for this batch and model, got "
                f"{tuple(style.shape)}" + ("" if self.style_dim else " (model.style_dim=0)")
            )
        if len(x) <= chunk:
            return self.decode(self.encode(x, source), target, style)
        parts = x.split(chunk)
        styles = [None] * len(parts) if style is None else style.split(chunk)
        return torch.cat(
            [self.decode(self.encode(c, source), target, s) for c, s in zip(parts, styles)]
        )


class Critics(nn.Module):
    """D_d (PatchGAN; PatchGANs at ``model.disc_scales`` scales, :class:`MultiScale`) for every
    domain, and D_z (the latent domain discriminator) if used."""

    def __init__(self, cfg: Config, domains: Sequence[str], *, latent: bool) -> None:
        super().__init__()
        n = len(domains)
        scales = [
            shared_chains(
                discriminator_blocks(cfg.model),
                n,
                k=cfg.sharing.disc_layers,
                where="last",
                full=False,
            )
            for _ in range(cfg.model.disc_scales)
        ]
        chains: list[nn.Module] = (
            list(scales[0])
            if len(scales) == 1
            else [MultiScale([s[d] for s in scales]) for d in range(n)]
        )
        self.image = nn.ModuleDict(zip(domains, chains))
        shape = latent_shape(cfg.model, cfg.data.size)
        self.latent = LatentDiscriminator(shape, n, cfg.model.latent_disc_width) if latent else None


class Model(nn.Module):
    """Everything that trains: ``gen`` (the :class:`Translator`) and ``dis`` (:class:`Critics`)."""

    def __init__(self, cfg: Config, domains: Sequence[str]) -> None:
        super().__init__()
        self.domains = list(domains)
        self.gen = Translator(cfg, domains)
        self.dis = Critics(cfg, domains, latent=cfg.loss.latent_adv > 0)


def networks(model: Model) -> list[nn.Module]:
    """Every network of ``model``: each domain's encoder, decoder and image discriminator chain,
    and the latent discriminator where there is one."""
    nets: list[nn.Module] = [
        *model.gen.encoders.values(),
        *model.gen.decoders.values(),
        *model.dis.image.values(),
    ]
    if model.dis.latent is not None:
        nets.append(model.dis.latent)
    return nets
