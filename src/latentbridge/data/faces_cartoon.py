"""Cartoon faces: artist-drawn DiceBear avatars, rendered offline with resvg and recoloured.

Rendering an avatar (DiceBear in Python, then resvg) takes milliseconds: too slow per image.
So a *structure* (hair style, glasses on/off and everything DiceBear's PRNG picks: eyes, mouth,
nose, eyebrows, earrings, small rotation/scale/shift) is rendered once, twice over: with skin and
hair black, and with skin pure red and hair pure green. Since every fill colour enters an
anti-aliased, source-over composite linearly, the premultiplied image for any skin colour S and
hair colour H is exactly ``base + w_skin * S + w_hair * H`` (up to 8-bit rounding), where
``w_skin`` and ``w_hair`` are the red/green differences of the two renders. A cartoon is then a
structure drawn from the pool that matches its glasses and hair-length attributes, recoloured with
its skin tone and hair colour, optionally mirrored, over a flat pastel background.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from importlib.resources import files
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from latentbridge.data.faces_attrs import HAIR_RGB, SKIN_RGB, hex_colour
from latentbridge.errors import UserError

if TYPE_CHECKING:
    from dicebear import Style


def _names(prefix: str, numbers: str) -> tuple[str, ...]:
    """``_names("variant", "1 2 10")`` -> ("variant01", "variant02", "variant10")."""
    return tuple(f"{prefix}{int(k):02d}" for k in numbers.split())


@dataclass(frozen=True)
class CartoonStyle:
    """How one DiceBear style expresses the shared attributes.

    Hair variants were sorted by eye (contact sheets of every variant): ``short`` ends above the
    jaw, ``long`` reaches clearly below it; bald, nearly bald, tied-up and in-between variants are
    left out so that the hair colour and length are always visible.
    """

    name: str
    skin: str  # DiceBear colour name of the skin
    hair: str  # DiceBear colour name of the hair
    glasses: str  # DiceBear component holding glasses
    short_hair: tuple[str, ...]
    long_hair: tuple[str, ...]
    fixed: dict[str, object] = field(default_factory=dict)  # extra options (e.g. no hats)


STYLES: dict[str, CartoonStyle] = {
    "lorelei": CartoonStyle(
        "lorelei",
        "skin",
        "hair",
        "glasses",
        _names("variant", "1 2 3 4 5 6 7 8 9 11 12 14 22 26 27 36 38 39 43 44 46 47"),
        _names("variant", "10 13 15 16 17 21 23 24 35 40 41"),
    ),
    "adventurer": CartoonStyle(
        "adventurer",
        "skin",
        "hair",
        "glasses",
        _names("short", "1 2 3 4 5 6 7 8 9 10 11 14 15 16 17 18"),
        _names("long", "4 5 6 7 8 9 16 17 18 19 20 22"),
    ),
    "pixel-art": CartoonStyle(
        "pixel-art",
        "skin",
        "hair",
        "glasses",
        _names("short", "1 2 3 4 6 8 9 10 11 12 13 14 15 16 17 19 22"),
        _names("long", "1 2 3 7 8 9 12 13 20"),
        {"hatProbability": 0, "rotate": 0, "scale": 1, "translateX": 0, "translateY": 0},
    ),
}
DEFAULT_STYLE = "lorelei"  # CC0 1.0

#: Flat backgrounds: the pastel colours DiceBear uses in its examples.
BACKGROUNDS = np.array(
    [
        [0xB6, 0xE3, 0xF4],
        [0xC0, 0xAE, 0xDE],
        [0xD1, 0xD4, 0xF9],
        [0xFF, 0xD5, 0xDC],
        [0xFF, 0xDF, 0xBF],
    ],
    dtype=np.float32,
)

_POSE = {"rotate": [-8, 8], "scale": [0.9, 1.05], "translateX": [-5, 5], "translateY": [-4, 4]}


def get_style(name: str | None) -> CartoonStyle:
    """The style called ``name`` (None: the default), or a UserError listing the valid ones."""
    key = DEFAULT_STYLE if name is None else name
    if key not in STYLES:
        raise UserError(
            f"unknown cartoon style {name!r}; valid styles: {', '.join(sorted(STYLES))} "
            f"(DiceBear face styles whose options express skin, hair colour, glasses and hair length)"
        )
    return STYLES[key]


def style_meta(style: CartoonStyle) -> dict:
    """The DiceBear definition's ``meta`` block (licence, creator, source) for attribution."""
    return _definition(style.name)["meta"]


def _definition(name: str) -> dict:
    return json.loads(files("dicebear_styles").joinpath(f"{name}.json").read_text("utf-8"))


@dataclass(frozen=True)
class Structure:
    """One pre-rendered avatar structure at a fixed size, premultiplied float32 (H, W, *)."""

    base: np.ndarray  # (H, W, 3) colour with skin and hair black
    w_skin: np.ndarray  # (H, W, 1) weight of the skin colour
    w_hair: np.ndarray  # (H, W, 1) weight of the hair colour
    alpha: np.ndarray  # (H, W, 1) coverage


# Placeholder fills, unlikely to occur in a style: replaced in the SVG text before rasterising.
_SKIN_KEY, _HAIR_KEY = "#010203", "#040506"


def _rasterise(svg: str, size: int) -> np.ndarray:
    """SVG text -> premultiplied RGBA float32 (H, W, 4) in 0..1, via resvg."""
    import resvg_py  # local import: a compiled extension, loaded only where rendering happens

    png = resvg_py.svg_to_bytes(svg_string=svg, width=size, height=size, skip_system_fonts=True)
    rgba = np.asarray(Image.open(io.BytesIO(bytes(png))).convert("RGBA"), dtype=np.float32) / 255
    rgba[..., :3] *= rgba[..., 3:]
    return rgba


def render_structure(style_name: str, size: int, seed: str, hair: str, glasses: bool) -> Structure:
    """Render one structure: DiceBear ``seed`` picks everything but hair variant and glasses."""
    spec = STYLES[style_name]
    opts = {"seed": seed, f"{spec.hair}Variant": [hair], **_POSE, **spec.fixed}
    opts[f"{spec.glasses}Probability"] = 100 if glasses else 0
    opts[f"{spec.skin}Color"], opts[f"{spec.hair}Color"] = [_SKIN_KEY], [_HAIR_KEY]
    from dicebear import Avatar  # local import: only rendering needs it (as resvg_py below)

    svg = Avatar(_cached_style(style_name), opts).to_string()
    dark = _rasterise(svg.replace(_SKIN_KEY, "#000000").replace(_HAIR_KEY, "#000000"), size)
    keyed = _rasterise(svg.replace(_SKIN_KEY, "#ff0000").replace(_HAIR_KEY, "#00ff00"), size)
    diff = keyed[..., :3] - dark[..., :3]
    return Structure(dark[..., :3], diff[..., 0:1], diff[..., 1:2], dark[..., 3:4])


_STYLE_CACHE: dict[str, Style] = {}


def _cached_style(name: str) -> Style:
    """Parse each style definition once per process."""
    from dicebear import Style

    if name not in _STYLE_CACHE:
        _STYLE_CACHE[name] = Style(_definition(name))
    return _STYLE_CACHE[name]


def structure_jobs(style_name: str, size: int, seed: int, per_class: int) -> list[tuple]:
    """Arguments of ``render_structure`` for a pool of ``per_class`` structures per
    (glasses, hair_length) class, in pool order; hair variants are drawn with ``seed``."""
    spec = STYLES[style_name]
    rng = np.random.default_rng([seed, 7])  # 7: the pool's own stream, apart from the images'
    jobs = []
    for glasses in (False, True):
        for variants in (spec.short_hair, spec.long_hair):
            for k in range(per_class):
                hair = variants[int(rng.integers(0, len(variants)))]
                jobs.append(
                    (style_name, size, f"lb-{seed}-{int(glasses)}-{len(jobs)}-{k}", hair, glasses)
                )
    return jobs


def stack_pool(structures: list[Structure], per_class: int) -> dict[str, np.ndarray]:
    """Stack structures (in ``structure_jobs`` order) into arrays of shape
    (2 glasses, 2 lengths, per_class, H, W, C)."""
    fields = ("base", "w_skin", "w_hair", "alpha")
    out = {}
    for name in fields:
        a = np.stack([getattr(s, name) for s in structures])
        out[name] = a.reshape(2, 2, per_class, *a.shape[1:])
    return out


def render_cartoons(
    attrs: dict[str, np.ndarray], pool: dict[str, np.ndarray], rng: np.random.Generator
) -> np.ndarray:
    """Render one cartoon per subject from a structure ``pool`` (see ``stack_pool``).

    ``attrs`` maps attribute names to class ids (B,). Returns uint8 RGB (B, H, W, 3).
    """
    n = attrs["skin_tone"].shape[0]
    k = rng.integers(0, pool["base"].shape[2], size=n)
    g, h = attrs["glasses"], attrs["hair_length"]
    skin = (SKIN_RGB[attrs["skin_tone"]] / 255)[:, None, None, :]
    hair = (HAIR_RGB[attrs["hair_color"]] / 255)[:, None, None, :]
    bg = (BACKGROUNDS[rng.integers(0, len(BACKGROUNDS), size=n)] / 255)[:, None, None, :]
    alpha = pool["alpha"][g, h, k]
    img = pool["base"][g, h, k] + pool["w_skin"][g, h, k] * skin + pool["w_hair"][g, h, k] * hair
    img = img + (1 - alpha) * bg
    flip = rng.random(n) < 0.5  # mirror half of them: the pose is not shared with photos
    img[flip] = img[flip, :, ::-1]
    return np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)


def colour_hexes() -> tuple[list[str], list[str]]:
    """The skin and hair palettes as hex strings (for the README)."""
    return [hex_colour(c) for c in SKIN_RGB], [hex_colour(c) for c in HAIR_RGB]
