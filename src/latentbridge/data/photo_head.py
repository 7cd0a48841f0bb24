"""The photo renderer's head: each image's facial layout and looks (:class:`_Features`), the
face as a lit height field with eyes, brows, nose and mouth, skin texture, ears, neck and
clothes. :mod:`latentbridge.data.faces_photo` composes the parts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latentbridge.data.faces_attrs import HAIR_RGB, SKIN_RGB
from latentbridge.data.photo_scene import (
    F32,
    _blur,
    _col,
    _face_mask,
    _gauss,
    _lin,
    _lit,
    _local,
    _lowfreq,
    _muted,
    _noise,
    _normals,
    _over,
    _Scene,
    _shade,
    _shadow_shift,
    _soft,
    _spec,
    _u,
)


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
