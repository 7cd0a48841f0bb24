"""The photo renderer's hair (style, the coverage behind and in front of the head, shaded
strands) and glasses (frame style, frames and lenses, tint and glare).
:mod:`latentbridge.data.faces_photo` composes the parts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latentbridge.data.photo_head import _Features
from latentbridge.data.photo_scene import (
    F32,
    Shift,
    _blur,
    _col,
    _gauss,
    _lin,
    _lit,
    _local,
    _noise,
    _normals,
    _over,
    _Scene,
    _shade,
    _soft,
    _spec,
    _u,
)


@dataclass(frozen=True)
class _HairShape:
    """Per-image hair style, drawn independently of the attributes (B, 1, 1)."""

    volume: np.ndarray  # outer size relative to the head
    line: np.ndarray  # hair line height (normalised units; lower = more fringe)
    part: np.ndarray  # side-part asymmetry
    length: np.ndarray  # long hair: bottom edge in head half-heights below the centre
    wave: np.ndarray  # long hair: phase of the wavy bottom edge
    long: np.ndarray  # 1.0 where the hair_length attribute is "long"


def _hair_shape(rng: np.random.Generator, long: np.ndarray) -> _HairShape:
    """Draw hair styles for a batch; ``long`` is the hair_length attribute (B,)."""
    n = long.shape[0]
    return _HairShape(
        volume=_u(rng, 1.05, 1.15, n),
        line=_u(rng, -0.62, -0.3, n),
        part=_u(rng, -0.25, 0.25, n),
        length=_u(rng, 1.6, 2.1, n),
        wave=_u(rng, 0, 2 * np.pi, n),
        long=long.astype(F32)[:, None, None],
    )


def _hair_masks(
    s: _Scene, hs: _HairShape, dx: Shift = 0.0, dy: Shift = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Coverage (B,H,W) of the hair behind the head and of the hair in front of it."""
    u, v, un, vn = _local(s, dx, dy)
    rh = np.sqrt((u / (s.a * hs.volume)) ** 2 + ((v + 0.08 * s.b) / (s.b * hs.volume)) ** 2)
    outer = _soft((1 - rh) * s.a, s.px)
    width = s.a * (1.2 + 0.25 * np.clip(v / s.b, 0, 2))  # long hair widens over the shoulders
    bottom = s.b * hs.length + 0.05 * s.a * np.sin(u / s.a * 9 + hs.wave)
    below = _soft(np.minimum(width - np.abs(u), bottom - v), s.px) * _soft(v + 0.2 * s.b, s.px)
    back = np.maximum(outer, hs.long * below)
    outside = 1 - _soft((1 - np.sqrt(un**2 + vn**2)) * s.a, s.px)
    line = hs.line + 0.55 * un**2 + hs.part * un
    front = outer * np.maximum(_soft((line - vn) * s.b, s.px), outside * _soft(-vn * s.b, s.px))
    locks = hs.long * below * outside * _soft((vn + 0.2) * s.b, s.px)
    return back, np.maximum(front, locks)


def _hair_colour(rng: np.random.Generator, s: _Scene, f: _Features, hs: _HairShape):
    """Shaded, strand-textured hair colour (B, 3, H, W)."""
    n, size = s.cx.shape[0], s.x.shape[-1]
    u, v, _, _ = _local(s)
    rh2 = (u / (s.a * hs.volume)) ** 2 + ((v + 0.08 * s.b) / (s.b * hs.volume)) ** 2
    cyl = 0.6 * np.sqrt(np.clip(1 - (u / (1.4 * s.a)) ** 2, 0, 1))
    h = s.a * np.maximum(np.sqrt(np.clip(1 - rh2, 0, 1)), cyl)
    normal = _normals(h, s.px)
    noise = _noise(rng, (n, size, size))
    streaks = _blur(_blur(noise, 0.35 * size / 16, 1), 0.5, 2)  # strands run down
    streaks = np.clip(0.5 + 1.2 * streaks / (streaks.std() + 1e-6) * 0.25, 0, 1)
    albedo = f.hair * (0.55 + 0.9 * streaks)[:, None]
    sheen = 0.25 * _spec(normal, s, 10.0) * (0.4 + streaks)  # anisotropic-looking highlight
    return _lit(albedo, _shade(normal, s, 0.2), s) + sheen[:, None] * s.light_rgb


_FRAME_RGB = np.array(
    [[14, 14, 14], [70, 40, 24], [185, 150, 80], [165, 165, 172]]
)  # black..silver


@dataclass(frozen=True)
class _Glasses:
    """Per-image frame style (B, 1, 1), drawn independently; ``on`` is the glasses attribute."""

    ru: np.ndarray  # lens half-width, normalised units
    rv: np.ndarray  # lens half-height
    power: np.ndarray  # superellipse exponent: 2 round .. 4 rectangular
    rgb: np.ndarray  # (B, 3, 1, 1) frame colour, linear
    on: np.ndarray


def _glasses_style(rng: np.random.Generator, on: np.ndarray) -> _Glasses:
    """Draw frame shapes and colours; ``on`` is the glasses attribute (B,)."""
    n = on.shape[0]
    return _Glasses(
        ru=_u(rng, 0.17, 0.21, n),
        rv=_u(rng, 0.12, 0.16, n),
        power=_u(rng, 2.0, 4.0, n),
        rgb=_col(_lin(_FRAME_RGB[rng.integers(0, len(_FRAME_RGB), size=n)])),
        on=on.astype(F32)[:, None, None],
    )


def _glasses_masks(s: _Scene, f: _Features, g: _Glasses, dx: Shift = 0.0, dy: Shift = 0.0) -> tuple:
    """Coverage (B,H,W) of the frames and of the lenses."""
    _, _, un, vn = _local(s, dx, dy)
    t = np.maximum(1.2 * s.px, 0.05 * s.a)  # frame thickness: at least ~1 pixel
    frame, lens = np.zeros_like(un), np.zeros_like(un)
    for side in (-1.0, 1.0):
        du = np.abs(un - f.fx - side * f.eye_sep) / g.ru
        dv = np.abs(vn - f.eye_y) / g.rv
        r = (du**g.power + dv**g.power) ** (1 / g.power)
        frame = np.maximum(frame, _soft(t / 2 - np.abs(r - 1) * g.rv * s.b, s.px))
        lens = np.maximum(lens, _soft((1 - r) * g.rv * s.b, s.px))
    au = np.abs(un - f.fx)
    bar = _soft(t / 2 - np.abs(vn - f.eye_y + 0.03) * s.b, s.px)
    bridge = bar * _soft((f.eye_sep - g.ru + 0.03 - au) * s.a, s.px)
    temples = (
        bar * _soft((au - f.eye_sep - g.ru + 0.03) * s.a, s.px) * _soft((1.02 - au) * s.a, s.px)
    )
    return g.on * np.maximum(frame, np.maximum(bridge, temples)), g.on * lens


def _wear_glasses(img: np.ndarray, s: _Scene, f: _Features, g: _Glasses) -> np.ndarray:
    """Tint and reflect in the lenses, then paint the (lit) frames."""
    frame, lens = _glasses_masks(s, f, g)
    _, _, un, vn = _local(s)
    glare = _gauss(un + 0.8 * vn, vn, 0.1 + f.fx, 0.0, 0.5, 3.0)  # diagonal reflection streak
    img = img * (1 - 0.15 * lens[:, None]) + (0.12 * lens * glare)[:, None] * s.light_rgb
    lit = s.ambient + (1 - s.ambient) * 0.7
    return _over(img, g.rgb * lit[:, None] * s.light_rgb + 0.05, frame)
