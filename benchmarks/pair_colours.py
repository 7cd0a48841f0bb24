"""What the colour prior asks of the true pairs: how far each image's low-frequency colours lie
from its true counterpart's in the other domain.

``loss.color`` asks every translation for the 4 x 4 grid of mean colours of its source. On a
paired test split the answer is known: this script pools every image of ``--source`` and its
counterpart of ``--target`` (the same name) to ``--grid x --grid`` and prints, per grid cell, the
mean absolute difference over the pairs and the channels (in [-1, 1] units), and per channel the
mean signed difference, target minus source. Cells where the true pairs differ much are cells
where the prior pulls a translation away from its true counterpart.

    python benchmarks/pair_colours.py --data /tmp/fd32n --source photo --target cartoon
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F

from latentbridge.eval.labelled import load_split, pairs_by_name


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="a dataset with a paired test split")
    p.add_argument("--source", required=True)
    p.add_argument("--target", required=True)
    p.add_argument("--grid", type=int, default=4, help="side of the colour grid (default 4)")
    p.add_argument("--size", type=int, default=32, help="image side the images are read at")
    args = p.parse_args()
    sets = load_split(args.data, "test", args.size, [args.source, args.target])
    a, b = sets[args.source], sets[args.target]
    ia, ib = pairs_by_name(a, b)
    if len(ia) == 0:
        raise SystemExit(f"{args.data}/test has no images of the same name in both domains")
    pa = F.adaptive_avg_pool2d(a.images[torch.from_numpy(ia)].float(), args.grid)
    pb = F.adaptive_avg_pool2d(b.images[torch.from_numpy(ib)].float(), args.grid)
    diff = pb - pa  # (N, 3, grid, grid)
    print(f"{len(ia)} pairs, {args.source} -> {args.target}, {args.grid} x {args.grid} grid")
    print("mean |target - source| per cell (over pairs and channels):")
    for row in diff.abs().mean(dim=(0, 1)).tolist():
        print("  " + "  ".join(f"{v:.3f}" for v in row))
    signed = diff.mean(dim=(0, 2, 3)).tolist()
    print("mean target - source per channel (R, G, B): " + ", ".join(f"{v:+.3f}" for v in signed))
    print(f"mean |target - source| over every cell: {diff.abs().mean().item():.3f}")


if __name__ == "__main__":
    main()
