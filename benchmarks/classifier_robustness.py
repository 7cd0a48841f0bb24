"""Whether an evaluation classifier reads the subject or the sharpness of its edges.

A translation is never as crisp as a real image, so the attribute classifier of ``latentbridge
eval`` must read the attribute through a little blur and pixel noise; one that reads it only
from crisp edges scores a soft but correct translation as chance. This trains the classifier of
every labelled domain of a dataset written by ``latentbridge data`` as ``latentbridge eval``
does (held-out rounds of 800 steps), once per ``--train`` setting of (blur, noise) augmentation,
and prints its accuracy per attribute on the real test images as they are, blurred (a Gaussian of
std 0.5, 0.7 and 1.0 px at 32 px, scaled with the side), halved and doubled again, and with
pixel noise, next to the mean L1 change each degradation makes.

    python benchmarks/classifier_robustness.py --data /tmp/fd32n --train 0:0,0.03125:0
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from latentbridge.data.labels import read_attributes
from latentbridge.eval.classifier import gaussian_blur, train_attribute_classifier
from latentbridge.eval.labelled import load_split
from latentbridge.eval.metrics import attribute_accuracy


def degradations(x: Tensor, seed: int = 0) -> dict[str, Tensor]:
    """The test images as they are and degraded in ways that change no attribute."""
    px = min(x.shape[-2:]) / 32  # the blurs are px at 32 px
    gen = torch.Generator().manual_seed(seed)
    noise = torch.randn(x.shape, generator=gen)
    out = {"real": x}
    for s in (0.5, 0.7, 1.0):
        out[f"blur {s} px"] = gaussian_blur(x, torch.full((len(x),), s * px))
    down = F.avg_pool2d(x, 2)
    out["half size, doubled"] = F.interpolate(down, scale_factor=2, mode="bilinear")
    for n in (0.05, 0.1):
        out[f"noise {n}"] = (x + n * noise).clamp(-1, 1)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--size", type=int, default=32)
    p.add_argument(
        "--train",
        default="0:0,0.03125:0",
        help="comma-separated blur:noise augmentation settings to train with (blur: the largest "
        "Gaussian std as a fraction of the side; noise: the largest pixel-noise std)",
    )
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    attrs = read_attributes(args.data)
    if attrs is None:
        raise SystemExit(f"{args.data} has no attributes.json")
    domains = sorted(d.name for d in (args.data / "train").iterdir() if d.is_dir())
    train = load_split(args.data, "train", args.size, domains, limit=5000)
    test = load_split(args.data, "test", args.size, domains, limit=5000)
    for setting in args.train.split(","):
        blur, noise = (float(v) for v in setting.split(":"))
        for d in domains:
            tr, te = train[d], test[d]
            if tr.labels is None or te.labels is None:
                continue
            t = time.perf_counter()
            clf = train_attribute_classifier(
                tr.images, tr.labels, attrs.num_classes, rounds=args.rounds, blur=blur, noise=noise
            )
            rec = clf.training_record
            print(
                f"\n{d}, trained with blur {blur:g} x side, noise {noise:g}: {rec['steps']} steps, "
                f"held-out {rec['holdout_accuracy']}, {time.perf_counter() - t:.0f} s"
            )
            print(f"| test images | L1 change | {' | '.join(attrs.names)} | mean |")
            for name, x in degradations(te.images).items():
                acc = attribute_accuracy(clf.predict(x), te.labels, attrs.names)
                change = float((x - te.images).abs().mean())
                cells = " | ".join(f"{acc[k]:.3f}" for k in [*attrs.names, "mean"])
                print(f"| {name} | {change:.3f} | {cells} |", flush=True)


if __name__ == "__main__":
    main()
