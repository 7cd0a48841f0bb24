"""What the evaluation's classifier reads in the translations of one attribute value.

For a trained run, on the test split that ``latentbridge eval`` uses: the test images of
``--source`` whose ``--attribute`` has the class ``--value`` are translated into ``--target``, and
the target domain's attribute classifier (``eval``'s own, from its cache) reads each translation;
where the test split is paired, it also reads each image's true counterpart. The script prints
how often each class is read, and writes a grid: the sources, their translations labelled with
the class read, and the true counterparts where paired. It shows what a low preservation number
looks like, e.g. whether translations read as wearing glasses carry a band across the eyes.

    python benchmarks/attribute_grid.py --run runs/NAME --data /tmp/fd32n --device cpu \
        --source cartoon --target photo --attribute glasses --value no --out grid.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from PIL import Image, ImageDraw

from _evaluated import evaluated_run
from latentbridge.eval.labelled import pairs_by_name
from latentbridge.imaging import to_pil


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", required=True)
    p.add_argument("--target", required=True)
    p.add_argument("--attribute", required=True)
    p.add_argument("--value", required=True, help="the class name (or its id) to select")
    p.add_argument("-n", type=int, default=32, help="images in the grid (default 32)")
    p.add_argument("--out", type=Path, required=True, help="PNG to write")


def main() -> None:
    ev, args = evaluated_run(__doc__, _arguments)
    attrs = ev.attrs
    if attrs is None or args.attribute not in attrs.names:
        names = attrs.names if attrs else []
        raise SystemExit(f"--attribute must be one of {names} (from {ev.data}/attributes.json)")
    k = attrs.names.index(args.attribute)
    classes = attrs.classes[k]
    value = classes.index(args.value) if args.value in classes else None
    if value is None and args.value.isdigit() and int(args.value) < len(classes):
        value = int(args.value)
    if value is None:
        raise SystemExit(f"--value must be one of {classes} (or 0..{len(classes) - 1})")
    for d in (args.source, args.target):
        if d not in ev.test or d not in ev.clf:
            raise SystemExit(f"{d!r} is not a labelled test domain: {sorted(ev.clf)}")
    src, dst = ev.test[args.source], ev.test[args.target]
    assert src.labels is not None
    chosen = torch.nonzero(src.labels[:, k] == value).flatten()
    if not len(chosen):
        raise SystemExit(f"no {args.source} test image has {args.attribute}={classes[value]}")
    with torch.no_grad():
        x = src.images[chosen]
        y = ev.x_ab[(args.source, args.target)][chosen]  # the translations eval reads
        read = ev.clf[args.target].predict(y)[:, k].cpu()
    counts = {c: int((read == i).sum()) for i, c in enumerate(classes)}
    print(f"{len(chosen)} {args.source} test images with {args.attribute}={classes[value]}:")
    print(f"  their translations into {args.target} are read as {counts}")
    ia, ib = pairs_by_name(src, dst)
    true = None
    if len(ia) and attrs.paired_test:  # paired: the same subjects drawn in the target domain
        where = {int(i): int(j) for i, j in zip(ia, ib, strict=True)}
        counterparts = [where.get(int(i), -1) for i in chosen]
        if all(j >= 0 for j in counterparts):
            true = dst.images[counterparts]
            read_true = ev.clf[args.target].predict(true)[:, k].cpu()
            counts_true = {c: int((read_true == i).sum()) for i, c in enumerate(classes)}
            print(f"  their true counterparts in {args.target} are read as {counts_true}")
    n = min(args.n, len(chosen))
    rows_of = [to_pil(x[:n]), to_pil(y[:n])] + ([to_pil(true[:n])] if true is not None else [])
    s, label, per_row = 96, 14, 16
    bands = (n + per_row - 1) // per_row
    grid = Image.new("RGB", (s * min(n, per_row), bands * len(rows_of) * (s + label)), "white")
    draw = ImageDraw.Draw(grid)
    for i in range(n):
        band, col = divmod(i, per_row)
        for r, images in enumerate(rows_of):
            top = (band * len(rows_of) + r) * (s + label)
            grid.paste(images[i].resize((s, s), Image.NEAREST), (col * s, top))
            if r == 1:
                name = classes[int(read[i])]
                colour = "black" if int(read[i]) == value else "red"
                draw.text((col * s + 3, top + s), name, fill=colour)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    grid.save(args.out)
    rows = f"{args.source} images, their translations (the class read, red where it differs)"
    rows += ", their true counterparts" if true is not None else ""
    print(f"grid, rows of {rows}: {args.out}")


if __name__ == "__main__":
    main()
