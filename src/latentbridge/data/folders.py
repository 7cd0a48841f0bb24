"""Image folders: finding the domains of a dataset, reading any image Pillow can, and skipping
what it cannot with one warning that names the files.

Layouts (checked in this order):
- CycleGAN: ``DIR/trainA``, ``DIR/trainB`` (+ ``testA``, ``testB``): domains ``A`` and ``B``;
- split: ``DIR/train/<domain>`` with an optional ``DIR/test/<domain>``;
- flat: ``DIR/<domain>``, every subfolder a domain (no test split).
Images may be anywhere below a domain folder.
"""

from __future__ import annotations

import os
import sys
import threading
import warnings
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from latentbridge.errors import UserError

Split = str  # "train" | "test"


def image_suffixes() -> set[str]:
    """File endings Pillow can open (``.png``, ``.jpg``, ``.tif``, ``.webp``, ...)."""
    return {s.lower() for s in Image.registered_extensions()}


def find_domains(root: Path, split: Split = "train") -> dict[str, Path]:
    """Map domain name -> folder for ``split``; ``{}`` when the dataset has no such split
    (a flat layout has no test split). A missing ``root`` is a :class:`UserError`."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"dataset folder not found: {root}")
    cyclegan = sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("train"))
    if cyclegan and all(len(p.name) > len("train") for p in cyclegan):
        prefix = "train" if split == "train" else "test"
        found = {p.name[len(prefix) :]: p for p in sorted(root.glob(prefix + "?*")) if p.is_dir()}
        return found
    if (root / "train").is_dir():
        base = root / ("train" if split == "train" else "test")
        if not base.is_dir():
            return {}
        return {p.name: p for p in sorted(base.iterdir()) if p.is_dir()}
    if split != "train":
        return {}
    return {p.name: p for p in sorted(root.iterdir()) if p.is_dir() and not _hidden(p)}


def _hidden(p: Path) -> bool:
    return p.name.startswith((".", "_"))


def list_images(folder: Path) -> list[Path]:
    """Every file below ``folder`` whose ending Pillow knows, sorted (hidden files skipped)."""
    suffixes = image_suffixes()
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if not name.startswith(".") and Path(name).suffix.lower() in suffixes:
                out.append(Path(dirpath) / name)
    return sorted(out)


def _to_rgb(img: Image.Image) -> Image.Image:
    """Any mode -> RGB: 16-bit and float greys are rescaled, transparency is put on white."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(arr / top * 255.0, 0, 255).astype(np.uint8), "L")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    return img.convert("RGB")


def fit_rgb(img: Image.Image, size: int | None) -> Image.Image:
    """Any PIL image -> RGB (EXIF-rotated), resized and centre-cropped to ``size`` if given."""
    img = _to_rgb(ImageOps.exif_transpose(img) or img)
    if size is not None:
        img = ImageOps.fit(img, (size, size), Image.Resampling.BICUBIC)
    return img


_BOMB_CHECK = threading.Lock()  # one Image.open at a time under read_image's warning filter


def read_image(path: Path, size: int | None = None) -> Image.Image:
    """Open one image as RGB, EXIF-rotated, resized and centre-cropped to ``size`` (if given).

    Raises ``OSError``/``ValueError`` for unreadable, truncated or non-image files and
    ``Image.DecompressionBombError`` for images over Pillow's pixel limit (its warning is an error
    here, so a bomb never reaches the decoder).
    """
    # Pillow checks the pixel count when it opens a file (reading only the header). The warning
    # filter that turns its warning into an error is process-wide, so the opens of the decoding
    # threads take turns: without the lock one thread's filter could be reset by another's
    # while it opens a bomb, and the bomb would be decoded with a mere warning.
    with _BOMB_CHECK, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(path)
        except Image.DecompressionBombWarning as exc:
            raise Image.DecompressionBombError(str(exc)) from None
    with img:
        img.load()
        return fit_rgb(img, size)


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, Image.DecompressionBombError):
        return "too many pixels (decompression bomb)"
    if isinstance(exc, Image.UnidentifiedImageError):
        return "not an image"
    return text[:80]


def _try_read(path: Path, size: int) -> np.ndarray | str:
    try:
        if path.stat().st_size == 0:
            return "empty file"
        return np.asarray(read_image(path, size), dtype=np.uint8)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        return _reason(exc)


@dataclass
class Decoded:
    """The readable images of one folder: ``images`` (N, H, W, 3) uint8 and their paths."""

    paths: list[Path]
    images: np.ndarray
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def decode_all(paths: Sequence[Path], size: int, *, threads: int | None = None) -> Decoded:
    """Read every path (in a thread pool); unreadable files go to ``skipped`` with a reason."""
    threads = threads or min(8, (os.cpu_count() or 1) + 1)
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(lambda p: _try_read(p, size), paths))
    good = [(p, r) for p, r in zip(paths, results) if isinstance(r, np.ndarray)]
    bad = [(p, r) for p, r in zip(paths, results) if isinstance(r, str)]
    images = np.stack([r for _, r in good]) if good else np.zeros((0, size, size, 3), np.uint8)
    return Decoded([p for p, _ in good], images, bad)


def warn_skipped(skipped: Iterable[tuple[Path, str]], where: str) -> None:
    """One warning on stderr that names every skipped file and why."""
    skipped = list(skipped)
    if skipped:
        names = "; ".join(f"{p} ({why})" for p, why in skipped)
        print(
            f"warning: skipped {len(skipped)} unreadable file(s) in {where}: {names}",
            file=sys.stderr,
        )
