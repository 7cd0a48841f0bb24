"""Reading user folders: every layout, every image mode Pillow reads, bad files skipped and named."""

from __future__ import annotations

import io
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from latentbridge.data.folders import find_domains, read_image
from latentbridge.data.stream import TrainData
from latentbridge.errors import UserError
from tests.conftest import make_domains, make_labelled


def test_layouts(tmp_path: Path) -> None:
    flat = make_domains(tmp_path / "flat", n=2)
    assert list(find_domains(flat)) == ["A", "B"] and find_domains(flat, "test") == {}
    split = tmp_path / "split"
    make_domains(split / "train", ("photo", "cartoon"), n=2)
    assert set(find_domains(split)) == {"photo", "cartoon"} and find_domains(split, "test") == {}
    make_domains(split / "test", ("photo", "cartoon"), n=1)
    assert set(find_domains(split, "test")) == {"photo", "cartoon"}
    cg = tmp_path / "cg"
    for name in ("trainA", "trainB", "testA", "testB"):
        make_domains(cg, (name,), n=1)
    assert find_domains(cg) == {"A": cg / "trainA", "B": cg / "trainB"}
    assert find_domains(cg, "test") == {"A": cg / "testA", "B": cg / "testB"}


def _save(img: Image.Image, path: Path, **kw: object) -> Path:
    img.save(path, **kw)
    return path


def test_every_mode_becomes_rgb(tmp_path: Path) -> None:
    rgb = Image.fromarray(np.random.default_rng(0).integers(0, 255, (30, 20, 3), np.uint8))
    g16 = Image.frombytes("I;16", (30, 20), (np.arange(600, dtype="<u2") * 100).tobytes())
    rgba = rgb.convert("RGBA")
    rgba.putalpha(0)  # fully transparent -> white
    files = [
        _save(rgb.convert("L"), tmp_path / "grey.png"),
        _save(g16, tmp_path / "grey16.png"),
        _save(rgb.convert("P", palette=Image.Palette.ADAPTIVE), tmp_path / "palette.gif"),
        _save(rgba, tmp_path / "rgba.png"),
        _save(rgb.convert("CMYK"), tmp_path / "cmyk.jpg"),
        _save(rgb, tmp_path / "plain.bmp"),
        _save(rgb, tmp_path / "plain.webp"),
    ]
    for f in files:
        img = read_image(f, 16)
        assert img.mode == "RGB" and img.size == (16, 16), f
    assert np.asarray(read_image(tmp_path / "rgba.png", 16)).min() == 255
    grey16 = np.asarray(read_image(tmp_path / "grey16.png"))
    assert grey16.min() < 10 and grey16.max() > 200  # 16-bit range rescaled, not clipped


def test_exif_rotation_is_applied(tmp_path: Path) -> None:
    img = Image.new("RGB", (40, 20), (255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    img.save(tmp_path / "rot.jpg", exif=exif)
    assert read_image(tmp_path / "rot.jpg").size == (20, 40)


def _bad_files(folder: Path) -> list[str]:
    good = folder / "ok.png"
    Image.new("RGB", (20, 20), (10, 20, 30)).save(good)
    (folder / "empty.png").write_bytes(b"")
    (folder / "text.jpg").write_bytes(b"this is not an image at all")
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(buf, "JPEG")
    (folder / "truncated.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    Image.new("1", (12000, 8000)).save(folder / "bomb.png")  # 96 Mpx, a few kB on disk
    (folder / "notes.txt").write_text("ignored: not an image file name")
    return ["empty.png", "text.jpg", "truncated.jpg", "bomb.png"]


def test_bad_files_are_skipped_with_one_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_domains(tmp_path / "d", ("A", "B"), n=3)
    bad = _bad_files(tmp_path / "d" / "A")
    data = TrainData(tmp_path / "d", size=16, seed=0)
    assert len(data.paths["A"]) == 4 and len(data.paths["B"]) == 3
    err = capsys.readouterr().err
    assert err.count("warning:") == 1
    for name in bad:
        assert name in err
    assert "notes.txt" not in err and "decompression bomb" in err


def test_bombs_are_refused_by_every_decoding_thread(tmp_path: Path) -> None:
    """The bomb check turns a process-wide warning into an error: decoding threads reading at
    once must each still refuse the bomb, never decode it with a warning."""
    Image.new("1", (12000, 8000)).save(tmp_path / "bomb.png")

    def outcome(_: int) -> str:
        try:
            read_image(tmp_path / "bomb.png", 16)
        except Image.DecompressionBombError:
            return "refused"
        return "decoded"

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a bomb let through only warns: count it, don't show it
        with ThreadPoolExecutor(8) as pool:
            outcomes = list(pool.map(outcome, range(32)))
    assert outcomes == ["refused"] * 32


def test_domain_without_readable_image(tmp_path: Path) -> None:
    make_domains(tmp_path / "d", ("A",), n=2)
    (tmp_path / "d" / "B").mkdir()
    (tmp_path / "d" / "B" / "x.png").write_bytes(b"junk")
    with pytest.raises(UserError, match="domain 'B' has no readable image"):
        TrainData(tmp_path / "d", size=16, seed=0)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        TrainData(tmp_path / "nope", size=16, seed=0)


def test_batches_depend_only_on_seed_and_step(two_domains: Path) -> None:
    a = TrainData(two_domains, size=16, seed=3, flip=True)
    b = TrainData(two_domains, size=16, seed=3, flip=True)
    x, y = a.batch(5, batch_size=4), b.batch(5, batch_size=4)
    assert all((x[d] == y[d]).all() for d in x)
    halves = [a.batch(5, batch_size=4, chunk=i, chunks=2) for i in range(2)]
    import torch

    assert torch.equal(torch.cat([h["A"] for h in halves]), x["A"])  # ranks split the same batch


def test_batches_carry_the_labels_of_their_own_images(tmp_path: Path) -> None:
    import torch

    from latentbridge.data.stream import LABELS, split_labels

    root = make_labelled(tmp_path / "d", {"A": 12, "B": 9, "C": -5})  # C: one image unlabelled
    data = TrainData(root, size=8, seed=0, flip=True, labels=True)
    assert sorted(data.labels) == ["A", "B"]  # a labels.csv must name every image
    for step in range(3):
        images, labels = split_labels(data.batch(step, batch_size=6))
        assert sorted(images) == ["A", "B", "C"] and sorted(labels) == ["A", "B"]
        for d, y in labels.items():
            level = ((images[d][:, 0, 0, 0] + 1) * 127.5 / 10).round().long()
            assert torch.equal(y[:, 0], level) and torch.equal(y[:, 1], level % 2)
    assert not any(
        k.startswith(LABELS) for k in TrainData(root, size=8, seed=0).batch(0, batch_size=6)
    )
