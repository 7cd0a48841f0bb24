"""Whether a run keeps more of the subjects it trained on than of new ones: over-fitting.

Per direction a -> b, the attribute preservation of the translations of the test split (what
``latentbridge eval`` reads) and of the first ``--train-images`` training images of a, each with
its 95 % interval over the images, read by ``eval``'s own classifiers. A run that keeps clearly
more of its training images than of the test images has learnt its training subjects rather
than the translation, and more training images would help it; one that keeps as much of both
would not gain from more.

    python benchmarks/train_gap.py --run runs/NAME --data /tmp/fd32n --device cpu
"""

from __future__ import annotations

import argparse
from itertools import permutations

import torch

from _evaluated import evaluated_run
from latentbridge.eval import metrics as M
from latentbridge.eval.labelled import load_split


def add_train_images(p: argparse.ArgumentParser) -> None:
    """``--train-images N``: how many of each domain's training images are read."""
    p.add_argument(
        "--train-images",
        type=int,
        default=600,
        help="training images per domain to translate (default 600)",
    )


def main() -> None:
    ev, args = evaluated_run(__doc__, add_train_images)
    if ev.attrs is None:
        raise SystemExit(f"{ev.data} has no attribute labels to read")
    names, size, domains = ev.attrs.names, ev.pipe.size, ev.pipe.domains
    train = load_split(ev.data, "train", size, domains, limit=args.train_images)
    for a, b in permutations(ev.test, 2):
        if b not in ev.clf:
            continue
        for split, s in (("test", ev.test[a]), ("train", train.get(a))):
            if s is None or s.labels is None:
                continue
            with torch.no_grad():  # the test split's translations are eval's own
                y = ev.x_ab[(a, b)] if split == "test" else ev.pipe.translate(s.images, a, b)
            read = ev.clf[b].predict(y)
            acc = M.attribute_accuracy(read, s.labels, names)
            lo, hi = M.attribute_interval(read, s.labels, names)["mean"]
            row = " ".join(f"{n} {acc[n]:.3f}" for n in names)
            print(
                f"{a}->{b}: {split:5s} {len(s.images):4d} images: mean {acc['mean']:.3f} "
                f"({lo:.3f}–{hi:.3f}); {row}"
            )


if __name__ == "__main__":
    main()
