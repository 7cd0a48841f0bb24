"""The faces benchmark: layout, visible attributes in both domains, a big domain gap,
determinism, and one-line errors."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.linear_model import RidgeClassifier

from latentbridge.data.cli_data import add_data_parser
from latentbridge.data.faces import generate_faces
from latentbridge.data.faces_attrs import FACE_ATTRIBUTES
from latentbridge.errors import UserError

N_TRAIN, N_TEST, SIZE = 1000, 200, 32


def load_domain(folder: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Images (N, H, W, 3) in 0..1 and labels of one domain folder, in labels.csv order."""
    with open(folder / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    x = (
        np.stack([np.asarray(Image.open(folder / r["file"])) for r in rows]).astype(np.float32)
        / 255
    )
    return x, {k: np.array([int(r[k]) for r in rows]) for k in rows[0] if k != "file"}


@pytest.fixture(scope="module")
def faces(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("faces") / "ds"
    return generate_faces(out, size=SIZE, n_train=N_TRAIN, n_test=N_TEST, seed=0, workers=0)


def test_layout_and_labels(faces: Path):
    meta = json.loads((faces / "attributes.json").read_text())
    assert meta == {
        "attributes": FACE_ATTRIBUTES,
        "paired_test": True,
        "domains": ["photo", "cartoon"],
    }
    for split, n in (("train", N_TRAIN), ("test", N_TEST)):
        for domain in ("photo", "cartoon"):
            folder = faces / split / domain
            header = (folder / "labels.csv").read_text().splitlines()[0]
            assert header == "file," + ",".join(FACE_ATTRIBUTES)
            x, y = load_domain(folder)
            assert x.shape == (n, SIZE, SIZE, 3)
            for name, classes in FACE_ATTRIBUTES.items():
                assert set(np.unique(y[name])) == set(range(len(classes)))
    _, test_photo = load_domain(faces / "test" / "photo")
    _, test_cartoon = load_domain(faces / "test" / "cartoon")
    _, train_photo = load_domain(faces / "train" / "photo")
    _, train_cartoon = load_domain(faces / "train" / "cartoon")
    for name in FACE_ATTRIBUTES:  # test is paired, train is not
        assert np.array_equal(test_photo[name], test_cartoon[name])
        assert not np.array_equal(train_photo[name], train_cartoon[name])
    readme = (faces / "README.txt").read_text()
    assert "CC0 1.0" in readme and "Lisa Wischofsky" in readme and "hair_color: 0=black" in readme
    assert Image.open(faces / "preview.png").size[0] > 8 * SIZE


@pytest.mark.parametrize("domain", ["photo", "cartoon"])
def test_every_attribute_is_visible(faces: Path, domain: str):
    """A linear classifier on raw pixels, trained on train labels, is far above chance on test."""
    x_train, y_train = load_domain(faces / "train" / domain)
    x_test, y_test = load_domain(faces / "test" / domain)
    for name, classes in FACE_ATTRIBUTES.items():
        clf = RidgeClassifier(alpha=3.0).fit(x_train.reshape(N_TRAIN, -1), y_train[name])
        acc = clf.score(x_test.reshape(N_TEST, -1), y_test[name])
        chance = 1 / len(classes)
        assert acc > chance + 0.5 * (1 - chance), (
            f"{domain}/{name}: {acc:.2f} (chance {chance:.2f})"
        )


def test_domain_gap_is_large(faces: Path):
    """A paired subject's photo and cartoon differ more than two unrelated photos, and pixel
    distance cannot find a cartoon's photo among the test photos."""
    photo, _ = load_domain(faces / "test" / "photo")
    cartoon, _ = load_domain(faces / "test" / "cartoon")
    cross = ((photo - cartoon) ** 2).mean()
    within = ((photo - np.roll(photo, 1, axis=0)) ** 2).mean()
    assert cross > 1.5 * within
    d = ((cartoon.reshape(N_TEST, 1, -1) - photo.reshape(1, N_TEST, -1)) ** 2).mean(-1)
    assert (d.argmin(axis=1) == np.arange(N_TEST)).mean() < 0.1


def test_same_seed_same_bytes(tmp_path: Path):
    a = generate_faces(tmp_path / "a", size=16, n_train=70, n_test=10, seed=3, workers=0)
    b = generate_faces(tmp_path / "b", size=16, n_train=70, n_test=10, seed=3, workers=2)
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files_a == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files_a)
    c = generate_faces(tmp_path / "c", size=16, n_train=70, n_test=10, seed=4)
    assert (a / "train/photo/000000.png").read_bytes() != (
        c / "train/photo/000000.png"
    ).read_bytes()


def test_other_style(tmp_path: Path):
    root = generate_faces(tmp_path / "adv", size=16, n_train=4, n_test=2, style="adventurer")
    assert "CC BY 4.0" in (root / "README.txt").read_text()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"style": "nope"}, "valid styles: adventurer, lorelei, pixel-art"),
        ({"size": 8}, "at least 16"),
        ({"n_train": 0}, "--n-train must be at least 1"),
        ({"n_test": 0}, "--n-test must be at least 1"),
        ({"workers": -1}, "--workers"),
    ],
)
def test_bad_options(tmp_path: Path, kwargs: dict, message: str):
    with pytest.raises(UserError, match=message) as err:
        generate_faces(tmp_path / "x", **{"n_train": 2, "n_test": 2, **kwargs})
    assert "\n" not in str(err.value)


def test_unwritable_or_foreign_folder(tmp_path: Path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(UserError, match="cannot write"):
        generate_faces(blocker / "sub", n_train=2, n_test=2)
    with pytest.raises(UserError, match="not empty"):
        generate_faces(tmp_path, n_train=2, n_test=2)


def test_cli(tmp_path: Path, capsys):
    parser = argparse.ArgumentParser(prog="latentbridge")
    add_data_parser(parser.add_subparsers(dest="command"))
    out = tmp_path / "cli"
    args = parser.parse_args(
        ["data", "faces", "--out", str(out), "--size", "16", "--n-train", "3", "--n-test", "2"]
    )
    assert args.func(args) == 0
    assert str(out) in capsys.readouterr().out
    assert (out / "test" / "cartoon" / "000001.png").is_file()
    with pytest.raises(SystemExit):
        parser.parse_args(["data", "faces", "--help"])
    assert "example:" in capsys.readouterr().out


def test_painting_only_the_covered_box_equals_painting_everything() -> None:
    """``faces_photo._over`` restricts work to the coverage's bounding box; same result."""
    from latentbridge.data.faces_photo import _over

    rng = np.random.default_rng(0)
    img = rng.random((3, 3, 16, 16)).astype(np.float32)
    colour = rng.random((3, 3, 16, 1)).astype(np.float32)  # broadcast along one axis
    mask = np.zeros((3, 16, 16), np.float32)
    mask[0, 4:7, 2:9] = 0.5
    mask[2, 10:12, 5:6] = 1.0
    want = img + (colour - img) * mask[:, None]
    assert np.allclose(_over(img.copy(), colour, mask), want)
    assert np.array_equal(_over(img.copy(), colour, np.zeros_like(mask)), img)
