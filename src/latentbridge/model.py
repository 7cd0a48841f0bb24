"""The shared-latent model: per-domain encoders, decoders and discriminators keyed by domain name.

A translation a -> b is ``DE_b(EN_a(x))``. Which blocks are shared between domains is decided by
:class:`~latentbridge.config.SharingConfig` and realised in :mod:`latentbridge.nn.networks`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import torch
from torch import Tensor, nn

from latentbridge import augment
from latentbridge.config import Config, name_list
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
    trunk_width,
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


def check_config(cfg: Config, domains: Sequence[str]) -> None:
    """Reject configurations the networks cannot be built from, with a message that says why."""
    if len(domains) < 2:
        raise UserError(f"need at least 2 domains, got {len(domains)}")
    _check_shapes(cfg)
    _check_sharing(cfg)
    _check_losses(cfg, domains)
    _check_training(cfg)


def _check_shapes(cfg: Config) -> None:
    """The image size against the halvings of the encoder and the discriminators, the code."""
    size, m = cfg.data.size, cfg.model
    if not 16 <= size <= 256:
        raise UserError(f"data.size must be between 16 and 256, got {size}")
    if size % 2**m.down or size // 2**m.down < 2:
        raise UserError(f"data.size={size} cannot be halved model.down={m.down} times (min side 2)")
    if size % 2**m.disc_layers or size // 2**m.disc_layers < 1:
        raise UserError(f"data.size={size} is too small for model.disc_layers={m.disc_layers}")
    if m.disc_scales < 1:
        raise UserError(f"model.disc_scales must be >= 1, got {m.disc_scales}")

    def judged(scales: int) -> bool:  # the coarsest scale still takes disc_layers halvings
        side = size >> (scales - 1)
        return side >= 2**m.disc_layers and side % 2**m.disc_layers == 0

    if not judged(m.disc_scales):
        fits = max(s for s in range(1, m.disc_scales) if judged(s))
        raise UserError(
            f"model.disc_scales={m.disc_scales} is too many at data.size={size}: the coarsest "
            f"scale, {size} px halved {m.disc_scales - 1} times, must still be divisible by "
            f"2**model.disc_layers={2**m.disc_layers}; at {size} px at most {fits} fit(s) "
            f"(--set model.disc_scales={fits}, or fewer model.disc_layers)"
        )
    if m.latent_channels < 0 or (m.latent_channels and m.latent == "vector"):
        raise UserError(
            "model.latent_channels must be >= 0 (0 = the encoder's width) and sizes a spatial "
            f"code only (a vector code has model.latent_dim), got {m.latent_channels}"
        )
    if m.style_dim < 0:
        raise UserError(f"model.style_dim must be >= 0 (0 = no style code), got {m.style_dim}")


def _check_sharing(cfg: Config) -> None:
    """How many blocks can be shared: as many as the networks have, counted from either end."""
    m = cfg.model
    # EN ends with a 1x1 projection to the code's channels, and DE begins with a 1x1 block back
    # to its width unless a style merge does that
    projected = m.latent_channels > 0
    widened = projected and m.latent_channels != trunk_width(m) and not m.style_dim
    n_enc = 1 + m.down + m.res_blocks + (m.latent == "vector") + projected
    if not -n_enc <= cfg.sharing.enc_blocks <= n_enc:
        raise UserError(f"sharing.enc_blocks must be in -{n_enc}..{n_enc} for this model")
    n_dec = 1 + m.down + m.res_blocks + (m.latent == "vector") + widened
    if not -n_dec <= cfg.sharing.dec_blocks <= n_dec:
        raise UserError(f"sharing.dec_blocks must be in -{n_dec}..{n_dec} for this model")
    if not 0 <= cfg.sharing.disc_layers <= m.disc_layers + 1:
        raise UserError(f"sharing.disc_layers must be in 0..{m.disc_layers + 1}")


def _check_losses(cfg: Config, domains: Sequence[str]) -> None:
    """The loss terms' own settings: scales within the image, positive temperatures and
    margins, augmentations that exist, domains the data has."""
    size, loss = cfg.data.size, cfg.loss
    for key in ("color_size", "palette_size", "edge_scale", "cycle_scale", "selfsim_scale"):
        value = getattr(loss, key)
        if not 1 <= value <= size // 2:
            raise UserError(f"loss.{key} must be between 1 and data.size / 2, got {value}")
    window = loss.selfsim_window
    if window < 3 or window % 2 == 0 or window > size // loss.selfsim_scale:
        raise UserError(
            "loss.selfsim_window must be odd, >= 3 and at most data.size / loss.selfsim_scale, "
            f"got {window}"
        )
    if loss.nce_temperature <= 0 or loss.nce_patches < 1:
        raise UserError(
            "loss.nce_temperature must be > 0 and loss.nce_patches >= 1, got "
            f"{loss.nce_temperature} and {loss.nce_patches}"
        )
    try:
        augment.parse(loss.diffaug)
    except ValueError as e:
        raise UserError(f"loss.diffaug: {e}") from None
    for key in ("cycle_noise", "input_noise"):
        if getattr(loss, key) < 0:
            raise UserError(f"loss.{key} must be >= 0 (0 = off), got {getattr(loss, key)}")
    if loss.travel_margin <= 0 or loss.travel_dim < 1:
        raise UserError(
            "loss.travel_margin must be > 0 and loss.travel_dim >= 1, got "
            f"{loss.travel_margin} and {loss.travel_dim}"
        )
    if (loss.teacher > 0 or loss.teacher_keep > 0) and not loss.teacher_net:
        raise UserError(
            "loss.teacher and loss.teacher_keep read a feature network: set loss.teacher_net to "
            "a TorchScript file or package.module:attribute"
        )
    if loss.style > 0 and not cfg.model.style_dim:
        raise UserError("loss.style reads the translations' style codes: set model.style_dim > 0")
    for key in ("cycle_from", "negative_from"):
        unknown = set(name_list(getattr(loss, key))) - set(domains)
        if unknown:
            raise UserError(
                f"loss.{key} names {sorted(unknown)}, not domains of the data {list(domains)}"
            )


def _check_training(cfg: Config) -> None:
    """Schedules within their ranges, and no compiled step where a term needs double backward."""
    t = cfg.train
    if cfg.loss.r1 > 0 and t.compile != "off":
        raise UserError(
            "loss.r1 differentiates the discriminators' gradients, and torch.compile has no "
            "double backward: leave train.compile off with loss.r1"
        )
    if not 0 <= t.lr_decay <= 1:
        raise UserError(f"train.lr_decay must be in [0, 1] (0 = off), got {t.lr_decay}")
    if not 0 <= t.ema < 1:
        raise UserError(f"train.ema must be in [0, 1) (0 = off), got {t.ema}")


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


def check_compile(mode: str, precision: str, device: str) -> None:
    """Raise :class:`UserError` where ``train.compile=mode`` cannot run (see
    :func:`compile_networks`); ``device`` is a device type (``cpu``, ``cuda``, ...)."""
    if mode == "off":
        return
    if device == "cpu" and precision != "fp32":
        raise UserError(
            f"compile {mode} with {precision} autocast on the CPU is refused: the compiler's "
            "bf16 CPU kernels gave non-finite gradients (docs/PERFORMANCE.md section C); use "
            "--precision fp32 with --compile, or leave compile off"
        )
    if not hasattr(torch.compiler, "set_stance"):
        raise UserError(f"train.compile={mode} needs torch >= 2.6 (this is {torch.__version__})")


def compile_networks(
    model: Model, mode: str, *, precision: str = "fp32", device: str = "cpu"
) -> list[nn.Module]:
    """``torch.compile`` every network of ``model`` in place (``train.compile``); returns them.

    Each encoder, decoder and discriminator chain is compiled on its own, with static shapes
    (a new batch size compiles once more), so parameters, ``state_dict`` keys and checkpoints
    stay exactly those of the eager model. The chains share one ``forward`` code object, so the
    number of cached graphs allowed per code object is raised to hold every chain's variants
    (training, sampling, evaluation) rather than silently falling back to eager code.

    Refused on the CPU under bf16 / fp16 autocast: there the compiler's vectorised bf16 kernels
    gave non-finite gradients for these encoders (torch 2.13, every run; eager code and the
    compiler without vectorisation were finite; docs/PERFORMANCE.md, section C).
    """
    if mode == "off":
        return []
    check_compile(mode, precision, device)
    return _compile(networks(model), mode)


def compile_translator(
    gen: Translator, mode: str, *, precision: str = "fp32", device: str = "cpu"
) -> list[nn.Module]:
    """``torch.compile`` each encoder and decoder of ``gen`` in place, for translation
    (``latentbridge.load(..., compile=)``, ``translate --compile``); returns them. Static
    shapes: each new batch size compiles once more. Refused where :func:`check_compile` refuses
    (bf16 / fp16 autocast on the CPU)."""
    if mode == "off":
        return []
    check_compile(mode, precision, device)
    return _compile([*gen.encoders.values(), *gen.decoders.values()], mode)


def _compile(nets: list[nn.Module], mode: str) -> list[nn.Module]:
    import torch._dynamo.config as dynamo_config

    key = "recompile_limit" if hasattr(dynamo_config, "recompile_limit") else "cache_size_limit"
    setattr(dynamo_config, key, max(getattr(dynamo_config, key), 8 * len(nets)))
    for net in nets:
        net.compile(mode=None if mode == "default" else mode, dynamic=False)
    return nets
