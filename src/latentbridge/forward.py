"""The step's forward pass: every quantity of the notation computed once, on first use.

``x[a]`` a real batch of domain a; ``mu[a] = EN_a(x[a])`` (read through Gaussian pixel noise of
std ``input_noise`` when that switch is on: denoising auto-encoders); ``z[a]`` = mu (plus unit
Gaussian noise when the VAE prior is on, UNIT); ``x_aa = DE_a(z[a])``; ``x_ab = DE_b(z[a])``;
``z_ab = EN_b(x_ab)`` (read from x_ab plus Gaussian noise of std ``read_noise`` when the
cycle-noise switch is on, re-exposed and re-white-balanced when b is in ``read_relit``, and as
a fixed image, without a gradient into x_ab, when ``back_translate``); ``x_aba = DE_a(z_ab)``;
``x_id(a, b) = DE_b(EN_a(x[b]))``, the a -> b translator applied to an image already in b
(CycleGAN's identity mapping); ``x_ab_mirror(a, b)``, the translation of x[a]'s mirror image,
mirrored back; ``x_ab_negative(a, b) = DE_b(EN_a(-x[a]))``, the translation of its negative;
``x_ab_relit(a, b, ...)``, the translation of x[a] re-exposed and re-white-balanced. Terms ask
for what they need; nothing is computed twice, and nothing a term does not need is computed at
all.

With a style code (``model.style_dim``, MUNIT): ``s[a] = ES_a(x[a])``; ``x_aa = DE_a(z[a], s[a])``;
``x_ab = DE_b(z[a], r_ab)`` with r_ab drawn from N(0, I) when ``draw_style`` (training), else 0;
``s_ab = ES_b(x_ab)``; ``x_aba = DE_a(z_ab, s[a])`` — the way back takes the source's own style.

TraVeLGAN (``loss.travel``): ``e[a] = S(x[a])`` and ``e_ab = S(x_ab)``, the siamese network's
embeddings of the real batch and of its translation.

Labels (``loss.labels``): ``y[a]``, the (B, A) class ids of x[a] where the batch carries them
(the ``labels/<a>`` entries of :class:`~latentbridge.data.stream.TrainData`'s batches).

CoGAN's coupled generation: ``z_prior`` ~ N(0, I), one draw of a code's shape for the whole step;
``x_prior[b] = DE_b(z_prior)`` in every domain from the same draw (with a drawn style, if any);
``mu_prior[b] = EN_b(x_prior[b])`` reads a sample back as a fixed image (the encoder inverts the
generator, as CoGAN inverts it by search to translate a given image).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from latentbridge.augment import relight
from latentbridge.data.stream import split_labels

if TYPE_CHECKING:
    from latentbridge.model import Translator


class Forward:
    """Lazy, cached quantities of one step for one batch per domain."""

    def __init__(
        self,
        gen: Translator,
        x: dict[str, Tensor],
        *,
        sample: bool,
        read_noise: float = 0.0,
        back_translate: bool = False,
        draw_style: bool = False,
        input_noise: float = 0.0,
        read_relit: tuple[str, ...] = (),
        relight_range: tuple[float, float] = (0.0, 0.0),
    ) -> None:
        self.gen = gen
        self.x, self.y = split_labels(x)
        self.sample = sample
        self.read_noise = read_noise
        self.read_relit, self.relight_range = read_relit, relight_range  # (gain, warmth)
        self.back_translate = back_translate
        self.draw_style = draw_style
        self.input_noise = input_noise
        self._cache: dict[tuple[str, ...], Tensor] = {}

    def _get(self, key: tuple[str, ...], compute: Callable[[], Tensor]) -> Tensor:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def _noisy(self, mu: Tensor) -> Tensor:
        return mu + torch.randn_like(mu) if self.sample else mu

    def mu(self, a: str) -> Tensor:
        """EN_a(x[a]): the code's mean."""
        return self._get(("mu", a), lambda: self.gen.encode(self._input(self.x[a]), a))

    def _input(self, x: Tensor) -> Tensor:
        return x + self.input_noise * torch.randn_like(x) if self.input_noise > 0 else x

    def z(self, a: str) -> Tensor:
        """The code decoders see: mu, or mu + N(0, I) with the VAE prior."""
        return self._get(("z", a), lambda: self._noisy(self.mu(a)))

    def s(self, a: str) -> Tensor | None:
        """ES_a(x[a]): the image's own style code (None without one)."""
        if not self.gen.style_dim:
            return None
        return self._get(("s", a), lambda: self.gen.encode_style(self.x[a], a))

    def s_drawn(self, a: str, b: str) -> Tensor | None:
        """r_ab, the style x_ab is drawn with: N(0, I) when drawing, else 0 (None without one)."""
        if not self.gen.style_dim:
            return None

        def draw() -> Tensor:
            shape = (self.x[a].shape[0], self.gen.style_dim)
            r = torch.randn if self.draw_style else torch.zeros
            return r(shape, device=self.x[a].device)

        return self._get(("s_drawn", a, b), draw)

    def s_ab(self, a: str, b: str) -> Tensor:
        """ES_b(x_ab): the style read back from the translation."""
        return self._get(("s_ab", a, b), lambda: self.gen.encode_style(self.x_ab(a, b), b))

    def x_aa(self, a: str) -> Tensor:
        """The reconstruction DE_a(z[a], s[a])."""
        return self._get(("x_aa", a), lambda: self.gen.decode(self.z(a), a, self.s(a)))

    def x_ab(self, a: str, b: str) -> Tensor:
        """The translation DE_b(z[a], r_ab)."""
        return self._get(("x_ab", a, b), lambda: self.gen.decode(self.z(a), b, self.s_drawn(a, b)))

    def mu_ab(self, a: str, b: str) -> Tensor:
        """EN_b(x_ab): the code of the translation, read back by b's encoder (through Gaussian
        pixel noise of std ``read_noise``: what the cycle needs must survive it, so it cannot
        hide in faint patterns of x_ab; as a fixed image with ``back_translate``: the terms
        that read it back train the way back only)."""
        return self._get(
            ("mu_ab", a, b), lambda: self.gen.encode(self._read(self.x_ab(a, b), b), b)
        )

    def _read(self, x: Tensor, b: str) -> Tensor:
        x = x.detach() if self.back_translate else x
        if b in self.read_relit:  # re-exposed and re-white-balanced as a camera might have
            x = relight(x, *self.relight_range)
        return x + self.read_noise * torch.randn_like(x) if self.read_noise > 0 else x

    def z_ab(self, a: str, b: str) -> Tensor:
        return self._get(("z_ab", a, b), lambda: self._noisy(self.mu_ab(a, b)))

    def x_aba(self, a: str, b: str) -> Tensor:
        """The cycle DE_a(z_ab, s[a]): back to a through b."""
        return self._get(("x_aba", a, b), lambda: self.gen.decode(self.z_ab(a, b), a, self.s(a)))

    def x_id(self, a: str, b: str) -> Tensor:
        """DE_b(EN_a(x[b]), s[b]): the a -> b translator applied to b's own batch."""

        def compute() -> Tensor:
            z = self._noisy(self.gen.encode(self._input(self.x[b]), a))
            return self.gen.decode(z, b, self.s(b))

        return self._get(("x_id", a, b), compute)

    def x_ab_mirror(self, a: str, b: str) -> Tensor:
        """flip(DE_b(EN_a(flip(x[a])), r_ab)): x_ab of the mirror image, mirrored back (with the
        style x_ab is drawn with). With the VAE prior the mirror image's code takes z[a]'s own
        noise, mirrored where the code is spatial, so the two translations differ only by what
        the translator does with a mirror image."""

        def compute() -> Tensor:
            mu = self.gen.encode(self._input(self.x[a].flip(-1)), a)
            if self.sample:
                noise = self.z(a) - self.mu(a)
                mu = mu + (noise.flip(-1) if noise.dim() == 4 else noise)
            return self.gen.decode(mu, b, self.s_drawn(a, b)).flip(-1)

        return self._get(("x_ab_mirror", a, b), compute)

    def x_ab_negative(self, a: str, b: str) -> Tensor:
        """DE_b(EN_a(-x[a]), r_ab): x_ab of x[a]'s negative (images in [-1, 1], so -x swaps
        light and dark and every colour for its complement), with the style x_ab is drawn with
        and, with the VAE prior, z[a]'s own noise."""

        def compute() -> Tensor:
            mu = self.gen.encode(self._input(-self.x[a]), a)
            if self.sample:
                mu = mu + (self.z(a) - self.mu(a))
            return self.gen.decode(mu, b, self.s_drawn(a, b))

        return self._get(("x_ab_negative", a, b), compute)

    def x_ab_relit(self, a: str, b: str, gain: float, warmth: float) -> Tensor:
        """DE_b(EN_a(relight(x[a])), r_ab): x_ab of x[a] re-exposed and re-white-balanced
        (:func:`latentbridge.augment.relight`, one draw per step), with the style x_ab is drawn
        with and, with the VAE prior, z[a]'s own noise."""

        def compute() -> Tensor:
            mu = self.gen.encode(self._input(relight(self.x[a], gain, warmth)), a)
            if self.sample:
                mu = mu + (self.z(a) - self.mu(a))
            return self.gen.decode(mu, b, self.s_drawn(a, b))

        return self._get(("x_ab_relit", a, b, gain, warmth), compute)

    def e(self, a: str) -> Tensor:
        """S(x[a]): the siamese embedding of the real batch (TraVeLGAN)."""
        return self._get(("e", a), lambda: self._siamese(self.x[a]))

    def e_ab(self, a: str, b: str) -> Tensor:
        """S(x_ab): the siamese embedding of the translation."""
        return self._get(("e_ab", a, b), lambda: self._siamese(self.x_ab(a, b)))

    def _siamese(self, x: Tensor) -> Tensor:
        assert self.gen.siamese is not None, "loss.travel builds the siamese network"
        return self.gen.siamese(x)

    def z_prior(self) -> Tensor:
        """One draw from N(0, I) of a code's shape, shared by every domain's decoder."""

        def draw() -> Tensor:
            mu = self.mu(next(iter(self.x)))
            return torch.randn(mu.shape, device=mu.device)

        return self._get(("z_prior",), draw)

    def x_prior(self, b: str) -> Tensor:
        """DE_b(z_prior): domain b's sample of the shared draw (CoGAN's coupled generators)."""

        def compute() -> Tensor:
            z = self.z_prior()
            style = None
            if self.gen.style_dim and self.draw_style:
                style = torch.randn(z.shape[0], self.gen.style_dim, device=z.device)
            return self.gen.decode(z, b, style)

        return self._get(("x_prior", b), compute)

    def mu_prior(self, b: str) -> Tensor:
        """EN_b(x_prior[b]), read as a fixed image: the encoder learns to invert the generator."""
        return self._get(("mu_prior", b), lambda: self.gen.encode(self.x_prior(b).detach(), b))

    def computed(self, name: str) -> dict[tuple[str, ...], Tensor]:
        """Already computed values of one quantity, keyed by their domains."""
        return {k[1:]: v for k, v in self._cache.items() if k[0] == name}
