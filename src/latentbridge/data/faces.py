"""The faces benchmark: photo-like faces <-> DiceBear cartoons sharing only their attributes.

``generate_faces`` writes ``train/photo``, ``train/cartoon`` (unpaired: independent draws of
subjects per domain) and ``test/photo``, ``test/cartoon`` (paired: the same subject, i.e. the same
attributes, under the same file name in both domains), each with ``labels.csv``; plus
``attributes.json``, ``README.txt`` and ``preview.png`` at the root.

Determinism: images are rendered in chunks of ``CHUNK`` whose random streams are derived from
(seed, domain, split, chunk index) only, so the bytes written do not depend on ``workers``.
"""

from __future__ import annotations

import math
import multiprocessing as mp
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from PIL import Image

from latentbridge.data import faces_cartoon as cartoon
from latentbridge.data.faces_attrs import FACE_ATTRIBUTES, sample_attributes
from latentbridge.data.faces_photo import render_photos
from latentbridge.data.writer import (
    attribute_table,
    check_count,
    check_size,
    image_name,
    prepare_output,
    preview_sheet,
    save_images,
    write_attributes,
    write_labels,
)
from latentbridge.errors import UserError

DOMAINS = ("photo", "cartoon")
CHUNK = 64  # images per rendering task (one batch of array maths)
_IMAGES_PER_STRUCTURE = 32  # target reuse of one pre-rendered cartoon structure ...
_PER_CLASS = (4, 64)  # ... within these bounds per (glasses, hair length) class
_PREVIEW_COLS = 8

_POOL: dict[str, np.ndarray] = {}  # this process's cartoon structure pool (set per run)


def generate_faces(
    out: Path,
    *,
    size: int = 64,
    n_train: int = 5000,
    n_test: int = 500,
    style: str | None = None,
    seed: int = 0,
    workers: int = 0,
    progress: bool = False,
) -> Path:
    """Write the faces benchmark to ``out`` and return its resolved path.

    ``n_train`` images per domain in train, ``n_test`` subjects in test (each in both domains);
    ``style`` names the DiceBear style (None: lorelei, CC0); ``workers`` > 0 renders in that many
    processes (0: in this one). Raises UserError for invalid options or an unwritable ``out``.
    """
    check_size(size)
    check_count("--n-train", n_train)
    check_count("--n-test", n_test)
    if workers < 0:
        raise UserError(f"--workers must be 0 (render in this process) or more (got {workers})")
    spec = cartoon.get_style(style)
    root = prepare_output(out, DOMAINS)
    labels = draw_labels(seed, n_train, n_test)
    per_class = pool_size(n_train + n_test)
    jobs = cartoon.structure_jobs(spec.name, size, seed, per_class)
    structures = _run(_structure_task, jobs, workers, progress, "cartoon structures")
    pool = cartoon.stack_pool(structures, per_class)
    tasks = list(_chunk_tasks(root, labels, size, seed))
    _run(_render_task, tasks, workers, progress, "images", _set_pool, (pool,))
    _POOL.clear()
    for (split, domain), attrs in labels.items():
        write_labels(root / split / domain, attrs)
    write_attributes(root, FACE_ATTRIBUTES, True, DOMAINS)
    _write_readme(root, spec, size, n_train, n_test, seed)
    _write_preview(root, min(_PREVIEW_COLS, n_test, n_train), scale=max(1, 96 // size))
    return root


def draw_labels(
    seed: int, n_train: int, n_test: int
) -> dict[tuple[str, str], dict[str, np.ndarray]]:
    """Subjects per (split, domain): train draws are independent per domain; test is shared."""
    test = sample_attributes(np.random.default_rng([seed, 1, 2]), n_test)
    return {
        ("train", "photo"): sample_attributes(np.random.default_rng([seed, 1, 0]), n_train),
        ("train", "cartoon"): sample_attributes(np.random.default_rng([seed, 1, 1]), n_train),
        ("test", "photo"): test,
        ("test", "cartoon"): test,
    }


def pool_size(n_subjects: int) -> int:
    """Cartoon structures per (glasses, hair length) class for ``n_subjects`` cartoons."""
    want = math.ceil(n_subjects / (4 * _IMAGES_PER_STRUCTURE))  # 4 classes share the subjects
    return min(max(want, _PER_CLASS[0]), _PER_CLASS[1])


def _chunk_tasks(root: Path, labels: dict, size: int, seed: int) -> Iterable[tuple]:
    """One task per CHUNK images of a (split, domain): everything a worker needs to render it."""
    for (split, domain), attrs in labels.items():
        n = len(attrs["skin_tone"])
        for c, start in enumerate(range(0, n, CHUNK)):
            part = {k: v[start : start + CHUNK] for k, v in attrs.items()}
            stream = [seed, DOMAINS.index(domain), ("train", "test").index(split), c]
            yield domain, root / split / domain, start, part, size, stream


def _render_task(task: tuple) -> int:
    """Render and save one chunk; returns the number of images written."""
    domain, folder, start, attrs, size, stream = task
    rng = np.random.default_rng(stream)
    if domain == "photo":
        images = render_photos(attrs, size, rng)
    else:
        images = cartoon.render_cartoons(attrs, _POOL, rng)
    save_images(folder, start, images)
    return len(images)


def _structure_task(job: tuple) -> cartoon.Structure:
    return cartoon.render_structure(*job)


def _set_pool(pool: dict[str, np.ndarray]) -> None:
    """Process initializer: install the cartoon structure pool."""
    _POOL.clear()
    _POOL.update(pool)


def _run(
    fn: Callable,
    jobs: list,
    workers: int,
    progress: bool,
    what: str,
    init: Callable | None = None,
    initargs: tuple = (),
) -> list:
    """``[fn(j) for j in jobs]``, in ``workers`` processes when > 0, with an optional bar."""
    if workers == 0:
        if init is not None:
            init(*initargs)
        return [fn(j) for j in _progress(jobs, progress, what, len(jobs))]
    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    with mp.get_context(method).Pool(workers, init, initargs) as procs:
        return list(_progress(procs.imap(fn, jobs), progress, what, len(jobs)))


def _progress(it: Iterable, on: bool, what: str, total: int) -> Iterable:
    if not on:
        return it
    from tqdm import tqdm

    return tqdm(it, total=total, desc=what, unit="task")


def _write_preview(root: Path, cols: int, scale: int) -> None:
    """preview.png: 8 paired test subjects (photo over cartoon), then 8 unpaired train images."""
    rows, titles = [], []
    for split in ("test", "train"):
        for domain in DOMAINS:
            folder = root / split / domain
            rows.append(
                np.stack([np.asarray(Image.open(folder / image_name(i))) for i in range(cols)])
            )
            titles.append(f"{split}/{domain}")
    preview_sheet(rows, titles, scale).save(root / "preview.png")


def _write_readme(
    root: Path, spec: cartoon.CartoonStyle, size: int, n_train: int, n_test: int, seed: int
) -> None:
    """README.txt: what the benchmark is, how it was made, the attribute table, the licences."""
    meta = cartoon.style_meta(spec)
    skin, hair = cartoon.colour_hexes()
    text = f"""latentbridge faces benchmark (photo <-> cartoon)

Made by: latentbridge data faces --out DIR --size {size} --n-train {n_train} --n-test {n_test} --style {spec.name} --seed {seed}

train/photo, train/cartoon: {n_train} images each, independent subjects (unpaired).
test/photo, test/cartoon: {n_test} subjects, each rendered in both domains under the same file
name (paired; the ground truth for evaluation only, never for training).
labels.csv in each domain folder: file,<attribute ids>. attributes.json: the class names.

Attributes (the only thing the domains share; each uniform and independent):
{attribute_table(FACE_ATTRIBUTES)}
  skin palette (sRGB): {", ".join(skin)}
  hair palette (sRGB): {", ".join(hair)}

photo: procedurally rendered by latentbridge (shaded head, light, textures, background, camera
noise and blur, pose); no third-party content.
cartoon: DiceBear style "{meta["source"]["name"]}" by {meta["creator"]["name"]} ({meta["source"]["url"]}),
rendered offline with dicebear-core and resvg.
Licence: {meta["license"]["name"]} ({meta["license"]["url"]})
Attribution: {meta["license"].get("text", "")}
"""
    (root / "README.txt").write_text(text, encoding="utf-8")
