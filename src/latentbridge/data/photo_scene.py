"""The photo renderer's scene and canvas: the pixel grid, each image's pose and light
(:class:`_Scene`), head-local coordinates, shading (diffuse with wrap-around, specular, warm
shadows, cast-shadow offsets) and the numpy helpers every part of the renderer paints with.

Coordinates are ``x, y`` in [-1, 1] (``y`` points down); colours are linear RGB in [0, 1]. Each
per-image parameter is an array of shape (B, 1, 1). :mod:`latentbridge.data.faces_photo`
composes the parts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_GAMMA = 2.2  # sRGB transfer function, approximated by a power law


F32 = np.float32


Shift = float | np.ndarray  # a coordinate offset: one value, or one per image (B, 1, 1)


@dataclass(frozen=True)
class _Scene:
    """Pixel grid and per-image pose and light of one batch."""

    x: np.ndarray  # (1, H, W) pixel-centre coordinates
    y: np.ndarray
    px: float  # width of one pixel in coordinate units
    cx: np.ndarray  # head centre (B, 1, 1)
    cy: np.ndarray
    a: np.ndarray  # head half-width
    b: np.ndarray  # head half-height
    cos: np.ndarray  # head roll
    sin: np.ndarray
    yaw: np.ndarray  # horizontal shift of the features, in head-widths (turning the head)
    light: np.ndarray  # (B, 3, 1, 1) unit vector towards the light (x, y, z); z towards camera
    light_rgb: np.ndarray  # (B, 3, 1, 1) light colour
    ambient: np.ndarray  # (B, 1, 1)


def _u(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    """``n`` uniform draws as a (n, 1, 1) float32 array."""
    return rng.uniform(lo, hi, size=(n, 1, 1)).astype(F32)


def _noise(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Zero-mean, unit-variance white noise (float32), uniform on 256 levels.

    Four times cheaper than ``standard_normal`` (about a tenth of the rendering time); every
    use is blurred (textures) or tiny (sensor noise), where the distribution's shape is invisible.
    """
    b = np.frombuffer(rng.bytes(int(np.prod(shape))), dtype=np.uint8).reshape(shape)
    return (b.astype(F32) - F32(127.5)) * F32(np.sqrt(12) / 256)


def _soft(d: np.ndarray, width: float) -> np.ndarray:
    """Coverage of a shape with signed distance ``d`` (> 0 inside): a linear ramp ``width`` wide."""
    return np.clip(0.5 + d / width, 0.0, 1.0)


def _lin(rgb255: np.ndarray) -> np.ndarray:
    """sRGB 0-255 -> linear 0-1 (same shape)."""
    return (np.asarray(rgb255, dtype=F32) / 255.0) ** _GAMMA


def _col(c: np.ndarray) -> np.ndarray:
    """(B, 3) colours -> (B, 3, 1, 1) for broadcasting against (B, 3, H, W) images."""
    return c[:, :, None, None].astype(F32)


def _over(img: np.ndarray, colour: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Paint ``colour`` ((B,3,1,1) or (B,3,H,W)) over ``img`` with coverage ``mask`` (B,H,W).

    Updates ``img`` in place and returns it. Only the bounding box of the batch's coverage is
    touched: most features (eyes, brows, frames) cover a small part of the image."""
    mask = np.broadcast_to(mask, (img.shape[0], *img.shape[2:]))
    cover = mask.max(axis=0) > 0
    rows, cols = np.flatnonzero(cover.any(axis=1)), np.flatnonzero(cover.any(axis=0))
    if rows.size == 0:
        return img
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    region = img[(..., *box)]
    # a colour broadcast along an axis (size 1 there) keeps that axis whole
    colour = colour[(..., *(b if n > 1 else slice(None) for b, n in zip(box, colour.shape[-2:])))]
    region += (colour - region) * mask[(slice(None), *box)][:, None]
    return img


def _blur(a: np.ndarray, sigma: float, axis: int) -> np.ndarray:
    """Gaussian blur of ``a`` along one axis (edge-replicated), ``sigma`` in pixels."""
    radius = max(1, int(3 * sigma))  # 3 sigma holds 99.7 % of the kernel
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2).astype(F32)
    k /= k.sum()
    pad = [(0, 0)] * a.ndim
    pad[axis] = (radius, radius)
    p = np.pad(a, pad, mode="edge")
    n = a.shape[axis]
    out = np.zeros_like(a)
    window = [slice(None)] * a.ndim
    for i, w in enumerate(k):
        window[axis] = slice(i, i + n)
        out += w * p[tuple(window)]
    return out


def _lowfreq(rng: np.random.Generator, shape: tuple[int, ...], size: int, cells: int) -> np.ndarray:
    """Smooth random field: N(0,1) noise on a ``cells`` x ``cells`` grid, bilinearly upsampled.

    ``shape`` is the leading shape, e.g. (B,) or (B, 3); returns ``shape + (size, size)``.
    """
    g = rng.standard_normal(size=(*shape, cells, cells)).astype(F32)
    t = np.linspace(0, cells - 1, size, dtype=F32)
    i0 = np.minimum(t.astype(int), cells - 2)
    f = (t - i0).astype(F32)
    rows = g[..., i0, :] * (1 - f)[:, None] + g[..., i0 + 1, :] * f[:, None]
    return rows[..., i0] * (1 - f) + rows[..., i0 + 1] * f


def _muted(rng: np.random.Generator, n: int, saturation: float) -> np.ndarray:
    """``n`` random sRGB colours (n, 3) in 0-255, pulled towards their grey by ``1 - saturation``."""
    c = rng.uniform(15, 240, size=(n, 3))
    grey = c.mean(axis=1, keepdims=True)
    return grey + saturation * (c - grey)


def _scene(rng: np.random.Generator, n: int, size: int) -> _Scene:
    """Draw pose (position, scale, roll, yaw) and light for ``n`` images."""
    t = (np.arange(size, dtype=F32) + 0.5) / size * 2 - 1
    scale = _u(rng, 0.88, 1.08, n)  # head size varies by about +-10 %
    roll = rng.normal(0, np.deg2rad(7), size=(n, 1, 1)).astype(F32)
    azim = rng.uniform(-np.pi, 0, size=n)  # light from the upper half (y points down)
    elev = rng.uniform(np.deg2rad(25), np.deg2rad(65), size=n)
    light = np.stack(
        [np.cos(elev) * np.cos(azim), np.cos(elev) * np.sin(azim), np.sin(elev)], axis=1
    )
    warmth = rng.uniform(-0.12, 0.12, size=(n, 1))  # warm (tungsten) to cool (daylight)
    light_rgb = 1.0 + warmth * np.array([[1.0, 0.1, -1.0]])
    return _Scene(
        x=t[None, None, :],
        y=t[None, :, None],
        px=2.0 / size,
        cx=rng.normal(0, 0.05, size=(n, 1, 1)).astype(F32),
        cy=(-0.1 + rng.normal(0, 0.04, size=(n, 1, 1))).astype(F32),
        a=0.48 * scale,
        b=0.62 * scale,
        cos=np.cos(roll),
        sin=np.sin(roll),
        yaw=_u(rng, -0.22, 0.22, n),
        light=_col(light),
        light_rgb=_col(light_rgb),
        ambient=_u(rng, 0.1, 0.28, n),
    )


def _local(s: _Scene, dx: float | np.ndarray = 0.0, dy: float | np.ndarray = 0.0) -> tuple:
    """Head-local coordinates (u, v) in image units and (un, vn) normalised by the head's
    half-axes (the jaw tapers), sampled at the pixel grid shifted by (dx, dy)."""
    x = s.x + dx - s.cx
    y = s.y + dy - s.cy
    u = s.cos * x + s.sin * y
    v = -s.sin * x + s.cos * y
    vn = v / s.b
    taper = 1.0 - 0.2 * np.clip(vn, 0, 1) ** 2  # narrower jaw than forehead
    return u, v, u / (s.a * taper), vn


def _shadow_shift(s: _Scene, depth: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Offset to sample an occluder's mask at, for a soft cast shadow ``depth`` in front."""
    lz = np.maximum(s.light[:, 2], 0.3)  # bound the shadow length for grazing light
    return depth * s.light[:, 0] / lz, depth * s.light[:, 1] / lz


def _face_mask(s: _Scene, dx: float | np.ndarray = 0.0, dy: float | np.ndarray = 0.0) -> np.ndarray:
    """Coverage of the head's skin ellipse (B, H, W)."""
    _, _, un, vn = _local(s, dx, dy)
    return _soft((1 - np.sqrt(un**2 + vn**2)) * s.a, s.px)


def _shade(n: np.ndarray, s: _Scene, wrap: float) -> np.ndarray:
    """Diffuse light (B, H, W) for unit normals ``n`` (B, 3, H, W), wrap-around for soft
    terminators (0: Lambert; larger: more light scattered into the shadow side)."""
    ndl = (n * s.light[:, :, 0, 0, None, None]).sum(axis=1)
    return np.clip((ndl + wrap) / (1 + wrap), 0, 1)


def _normals(h: np.ndarray, px: float) -> np.ndarray:
    """Unit normals (B, 3, H, W) of a height field ``h`` (B, H, W) in image units."""
    gy, gx = np.gradient(h, px, axis=(1, 2))
    gx, gy = np.clip(gx, -4, 4), np.clip(gy, -4, 4)  # bounded slope at silhouettes
    n = np.stack([-gx, -gy, np.ones_like(gx)], axis=1)
    return n / np.linalg.norm(n, axis=1, keepdims=True)


def _spec(n: np.ndarray, s: _Scene, power: float) -> np.ndarray:
    """Blinn-Phong highlight (B, H, W) with the camera along +z."""
    h = s.light[:, :, 0, 0] + np.array([0, 0, 1], dtype=F32)
    h /= np.linalg.norm(h, axis=1, keepdims=True)
    c = np.clip((n * h[:, :, None, None]).sum(axis=1), 0, 1)
    c[c < 0.02] = 0  # (tiny) ** power would be subnormal: slow, and invisible anyway
    return c**power


def _gauss(un: np.ndarray, vn: np.ndarray, cu: float | np.ndarray, cv: float, su: float, sv: float):
    """Gaussian bump exp(-((un-cu)/su)^2 - ((vn-cv)/sv)^2) in normalised head units.

    The exponent is capped at 60 (a floor of 1e-26): float32 ``exp`` of larger ones gives
    subnormal numbers, which make every later operation on them ~10x slower on x86."""
    q = ((un - cu) / su) ** 2 + ((vn - cv) / sv) ** 2
    return np.exp(-np.minimum(q, 60.0))


_WARM_SHADOW = np.array([0.85, 1.0, 1.12], dtype=F32)[None, :, None, None]  # red scatters most


def _lit(albedo: np.ndarray, diffuse: np.ndarray, s: _Scene) -> np.ndarray:
    """Albedo (B,3,H,W) under ambient + diffuse (B,H,W) light; shadows tint warm like skin."""
    shade = s.ambient + (1 - s.ambient) * diffuse
    return albedo * shade[:, None] ** _WARM_SHADOW * s.light_rgb
