"""``latentbridge demo``: the embedded default end to end — generate a small faces benchmark,
train the default preset on it, and write sample grids (``make demo`` runs this)."""

from __future__ import annotations

import argparse
from pathlib import Path

DEMO_METHOD = "unit"


def add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="generate a small faces benchmark, train on it and write samples (make demo)",
        description="The embedded default end to end: data, training, samples.",
        epilog="example:\n  latentbridge demo --out demo_out --minutes 3",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", type=Path, default=Path("demo_out"), help="where data and run go")
    p.add_argument("--minutes", type=float, default=5.0, help="training time budget")
    p.add_argument("--method", default=DEMO_METHOD, help="preset to train")
    p.add_argument("--device", default="auto")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from latentbridge import methods
    from latentbridge.data.faces import generate_faces
    from latentbridge.train.loop import Trainer, train

    data = args.out / "faces"
    if not (data / "train").is_dir():
        print(f"generating the faces benchmark in {data} ...")
        generate_faces(data, size=32, n_train=2000, n_test=200, seed=0, progress=True)
    cfg = methods.resolve(args.method, overrides={"data.size": 32, "train.sample_every": 200})
    run = args.out / "run"
    trainer = Trainer(cfg, data=data, run=run, device=args.device)
    result = train(trainer, minutes=args.minutes)
    print(f"trained {args.method} for {result.step} steps; samples: {run / 'samples' / 'last.png'}")
    return 0
