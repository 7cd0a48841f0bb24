"""Photo-like faces, rendered procedurally and in batches with numpy.

Every image is a small physically-motivated scene: a head modelled as a height field (an
ellipsoid plus nose, brow, eye sockets, cheeks, lips and chin bumps) lit by one directional light
with a wrap-around diffuse term (skin's subsurface look), a specular sheen, warm-tinted shadows and
soft cast shadows (nose, hair fringe, glasses frames, chin on neck); textured skin and hair
(strands), ears, neck, clothing, glasses, and a blurred, textured background. A camera model then
applies exposure, white balance, vignetting, defocus and sensor noise.

Coordinates are ``x, y`` in [-1, 1] (``y`` points down); colours are linear RGB in [0, 1] until
the camera converts to 8-bit sRGB. Each per-image parameter is an array of shape (B, 1, 1).
The attribute arrays fix skin tone, hair colour, glasses and hair length; everything else (pose,
scale, position, light, background, clothing, eye colour, hair line, frame style...) is drawn from
``rng`` independently of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latentbridge.data.faces_attrs import HAIR_RGB, SKIN_RGB

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


@dataclass(frozen=True)
class _Features:
    """Per-image facial layout and the independent looks (B, 1, 1) unless noted."""

    fx: np.ndarray  # horizontal feature offset from yaw, normalised units
    eye_sep: np.ndarray  # half distance between eye centres
    eye_y: np.ndarray
    mouth_y: np.ndarray
    mouth_w: np.ndarray
    smile: np.ndarray
    gaze: np.ndarray
    iris_rgb: np.ndarray  # (B, 3, 1, 1) linear
    skin: np.ndarray  # (B, 3, 1, 1) linear albedo
    hair: np.ndarray  # (B, 3, 1, 1) linear albedo


_IRIS_RGB = np.array([[70, 45, 25], [110, 75, 40], [70, 110, 150], [85, 110, 70]])  # brown..green


def _features(rng: np.random.Generator, s: _Scene, skin: np.ndarray, hair: np.ndarray):
    """Draw the per-image face layout; ``skin``/``hair`` are class ids (B,)."""
    n = skin.shape[0]
    tone = 1 + rng.normal(0, 0.05, size=(n, 1))  # within-class albedo variation of +-5 %
    shine = 1 + rng.normal(0, 0.08, size=(n, 1))
    return _Features(
        fx=s.yaw,
        eye_sep=_u(rng, 0.33, 0.39, n),
        eye_y=_u(rng, -0.06, 0.02, n),
        mouth_y=_u(rng, 0.5, 0.58, n),
        mouth_w=_u(rng, 0.24, 0.32, n),
        smile=_u(rng, -0.4, 1.0, n),
        gaze=_u(rng, -0.04, 0.04, n),
        iris_rgb=_col(_lin(_IRIS_RGB[rng.integers(0, len(_IRIS_RGB), size=n)])),
        skin=_col(_lin(SKIN_RGB[skin]) * tone),
        hair=_col(_lin(HAIR_RGB[hair]) * shine),
    )


def _face_height(s: _Scene, f: _Features, un: np.ndarray, vn: np.ndarray) -> np.ndarray:
    """Height field (B, H, W) of the face: ellipsoid plus feature bumps, in image units."""
    inside = np.clip(1 - un**2 - vn**2, 0, 1)
    au = np.abs(un - f.fx)
    bumps = (
        0.22 * _gauss(un, vn, f.fx, 0.14, 0.09, 0.2)  # nose
        + 0.05 * _gauss(au, vn, f.eye_sep, f.eye_y - 0.22, 0.3, 0.08)  # brow ridge
        - 0.08 * _gauss(au, vn, f.eye_sep, f.eye_y, 0.17, 0.12)  # eye sockets
        + 0.05 * _gauss(au, vn, 0.45, 0.28, 0.2, 0.15)  # cheekbones
        + 0.04 * _gauss(un, vn, f.fx, f.mouth_y, f.mouth_w, 0.07)  # lips
        + 0.05 * _gauss(un, vn, f.fx, 0.82, 0.2, 0.1)  # chin
    )
    return s.a * (0.9 * np.sqrt(inside) + bumps * inside)


def _eyes(img: np.ndarray, s: _Scene, f: _Features, un: np.ndarray, vn: np.ndarray):
    """Paint sclera, iris, pupil and lash line of both eyes onto the albedo ``img``."""
    for side in (-1.0, 1.0):
        cu = f.fx + side * f.eye_sep
        r = np.sqrt(((un - cu) / 0.15) ** 2 + ((vn - f.eye_y) / 0.07) ** 2)
        sclera = _soft((1 - r) * 0.07 * s.b, s.px)
        dist = np.sqrt(((un - cu - f.gaze) * s.a) ** 2 + ((vn - f.eye_y) * s.b) ** 2)
        lid = _soft((0.25 - np.abs(r - 1)) * 0.07 * s.b, s.px) * (vn < f.eye_y + 0.02)
        img = _over(img, _col(_lin(np.array([[225, 218, 212]]))), sclera)
        img = _over(img, f.iris_rgb, _soft(0.065 * s.a - dist, s.px) * sclera)
        img = _over(
            img, _col(_lin(np.array([[12, 10, 10]]))), _soft(0.03 * s.a - dist, s.px) * sclera
        )
        img = _over(img, f.skin * 0.15, lid)
    return img


def _brows_nose_mouth(img: np.ndarray, s: _Scene, f: _Features, un: np.ndarray, vn: np.ndarray):
    """Paint eyebrows (hair colour, darker), nostrils and lips onto the albedo ``img``."""
    for side in (-1.0, 1.0):
        du = (un - f.fx - side * f.eye_sep) / 0.2
        vb = f.eye_y - 0.17 - 0.06 * (1 - du**2)
        brow = _soft((0.035 - np.abs(vn - vb)) * s.b, s.px) * _soft(
            (1 - np.abs(du)) * 0.2 * s.a, s.px
        )
        img = _over(img, f.hair * 0.55, 0.9 * brow)
        nostril = _gauss(un, vn, f.fx + side * 0.06, 0.32, 0.04, 0.025)
        img = _over(img, f.skin * 0.2, 0.6 * nostril)
    du = (un - f.fx) / f.mouth_w
    lips = _soft((1 - np.sqrt(du**2 + ((vn - f.mouth_y) / 0.075) ** 2)) * 0.07 * s.b, s.px)
    img = _over(img, f.skin * np.array([0.8, 0.42, 0.42], dtype=F32)[None, :, None, None], lips)
    line = f.mouth_y - f.smile * 0.05 * (1 - du**2) + 0.01
    seam = _soft((0.014 - np.abs(vn - line)) * s.b, s.px) * _soft(
        (1 - np.abs(du)) * 0.2 * s.a, s.px
    )
    return _over(img, f.skin * 0.12, seam)


def _skin_texture(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """Multiplicative skin texture (B, H, W) around 1: blotches and pores."""
    pores = _blur(_noise(rng, (n, size, size)), 0.6, 1)
    return 1 + 0.05 * _lowfreq(rng, (n,), size, 6) + 0.06 * pores


_WARM_SHADOW = np.array([0.85, 1.0, 1.12], dtype=F32)[None, :, None, None]  # red scatters most


def _lit(albedo: np.ndarray, diffuse: np.ndarray, s: _Scene) -> np.ndarray:
    """Albedo (B,3,H,W) under ambient + diffuse (B,H,W) light; shadows tint warm like skin."""
    shade = s.ambient + (1 - s.ambient) * diffuse
    return albedo * shade[:, None] ** _WARM_SHADOW * s.light_rgb


def _face(
    img: np.ndarray, s: _Scene, f: _Features, tex: np.ndarray, occluders: np.ndarray
) -> np.ndarray:
    """Paint the shaded face; ``occluders`` (B,H,W) is the cast-shadow coverage from hair and
    glasses (0: lit, 1: fully shadowed)."""
    _, _, un, vn = _local(s)
    h = _face_height(s, f, un, vn)
    n = _normals(h, s.px)
    sx, sy = _shadow_shift(s, 0.08 * s.a)
    _, _, un2, vn2 = _local(s, sx, sy)
    nose = _gauss(un, vn, f.fx, 0.14, 0.09, 0.2)
    nose_shadow = np.clip(_gauss(un2, vn2, f.fx, 0.14, 0.09, 0.2) - nose, 0, 1)
    albedo = f.skin * tex[:, None]
    cheeks = _gauss(np.abs(un - f.fx), vn, 0.42, 0.3, 0.18, 0.14)
    albedo = albedo * (
        1 + 0.1 * cheeks[:, None] * np.array([1, -0.4, -0.4], dtype=F32)[None, :, None, None]
    )
    albedo = _brows_nose_mouth(_eyes(albedo, s, f, un, vn), s, f, un, vn)
    diffuse = _shade(n, s, 0.25) * (1 - 0.8 * np.clip(nose_shadow + occluders, 0, 1))
    ks = 0.08 * (1 - s.ambient)  # a sheen, weaker under flat (ambient) light
    colour = _lit(albedo, diffuse, s) + (ks * _spec(n, s, 16.0))[:, None] * s.light_rgb
    return _over(img, colour, _face_mask(s))


def _ears_neck(img: np.ndarray, s: _Scene, f: _Features, tex: np.ndarray) -> np.ndarray:
    """Paint the neck (cylinder, shadowed by the chin) and both ears."""
    w = 0.6 * s.a
    nx = np.clip((s.x - s.cx) / w, -1, 1)
    normal = np.stack(np.broadcast_arrays(nx, -0.25 + 0 * nx, np.sqrt(1 - nx**2)), axis=1)
    normal = normal / np.linalg.norm(normal, axis=1, keepdims=True)
    sx, sy = _shadow_shift(s, 0.3 * s.a)
    chin = _face_mask(s, sx, sy)
    diffuse = _shade(normal, s, 0.3) * (1 - 0.8 * chin)
    neck = _soft(w - np.abs(s.x - s.cx), s.px) * _soft(s.y - s.cy, s.px)
    img = _over(img, _lit(f.skin * 0.92 * tex[:, None], diffuse, s), neck)
    _, _, un, vn = _local(s)
    for side in (-1.0, 1.0):
        r = np.sqrt(((un - side * 0.98) / 0.13) ** 2 + ((vn - f.eye_y - 0.12) / 0.22) ** 2)
        lit = 0.45 + 0.35 * side * s.light[:, 0]  # ear facing the light is brighter
        img = _over(img, _lit(f.skin * 0.85, lit, s), _soft((1 - r) * 0.13 * s.a, s.px))
    return img


def _clothes(rng: np.random.Generator, img: np.ndarray, s: _Scene) -> np.ndarray:
    """Paint shoulders in a random-coloured, textured, shaded top with a random neckline."""
    n, size = img.shape[0], img.shape[-1]
    colour = _col(_lin(_muted(rng, n, 0.7)))
    top = s.cy + 0.98 * s.b + 0.15 * ((s.x - s.cx) / s.a) ** 2
    depth = _u(rng, 0.0, 0.25, n)  # neckline depth: crew neck to V-neck
    neckline = s.cy + 0.95 * s.b + depth - 1.6 * np.abs(s.x - s.cx)
    mask = _soft(s.y - top, s.px) * (1 - _soft(neckline - s.y, s.px))
    nx = np.clip((s.x - s.cx) / (3 * s.a), -1, 1)
    normal = np.stack(np.broadcast_arrays(nx, -0.3 + 0 * nx, np.sqrt(1 - nx**2)), axis=1)
    normal = normal / np.linalg.norm(normal, axis=1, keepdims=True)
    weave = _blur(_noise(rng, (n, size, size)), 0.7, 2)
    tex = 1 + 0.12 * _lowfreq(rng, (n,), size, 5) + 0.08 * weave
    return _over(img, _lit(colour * tex[:, None], _shade(normal, s, 0.2), s), mask)


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


def _background(rng: np.random.Generator, n: int, size: int, s: _Scene) -> np.ndarray:
    """Out-of-focus surroundings (B,3,H,W): a gradient, blotches, a wall edge and bokeh."""
    c1, c2, c3 = (_col(_lin(_muted(rng, n, 0.45))) for _ in range(3))
    ang = _u(rng, 0, 2 * np.pi, n)
    t = (np.cos(ang) * s.x + np.sin(ang) * s.y + 1.5) / 3
    img = c1 * (1 - t[:, None]) + c2 * t[:, None]
    img = img * (1 + 0.3 * _lowfreq(rng, (n, 3), size, 4))
    edge_x = _u(rng, -1.5, 1.5, n)  # outside [-1, 1]: no edge in view
    img = _over(img, c3, _soft(s.x - edge_x, 0.08))
    for _ in range(3):
        cx, cy, r = _u(rng, -1, 1, n), _u(rng, -1, 1, n), _u(rng, 0.08, 0.3, n)
        disc = _soft(r - np.sqrt((s.x - cx) ** 2 + (s.y - cy) ** 2), 0.1)
        img = img + 0.25 * disc[:, None] * _col(_lin(rng.uniform(120, 255, size=(n, 3))))
    return np.clip(img, 0, None)


def _camera(rng: np.random.Generator, img: np.ndarray, s: _Scene) -> np.ndarray:
    """Exposure, vignetting, defocus, sensor noise, sRGB encoding -> uint8 (B, H, W, 3)."""
    n, size = img.shape[0], img.shape[-1]
    img = img * _u(rng, 0.8, 1.25, n)[:, None]
    img = img * (1 - _u(rng, 0, 0.35, n) * (s.x**2 + s.y**2) / 2)[:, None]
    soft = _blur(_blur(img, 0.7 * size / 64 + 0.3, 2), 0.7 * size / 64 + 0.3, 3)
    mix = _u(rng, 0.0, 0.7, n)[:, None]  # per-image focus: sharp .. slightly defocused
    img = np.clip(img * (1 - mix) + soft * mix, 0, 1) ** (1 / _GAMMA)
    sigma = _u(rng, 0.006, 0.03, n)[:, None]
    luma = _noise(rng, (n, 1, size, size))
    chroma = _noise(rng, (n, 3, size, size))
    img = img + sigma * (0.8 * luma + 0.4 * chroma)
    out = np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)
    return out.transpose(0, 2, 3, 1)


def render_photos(attrs: dict[str, np.ndarray], size: int, rng: np.random.Generator) -> np.ndarray:
    """Render one photo per subject.

    ``attrs`` maps each name in ``FACE_ATTRIBUTES`` to class ids of shape (B,). Returns uint8
    RGB images (B, size, size, 3). Deterministic given the state of ``rng``.
    """
    n = attrs["skin_tone"].shape[0]
    s = _scene(rng, n, size)
    f = _features(rng, s, attrs["skin_tone"], attrs["hair_color"])
    hs = _hair_shape(rng, attrs["hair_length"])
    g = _glasses_style(rng, attrs["glasses"])
    img = _background(rng, n, size, s)
    hair = _hair_colour(rng, s, f, hs)
    back, front = _hair_masks(s, hs)
    img = _over(img, hair * 0.75, back)  # hair behind the head gets less light
    img = _clothes(rng, img, s)
    tex = _skin_texture(rng, n, size)
    img = _ears_neck(img, s, f, tex)
    sx, sy = _shadow_shift(s, 0.06 * s.a)
    occluders = (
        _hair_masks(s, hs, sx, sy)[1] * (1 - front) + 0.6 * _glasses_masks(s, f, g, sx, sy)[0]
    )
    img = _face(img, s, f, tex, occluders)
    img = _over(img, hair, front)
    img = _wear_glasses(img, s, f, g)
    return _camera(rng, img, s)
