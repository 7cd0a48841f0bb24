"""Writing a generated benchmark in the project's dataset layout.

Layout (``DIR`` is the dataset root)::

    DIR/attributes.json            {"attributes": {name: [class names]}, "paired_test": bool, "domains": [...]}
    DIR/README.txt                 what it is, the attribute table, licences
    DIR/preview.png                a sample sheet
    DIR/<split>/<domain>/NNNNNN.png
    DIR/<split>/<domain>/labels.csv   header ``file,<attr1>,...``; integer class ids

Every writer here is deterministic: the same inputs give the same bytes.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from latentbridge.errors import UserError

MIN_SIZE = 16  # smallest image side the generators accept
SPLITS = ("train", "test")


def check_size(size: int) -> None:
    """Raise UserError unless ``size`` is an image side of at least MIN_SIZE pixels."""
    if size < MIN_SIZE:
        raise UserError(f"--size must be at least {MIN_SIZE} pixels (got {size})")


def check_count(option: str, n: int) -> None:
    """Raise UserError unless the count given to ``option`` is at least 1."""
    if n < 1:
        raise UserError(f"{option} must be at least 1 (got {n})")


def prepare_output(out: Path, domains: Sequence[str]) -> Path:
    """Create (or reuse) the dataset root ``out`` and return it, resolved.

    A folder that is not empty is only reused when it holds a dataset written earlier (it has an
    ``attributes.json``); its split folders are then replaced. Raises UserError when ``out`` is
    a file, a non-empty foreign folder, or cannot be written.
    """
    out = Path(out).expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; give a folder (new or empty)")
    if out.is_dir() and any(out.iterdir()) and not (out / "attributes.json").is_file():
        raise UserError(
            f"--out {out} is not empty and holds no dataset; give a new or empty folder"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
        for split in SPLITS:
            shutil.rmtree(out / split, ignore_errors=True)
            for domain in domains:
                (out / split / domain).mkdir(parents=True)
    except OSError as e:
        raise UserError(f"cannot write to --out {out}: {e.strerror or e}") from None
    return out


def image_name(index: int) -> str:
    """File name of the ``index``-th image of a domain folder (6 digits, zero-padded)."""
    return f"{index:06d}.png"


def save_images(folder: Path, start: int, images: np.ndarray) -> None:
    """Write uint8 images (B, H, W, 3) as ``folder/<image_name(start + i)>``."""
    for i, img in enumerate(images):
        Image.fromarray(img).save(folder / image_name(start + i), compress_level=1)


def write_labels(folder: Path, labels: dict[str, np.ndarray]) -> None:
    """Write ``folder/labels.csv``: ``file,<attr>...`` then one row per image, in index order."""
    names = list(labels)
    n = len(next(iter(labels.values())))
    rows = [",".join(["file", *names])]
    rows += [",".join([image_name(i), *(str(int(labels[k][i])) for k in names)]) for i in range(n)]
    (folder / "labels.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


def write_attributes(
    out: Path, attributes: dict[str, list[str]], paired: bool, domains: Sequence[str]
) -> None:
    """Write ``out/attributes.json`` (the contract evaluation reads: classes and pairing)."""
    doc = {"attributes": attributes, "paired_test": paired, "domains": list(domains)}
    (out / "attributes.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def attribute_table(attributes: dict[str, list[str]]) -> str:
    """Plain-text table: one line per attribute, ``name: 0=class, 1=class, ...``."""
    return "\n".join(
        f"  {name}: " + ", ".join(f"{i}={c}" for i, c in enumerate(classes))
        for name, classes in attributes.items()
    )


def preview_sheet(rows: Sequence[np.ndarray], titles: Sequence[str], scale: int = 1) -> Image.Image:
    """A sheet with one row per array of images (k, H, W, 3) and its title on the left."""
    h, w = rows[0].shape[1:3]
    label_w, gap = 64, 2  # title column width and spacing, pixels
    cols = max(len(r) for r in rows)
    sheet = Image.new(
        "RGB", (label_w + cols * (w * scale + gap), len(rows) * (h * scale + gap)), "white"
    )
    draw = ImageDraw.Draw(sheet)
    for r, (images, title) in enumerate(zip(rows, titles, strict=True)):
        y = r * (h * scale + gap)
        draw.text((4, y + h * scale // 2 - 5), title, fill="black")
        for c, img in enumerate(images):
            tile = Image.fromarray(img).resize((w * scale, h * scale), Image.NEAREST)
            sheet.paste(tile, (label_w + c * (w * scale + gap), y))
    return sheet
