"""Building blocks. Every block takes ``(x, d)``: the batch and the index of its domain.

Only blocks with per-domain normalisation (:class:`DomainNorm`) read ``d``; the others ignore it,
so one encoder or decoder can serve all domains when weights are fully shared (CoGAN's extreme
case: one network told the domain by a flag).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from latentbridge.config import Norm


class InstanceNorm2d(nn.InstanceNorm2d):
    """Instance normalisation (per sample and channel, biased variance, no running statistics)
    computed by the group-norm kernel with one group per channel: the same function, the same
    parameters and state-dict keys as :class:`torch.nn.InstanceNorm2d`, but one fused pass
    instead of a reshape to batch norm with copies of the input and of the affine parameters
    (side by side in ``benchmarks/perf_step.py``; see docs/PERFORMANCE.md)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.group_norm(_planar(x), self.num_features, self.weight, self.bias, self.eps)


RHO_START = 0.0  # where a layer-instance mix starts: layer norm (U-GAT-IT's up-sampling ILN)
RHO_RESIDUAL = 0.9  # where U-GAT-IT's residual blocks (AdaLIN) start it: mostly instance norm


class LayerInstanceNorm2d(nn.Module):
    """U-GAT-IT's layer-instance normalisation (Kim et al. 2020, its ILN and AdaLIN without the
    style MLP): ``rho * IN(x) + (1 - rho) * LN(x)``, then the affine, where IN normalises each
    channel over the image and LN all channels together, and rho (one per channel, clamped to
    [0, 1]) is learned. Instance norm erases each channel's level and contrast per image; layer
    norm keeps how the channels stand to each other, so a decoder may change more than the
    texture. ``rho`` starts at :data:`RHO_START` (U-GAT-IT's up-sampling; its residual blocks
    start at :data:`RHO_RESIDUAL`)."""

    def __init__(self, channels: int, *, affine: bool = True, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.rho = nn.Parameter(torch.full((channels,), RHO_START))
        # kept in [0, 1] after every optimiser step (train.step._project), U-GAT-IT's clipper
        self.rho.bounds = (0.0, 1.0)  # type: ignore[attr-defined]
        self.weight = nn.Parameter(torch.ones(channels)) if affine else None
        self.bias = nn.Parameter(torch.zeros(channels)) if affine else None

    def forward(self, x: Tensor) -> Tensor:
        return self.mix(x, self.weight, self.bias)

    def mix(self, x: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
        """The mix with the affine ``weight``, ``bias`` (this layer's, or a domain's), as two
        passes of the group-norm kernel with the affine inside each: ``weight * rho`` on
        instance norm, ``weight * (1 - rho)`` and the bias on layer norm. The same function as
        mixing the two normalised tensors and then applying the affine, in half the time
        (forward + backward; benchmarks/perf_norm.py --lin, docs/PERFORMANCE.md section AC)."""
        x = _planar(x)
        rho = self.rho.clamp(0, 1)
        w_inst, w_layer = (rho, 1 - rho) if weight is None else (weight * rho, weight * (1 - rho))
        inst = F.group_norm(x, x.shape[1], w_inst, None, self.eps)
        return inst + F.group_norm(x, 1, w_layer, bias, self.eps)


def _planar(x: Tensor) -> Tensor:
    """``x`` in NCHW layout. The group-norm kernel is slower on channels-last input than on a
    planar copy of it (benchmarks/perf_norm.py, docs/PERFORMANCE.md), much slower under bf16
    autocast, so the norm always runs planar (a no-op for NCHW networks, the default)."""
    return x.contiguous()


def _groups(norm: nn.Module) -> int | None:
    """The group count of a norm the group-norm kernel computes, or None (batch norm)."""
    if isinstance(norm, nn.GroupNorm):
        return int(norm.num_groups)
    if isinstance(norm, nn.InstanceNorm2d):
        return int(norm.num_features)
    return None


class DomainNorm(nn.Module):
    """Normalisation with one affine (gamma, beta) per domain: conditional instance norm.

    ``x -> gamma[d] * norm(x) + beta[d]``, the domain flag of a fully shared network. Instance
    and group norms apply the domain's affine inside the normalisation kernel (one pass), the
    layer-instance mix inside its two.
    """

    def __init__(self, channels: int, n_domains: int, kind: Norm) -> None:
        super().__init__()
        self.norm = make_norm(kind, channels, affine=False)
        self.gamma = nn.Parameter(torch.ones(n_domains, channels))
        self.beta = nn.Parameter(torch.zeros(n_domains, channels))
        self.groups = _groups(self.norm)

    def forward(self, x: Tensor, d: int) -> Tensor:
        if self.groups is not None:
            eps = float(self.norm.eps)  # type: ignore[arg-type]
            return F.group_norm(_planar(x), self.groups, self.gamma[d], self.beta[d], eps)
        if isinstance(self.norm, LayerInstanceNorm2d):
            return self.norm.mix(x, self.gamma[d], self.beta[d])
        x = self.norm(x)
        return x * self.gamma[d].view(1, -1, 1, 1) + self.beta[d].view(1, -1, 1, 1)


def make_norm(kind: Norm, channels: int, *, affine: bool = True) -> nn.Module:
    """A normalisation layer by name (``instance`` | ``group`` | ``batch`` | ``lin`` | ``none``)."""
    if kind == "instance":
        return InstanceNorm2d(channels, affine=affine)
    if kind == "group":
        return nn.GroupNorm(min(32, channels // 4) or 1, channels, affine=affine)
    if kind == "batch":
        return nn.BatchNorm2d(channels, affine=affine)
    if kind == "lin":
        return LayerInstanceNorm2d(channels, affine=affine)
    return nn.Identity()


class Norm2d(nn.Module):
    """A normalisation that is per-domain when ``n_domains > 0`` (full sharing with flag)."""

    def __init__(self, kind: Norm, channels: int, n_domains: int = 0) -> None:
        super().__init__()
        self.per_domain = n_domains > 0 and kind != "none"
        if self.per_domain:
            self.inner: nn.Module = DomainNorm(channels, n_domains, kind)
        else:
            self.inner = make_norm(kind, channels)

    def forward(self, x: Tensor, d: int) -> Tensor:
        return self.inner(x, d) if self.per_domain else self.inner(x)


class ConvBlock(nn.Module):
    """conv -> norm -> activation. ``stride=2`` halves the side."""

    def __init__(
        self,
        cin: int,
        cout: int,
        *,
        kernel: int = 3,
        stride: int = 1,
        norm: Norm = "instance",
        n_domains: int = 0,
        act: bool = True,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=norm == "none")
        self.norm = Norm2d(norm, cout, n_domains)
        self.act = nn.ReLU(inplace=True) if act else nn.Identity()

    def forward(self, x: Tensor, d: int) -> Tensor:
        return self.act(self.norm(self.conv(x), d))


class ResBlock(nn.Module):
    """Two 3x3 convolutions with a skip connection (UNIT/MUNIT's residual block)."""

    def __init__(self, channels: int, *, norm: Norm, n_domains: int = 0) -> None:
        super().__init__()
        self.a = ConvBlock(channels, channels, norm=norm, n_domains=n_domains)
        self.b = ConvBlock(channels, channels, norm=norm, n_domains=n_domains, act=False)
        for m in self.modules():
            if isinstance(m, LayerInstanceNorm2d):
                nn.init.constant_(m.rho, RHO_RESIDUAL)

    def forward(self, x: Tensor, d: int) -> Tensor:
        return x + self.b(self.a(x, d), d)


class UpBlock(nn.Module):
    """Doubles the side: nearest up-sampling + conv (no checkerboard), or a transposed conv."""

    def __init__(
        self, cin: int, cout: int, *, norm: Norm, n_domains: int = 0, mode: str = "nearest"
    ) -> None:
        super().__init__()
        self.mode = mode
        if mode == "transpose":
            self.conv: nn.Module = nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=norm == "none")
        else:
            self.conv = nn.Conv2d(cin, cout, 3, 1, 1, bias=norm == "none")
        self.norm = Norm2d(norm, cout, n_domains)

    def forward(self, x: Tensor, d: int) -> Tensor:
        if self.mode != "transpose":
            x = upsample2x(x)
        return F.relu(self.norm(self.conv(x), d), inplace=True)


class _Upsample2x(torch.autograd.Function):
    """Nearest-neighbour x2 up-sampling: forward by a broadcast copy, backward by ATen's kernel.

    On the CPU, ``F.interpolate(mode="nearest")`` forward is 2x slower than the copy (it computes
    a source index per output element), and the copy's own autograd backward (a sum over the
    broadcast axes) is 3-6x slower than ``upsample_nearest2d_backward``; this keeps the fast half
    of each (docs/PERFORMANCE.md, section 5)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        ctx.in_size = (b, c, h, w)
        return x[:, :, :, None, :, None].expand(b, c, h, 2, w, 2).reshape(b, c, 2 * h, 2 * w)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        b, c, h, w = ctx.in_size
        return torch.ops.aten.upsample_nearest2d_backward(
            grad.contiguous(), [2 * h, 2 * w], [b, c, h, w], 2.0, 2.0
        )


def upsample2x(x: Tensor) -> Tensor:
    """``F.interpolate(x, scale_factor=2, mode="nearest")`` for (B, C, H, W), faster on the CPU."""
    return _Upsample2x.apply(x)  # type: ignore[no-any-return]


class ToImage(nn.Module):
    """The decoder's last layer: a 7x7 (3x3 for small images) conv to RGB and tanh -> [-1, 1]."""

    def __init__(self, cin: int, channels: int = 3, kernel: int = 7) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, channels, kernel, 1, kernel // 2)

    def forward(self, x: Tensor, d: int) -> Tensor:
        # With 3 output channels oneDNN's NCHW kernels are slow: on channels-last input this
        # conv is 1.6-2.9x faster, forward + backward, conversion included (PERFORMANCE.md s. 5).
        y = self.conv(x.contiguous(memory_format=torch.channels_last))
        return torch.tanh(y).contiguous()


class ToVector(nn.Module):
    """Flattens a (C, h, w) map into a latent vector (``model.latent = vector``)."""

    def __init__(self, channels: int, side: int, dim: int) -> None:
        super().__init__()
        self.linear = nn.Linear(channels * side * side, dim)

    def forward(self, x: Tensor, d: int) -> Tensor:
        return self.linear(x.flatten(1))


class FromVector(nn.Module):
    """Maps a latent vector back to a (C, h, w) map."""

    def __init__(self, dim: int, channels: int, side: int) -> None:
        super().__init__()
        self.shape = (channels, side, side)
        self.linear = nn.Linear(dim, channels * side * side)

    def forward(self, x: Tensor, d: int) -> Tensor:
        return F.relu(self.linear(x), inplace=True).view(x.shape[0], *self.shape)
