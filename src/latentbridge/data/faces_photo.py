"""Photo-like faces, rendered procedurally and in batches with numpy.

Every image is a small physically-motivated scene: a head modelled as a height field (an
ellipsoid plus nose, brow, eye sockets, cheeks, lips and chin bumps) lit by one directional light
with a wrap-around diffuse term (skin's subsurface look), a specular sheen, warm-tinted shadows and
soft cast shadows (nose, hair fringe, glasses frames, chin on neck); textured skin and hair
(strands), ears, neck, clothing, glasses, and a blurred, textured background. A camera model then
applies exposure, white balance, vignetting, defocus and sensor noise.

Where each part lives: ``photo_scene`` (pose, light, shading, pixel helpers), ``photo_head``
(face, features, skin, ears, neck, clothes), ``photo_hair_glasses``; this module draws the
background and the camera and composes them all in :func:`render_photos`.

Coordinates are ``x, y`` in [-1, 1] (``y`` points down); colours are linear RGB in [0, 1] until
the camera converts to 8-bit sRGB. Each per-image parameter is an array of shape (B, 1, 1).
The attribute arrays fix skin tone, hair colour, glasses and hair length; everything else (pose,
scale, position, light, background, clothing, eye colour, hair line, frame style...) is drawn from
``rng`` independently of them.
"""

from __future__ import annotations

import numpy as np

from latentbridge.data.photo_hair_glasses import (
    _glasses_masks,
    _glasses_style,
    _hair_colour,
    _hair_masks,
    _hair_shape,
    _wear_glasses,
)
from latentbridge.data.photo_head import _clothes, _ears_neck, _face, _features, _skin_texture
from latentbridge.data.photo_scene import (
    _GAMMA,
    _blur,
    _col,
    _lin,
    _lowfreq,
    _muted,
    _noise,
    _over,
    _Scene,
    _scene,
    _shadow_shift,
    _soft,
    _u,
)


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
