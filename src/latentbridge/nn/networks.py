"""Encoders, decoders and discriminators as lists of blocks, and the weight-sharing that joins them.

A network for domain ``d`` is a :class:`Chain` of block lists. Sharing (CoGAN/UNIT) is building a
block list once and putting the same ``nn.ModuleList`` object in every domain's chain, so a shared
parameter is one tensor: ``model.parameters()`` yields it once and an optimizer updates it once.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from latentbridge.config import ModelConfig, Norm
from latentbridge.nn.blocks import ConvBlock, FromVector, ResBlock, ToImage, ToVector, UpBlock

BlockFactory = Callable[[], list[nn.Module]]

# The layout of every image-shaped tensor and convolution weight in the networks. Measured side
# by side (benchmarks/perf_step.py, docs/PERFORMANCE.md) on a oneDNN CPU: channels last speeds
# the convolutions up but the normalisation kernels slow down on it, so planar NCHW wins under
# bf16 and ties in fp32. A network keeps the format it was built with, so a benchmark can build
# one of each by setting this before building.
MEMORY_FORMAT: torch.memory_format = torch.contiguous_format


class OneHotChannels(nn.Module):
    """Appends ``n_domains`` constant planes, one-hot in the domain: the input flag of a fully
    shared network (the seed's "extra input: 1 = domain X, 0 = domain Y")."""

    def __init__(self, n_domains: int) -> None:
        super().__init__()
        self.n_domains = n_domains

    def forward(self, x: Tensor, d: int) -> Tensor:
        if x.dim() == 2:  # a vector latent
            flag = x.new_zeros(x.shape[0], self.n_domains)
            flag[:, d] = 1
        else:
            flag = x.new_zeros(x.shape[0], self.n_domains, *x.shape[2:])
            flag[:, d] = 1
        return torch.cat([x, flag], dim=1)


class GlobalContext(nn.Module):
    """ParseNet's global context (Liu, Rabinovich & Berg 2015) at the decoder's start: the code's
    mean over all positions, through a small MLP (``hidden`` units), drawn as a learnt spatial
    pattern and added to the code. Every position of the decoder then sees what the whole face
    is (its skin, its hair) before it draws its own pixels, instead of deciding from a window of
    the code. A learnt pattern, not the vector repeated: the instance norms after it would
    remove a constant plane. The last layer starts at zero, so the block starts as the identity."""

    def __init__(self, channels: int, side: int, hidden: int) -> None:
        super().__init__()
        self.shape = (channels, side, side)
        self.mlp = nn.Sequential(
            nn.Linear(channels, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, channels * side**2),
        )
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, x: Tensor, d: int) -> Tensor:
        return x + self.mlp(x.mean(dim=(2, 3))).view(x.shape[0], *self.shape).to(x.dtype)


class Chain(nn.Module):
    """Runs block lists in order for one domain. ``parts`` may hold lists shared with other
    domains' chains (the same objects), so sharing is by reference, never by copy."""

    def __init__(self, parts: list[nn.ModuleList], domain: int) -> None:
        super().__init__()
        self.parts = nn.ModuleList(parts)
        self.domain = domain
        self.memory_format = MEMORY_FORMAT
        self.to(memory_format=self.memory_format)  # 4-d weights only; values unchanged

    def forward(self, x: Tensor, features: bool = False) -> Tensor | list[Tensor]:
        """The chain's output, or with ``features`` every block's output but the last (a
        discriminator's hidden activations, for feature matching)."""
        if x.dim() == 4:
            x = x.contiguous(memory_format=self.memory_format)
        hidden: list[Tensor] = []
        for part in self.parts:
            for block in part:
                x = block(x, self.domain)
                if features:
                    hidden.append(x)
        return hidden[:-1] if features else x


def _widths(cfg: ModelConfig) -> list[int]:
    return [min(cfg.width * 2**i, cfg.max_width) for i in range(cfg.down + 1)]


def latent_shape(cfg: ModelConfig, size: int) -> tuple[int, ...]:
    """Shape of z for one image: ``(C, size / 2**down, size / 2**down)`` or ``(latent_dim,)``."""
    if cfg.latent == "vector":
        return (cfg.latent_dim,)
    side = size // 2**cfg.down
    return (code_channels(cfg), side, side)


def trunk_width(cfg: ModelConfig) -> int:
    """Channels at the encoder's last and the decoder's first blocks."""
    return _widths(cfg)[-1]


def code_channels(cfg: ModelConfig) -> int:
    """Channels of a spatial code: ``latent_channels``, or the encoder's last width."""
    return cfg.latent_channels or trunk_width(cfg)


def encoder_blocks(
    cfg: ModelConfig, size: int, *, norm_domains: int = 0, flag_domains: int = 0
) -> BlockFactory:
    """Factory of EN's blocks: [flag], stem, ``down`` stride-2 convs, ``res_blocks``, then
    [to_vector] or [a 1x1 linear projection to ``latent_channels``].

    The domain flag of a fully shared network: ``norm_domains > 0`` makes every normalisation
    per-domain; ``flag_domains > 0`` appends one-hot planes to the input.
    """

    def make() -> list[nn.Module]:
        w, nd = _widths(cfg), norm_domains
        blocks: list[nn.Module] = [OneHotChannels(flag_domains)] if flag_domains else []
        kernel = 7 if size >= 64 else 3
        blocks.append(ConvBlock(3 + flag_domains, w[0], kernel=kernel, norm=cfg.norm, n_domains=nd))
        for i in range(cfg.down):
            blocks.append(ConvBlock(w[i], w[i + 1], stride=2, norm=cfg.norm, n_domains=nd))
        blocks += [ResBlock(w[-1], norm=cfg.norm, n_domains=nd) for _ in range(cfg.res_blocks)]
        if cfg.latent == "vector":
            blocks.append(ToVector(w[-1], size // 2**cfg.down, cfg.latent_dim))
        elif cfg.latent_channels:
            blocks.append(ConvBlock(w[-1], cfg.latent_channels, kernel=1, norm="none", act=False))
        return blocks

    return make


def decoder_blocks(
    cfg: ModelConfig, size: int, *, norm_domains: int = 0, flag_domains: int = 0
) -> BlockFactory:
    """Factory of DE's blocks: [from_vector], [flag + 1x1 merge], [global context],
    ``res_blocks``, ups, to_image.
    A code of ``latent_channels`` is widened by the 1x1 merge (a 1x1 block of its own when there
    is nothing to merge).

    With ``cfg.style_dim``, DE's input is z followed by the style: ``style_dim`` planes
    (:class:`StylePlanes`) merged into z's channels by the same 1x1 block as the flag, or, for a
    vector latent, ``style_dim`` more values of the vector."""

    def make() -> list[nn.Module]:
        w, nd, nf, ns = _widths(cfg), norm_domains, flag_domains, cfg.style_dim
        norm: Norm = cfg.norm if cfg.decoder_norm == "same" else cfg.decoder_norm
        blocks: list[nn.Module] = []
        c = w[-1]
        if cfg.latent == "vector":
            blocks.append(FromVector(cfg.latent_dim + ns, w[-1], size // 2**cfg.down))
            ns = 0
        else:
            c = code_channels(cfg)
        if nf:
            blocks.append(OneHotChannels(nf))
        if nf or ns:
            # one-hot planes are constant over the image, and an instance norm right after the
            # 1x1 merge would subtract them again: without per-domain norms to carry the
            # domain, the merge adds them as a bias before its ReLU instead
            merge: Norm = "none" if nf and not nd else norm
            blocks.append(ConvBlock(c + ns + nf, w[-1], kernel=1, norm=merge, n_domains=nd))
        elif c != w[-1]:
            blocks.append(ConvBlock(c, w[-1], kernel=1, norm=norm, n_domains=nd))
        if cfg.global_context:
            blocks.append(GlobalContext(w[-1], size // 2**cfg.down, cfg.global_context))
        blocks += [ResBlock(w[-1], norm=norm, n_domains=nd) for _ in range(cfg.res_blocks)]
        for i in reversed(range(cfg.down)):
            blocks.append(UpBlock(w[i + 1], w[i], norm=norm, n_domains=nd, mode=cfg.up))
        blocks.append(ToImage(w[0], kernel=7 if size >= 64 else 3))
        return blocks

    return make


class _DiscLayer(nn.Module):
    def __init__(self, cin: int, cout: int, *, spectral: bool) -> None:
        super().__init__()
        conv = nn.Conv2d(cin, cout, 4, 2, 1)
        self.conv = nn.utils.parametrizations.spectral_norm(conv) if spectral else conv

    def forward(self, x: Tensor, d: int) -> Tensor:
        return F.leaky_relu(self.conv(x), 0.2, inplace=True)


class _PatchOut(nn.Module):
    def __init__(self, cin: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, 1, 3, 1, 1)

    def forward(self, x: Tensor, d: int) -> Tensor:
        return self.conv(x)


def discriminator_blocks(cfg: ModelConfig) -> BlockFactory:
    """Factory of a PatchGAN image discriminator: ``disc_layers`` stride-2 4x4 convs with leaky
    ReLU, then a 3x3 conv to one logit per patch (no normalisation: GAN losses are per sample)."""

    def make() -> list[nn.Module]:
        blocks: list[nn.Module] = []
        cin = 3
        for i in range(cfg.disc_layers):
            cout = min(cfg.disc_width * 2**i, cfg.max_width)
            blocks.append(_DiscLayer(cin, cout, spectral=cfg.disc_spectral))
            cin = cout
        blocks.append(_PatchOut(cin))
        return blocks

    return make


def _pool(x: Tensor, s: int) -> Tensor:
    return F.avg_pool2d(x, 2**s) if s else x


class MultiScale(nn.Module):
    """One image discriminator made of PatchGAN chains at several scales (pix2pixHD, UNIT,
    MUNIT): ``scales[s]`` judges the image average-pooled by 2**s. Each scale's patch logits are
    repeated (nearest) onto the finest scale's grid and stacked as channels, (B, S, h, w), so
    the mean that every GAN loss takes over the logits weighs each scale the same."""

    def __init__(self, scales: list[nn.Module]) -> None:
        super().__init__()
        self.scales = nn.ModuleList(scales)

    def forward(self, x: Tensor, features: bool = False) -> Tensor | list[Tensor]:
        if features:  # every scale's hidden activations, finest scale first
            return [h for s, d in enumerate(self.scales) for h in d(_pool(x, s), features=True)]
        logits = [d(_pool(x, s)) for s, d in enumerate(self.scales)]
        grid = logits[0].shape[-2:]
        up = [
            y if s == 0 else F.interpolate(y, size=grid, mode="nearest")
            for s, y in enumerate(logits)
        ]
        return torch.cat(up, dim=1)


class ImageEmbedding(nn.Module):
    """One vector (B, dim) per image — strided convolutions, global average pooling and a linear
    map, no normalisation. MUNIT's style encoder ES_d (instance norm would remove the per-image
    means and contrasts a style is made of) and TraVeLGAN's siamese network S."""

    def __init__(self, cfg: ModelConfig, dim: int) -> None:
        super().__init__()
        w = _widths(cfg)
        layers: list[nn.Module] = []
        cin = 3
        for i in range(cfg.down + 1):
            layers += [nn.Conv2d(cin, w[i], 4, 2, 1), nn.ReLU(inplace=True)]
            cin = w[i]
        self.body = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.out = nn.Linear(cin, dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.out(self.body(x))


class StylePlanes(nn.Module):
    """s (B, style_dim) -> (B, style_dim, h, w) planes beside z at the decoder's input. A learnt
    linear map to a spatial pattern, not s repeated at every position: the instance norm after
    the decoder's 1x1 merge removes whatever is constant over a plane, so a repeated code would
    not reach the image at all."""

    def __init__(self, style_dim: int, side: int) -> None:
        super().__init__()
        self.shape = (style_dim, side, side)
        self.linear = nn.Linear(style_dim, style_dim * side * side)

    def forward(self, s: Tensor) -> Tensor:
        return self.linear(s).view(s.shape[0], *self.shape)


class LatentDiscriminator(nn.Module):
    """D_z: predicts the domain of a latent code (logits over domains), Lample et al.'s critic."""

    def __init__(self, shape: tuple[int, ...], n_domains: int, width: int) -> None:
        super().__init__()
        if len(shape) == 1:
            self.body: nn.Module = nn.Sequential(
                nn.Linear(shape[0], width), nn.LeakyReLU(0.2), nn.Linear(width, width)
            )
        else:
            self.body = nn.Sequential(
                nn.Conv2d(shape[0], width, 3, 1, 1),
                nn.LeakyReLU(0.2),
                nn.Conv2d(width, width, 3, 2, 1),
                nn.LeakyReLU(0.2),
                nn.AdaptiveAvgPool2d(1),
                nn.Flatten(),
            )
        self.head = nn.Sequential(nn.LeakyReLU(0.2), nn.Linear(width, n_domains))

    def forward(self, z: Tensor) -> Tensor:
        return self.head(self.body(z))


def shared_chains(
    make: BlockFactory,
    n_domains: int,
    *,
    k: int,
    where: str,
    full: bool,
    tied_init: bool = False,
) -> list[Chain]:
    """One :class:`Chain` per domain from ``make``; ``k`` blocks at the ``where`` end ("first" |
    "last") are built once and shared by all (``k < 0``: all but ``-k`` blocks at the other
    end); ``full`` shares the whole chain. ``tied_init``: every domain's own blocks start as
    copies of the first domain's (separate parameters, equal values)."""
    if full:
        blocks = nn.ModuleList(make())
        return [Chain([blocks], d) for d in range(n_domains)]
    # all n drawn even when tied, so the random draws that follow (the critics) are the same
    per_domain = [make() for _ in range(n_domains)]
    if tied_init:
        per_domain = [per_domain[0]] + [copy.deepcopy(per_domain[0]) for _ in per_domain[1:]]
    n = len(per_domain[0])
    if not -n <= k <= n:
        raise ValueError(f"cannot share {k} blocks of a network that has {n}")
    k = k if k >= 0 else n + k
    cut = k if where == "first" else n - k
    if where == "first":
        shared = nn.ModuleList(per_domain[0][:cut])
        return [Chain([shared, nn.ModuleList(b[cut:])], d) for d, b in enumerate(per_domain)]
    shared = nn.ModuleList(per_domain[0][cut:])
    return [Chain([nn.ModuleList(b[:cut]), shared], d) for d, b in enumerate(per_domain)]
