"""``latentbridge translate``: image files, folders or globs from one domain to another, written
as PNGs under ``--out`` in the inputs' layout; unreadable inputs are named and skipped."""

from __future__ import annotations

import argparse
import glob
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from latentbridge.errors import UserError

if TYPE_CHECKING:
    from torch import Tensor


def add_translate(sub: argparse._SubParsersAction) -> None:
    from latentbridge.cli import (
        add_compile_argument,
        add_device_argument,
        add_no_ema_argument,
        parser_with_example,
    )

    p = parser_with_example(
        sub,
        "translate",
        "translate image files, folders (recursive) or globs from one domain to another",
        """
        latentbridge translate --run runs/xgan --from photo --to cartoon my_photos/ --out cartoons/
        latentbridge translate --run runs/xgan --from A --to B 'shots/*.jpg' one.png --out out/
        """,
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files, folders or globs")
    p.add_argument(
        "--run", type=Path, required=True, help="a run folder (uses checkpoints/last.pt)"
    )
    p.add_argument("--from", dest="source", required=True, help="source domain")
    p.add_argument("--to", dest="target", required=True, help="target domain")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--checkpoint", type=Path, help="a specific checkpoint file instead of last.pt")
    p.add_argument("--batch-size", type=int, default=32, help="images per batch (default 32)")
    add_device_argument(p)
    p.add_argument(
        "--precision",
        choices=["auto", "fp32", "bf16", "fp16"],
        default="fp32",
        help="autocast of the translation (default fp32, as `eval`; auto = bf16 where the "
        "device computes it natively)",
    )
    p.add_argument(
        "--style-seed",
        type=int,
        help="for a model with a style code (model.style_dim, e.g. munit): draw each image's "
        "target style from N(0, I) with this seed (the i-th input from seed + i) instead of "
        "s = 0, so several seeds give several translations of one image",
    )
    add_no_ema_argument(p)
    add_compile_argument(
        p,
        help="torch.compile the encoder and decoder (default off): pays on many images; each new "
        "batch size compiles first (docs/PERFORMANCE.md, section T)",
    )
    p.set_defaults(func=cmd_translate)


def expand_inputs(inputs: Sequence[str]) -> list[tuple[Path, Path]]:
    """Each input -> (file, output path relative to --out). A folder's files keep their path
    relative to that folder; a glob's, relative to the glob's fixed prefix; a file, its name."""
    from latentbridge.data.folders import list_images

    out: list[tuple[Path, Path]] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            out += [(f, f.relative_to(path)) for f in list_images(path)]
        elif path.exists():
            out.append((path, Path(path.name)))
        elif glob.has_magic(item):
            base = Path(item.split("*")[0].split("?")[0].split("[")[0])
            base = base if item.endswith("/") or base.is_dir() else base.parent
            for f in sorted(glob.glob(item, recursive=True)):
                fp = Path(f)
                if fp.is_file():
                    out.append(
                        (fp, fp.relative_to(base) if fp.is_relative_to(base) else Path(fp.name))
                    )
        else:
            out.append((path, Path(path.name)))  # reported as failed below
    return [(f, rel.with_suffix(".png")) for f, rel in out]


def _read_inputs(
    jobs: list[tuple[Path, Path]], size: int, failed: list[str]
) -> tuple[list[Path], list, list[int]]:
    """Decode a chunk of inputs: (output paths, images, their positions in ``jobs``) of the
    readable ones; unreadable ones are appended to ``failed`` with the reason."""
    from latentbridge.data.folders import read_image

    good, images, where = [], [], []
    for k, (src, rel) in enumerate(jobs):
        try:
            images.append(read_image(src, size))
            good.append(rel)
            where.append(k)
        except Exception as exc:  # any unreadable input: name it, go on with the rest
            failed.append(f"{src} ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})")
    return good, images, where


def _styles(dim: int, seeds: list[int]) -> Tensor:
    """One row of ``dim`` values from N(0, 1) per seed, each a function of its seed alone."""
    import torch

    return torch.stack(
        [torch.randn(dim, generator=torch.Generator().manual_seed(k)) for k in seeds]
    )


def cmd_translate(args: argparse.Namespace) -> int:
    from latentbridge.api import load

    if args.batch_size < 1:
        raise UserError("--batch-size must be >= 1")
    pipe = load(
        args.run,
        device=args.device,
        checkpoint=args.checkpoint,
        precision=args.precision,
        compile=args.compile or "off",
        ema=not args.no_ema,
    )
    pipe.gen.index(args.source), pipe.gen.index(args.target)
    if args.style_seed is not None and not pipe.gen.style_dim:
        raise UserError(f"--style-seed: the run {args.run} has no style code (model.style_dim=0)")
    jobs = expand_inputs(args.inputs)
    if not jobs:
        raise UserError("no input images found")
    failed: list[str] = []
    done = 0
    for i in range(0, len(jobs), args.batch_size):
        good, images, where = _read_inputs(jobs[i : i + args.batch_size], pipe.size, failed)
        if not good:
            continue
        style = None
        if args.style_seed is not None:  # per input, so the batch size changes nothing
            seeds = [args.style_seed + i + k for k in where]
            style = _styles(pipe.gen.style_dim, seeds)
        for rel, img in zip(good, pipe.translate(images, args.source, args.target, style)):
            dest = args.out / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            img.save(dest)
            done += 1
    print(f"translated {done} image(s) {args.source} -> {args.target} into {args.out}")
    if failed:
        print(f"error: {len(failed)} input(s) failed: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0
