"""``latentbridge demo``: the embedded default end to end — generate a small faces benchmark,
train the default preset on it, evaluate it and write the report (``make demo`` runs this)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from latentbridge.eval.commands import add_classifier_arguments

DEMO_METHOD = "bridge"  # the preset with the best attribute preservation in docs/RESULTS.md
# A light model and bf16 autocast buy steps: at this budget more steps beat more width
# (docs/RESULTS.md, "How the recipe was found"); train.precision stays "auto" (bf16 autocast
# where the device computes bf16 natively, else fp32).
DEMO_SETTINGS = {
    "data.size": 32,
    "model.width": 16,
    "model.max_width": 64,
    "model.res_blocks": 1,
    "model.disc_width": 16,
    "train.batch_size": 16,
    "train.sample_every": 250,
}


def add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="the embedded default end to end: faces benchmark, training, evaluation, report",
        description="Generate a small faces benchmark, train the default preset, evaluate it "
        "and write the report, printing where everything is and the headline numbers.",
        epilog="example:\n  latentbridge demo --out demo_out --minutes 7",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", type=Path, default=Path("demo_out"), help="where data and run go")
    p.add_argument("--minutes", type=float, default=7.0, help="training time (default 7)")
    p.add_argument("--method", default=DEMO_METHOD, help=f"preset to train (default {DEMO_METHOD})")
    p.add_argument("--n-train", type=int, default=3000, help="training images per domain")
    add_classifier_arguments(p)
    p.add_argument("--device", default="auto")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from latentbridge import methods
    from latentbridge.data.faces import generate_faces
    from latentbridge.errors import UserError
    from latentbridge.eval.commands import print_summary, run_eval
    from latentbridge.train.loop import Trainer, train

    if args.minutes <= 0:
        raise UserError("--minutes must be > 0")
    start = time.monotonic()
    data = args.out / "faces"
    if not (data / "attributes.json").is_file():
        print(f"[1/3] generating the faces benchmark in {data}")
        generate_faces(data, size=32, n_train=args.n_train, n_test=300, seed=0, progress=True)
    cfg = methods.resolve(args.method, overrides=DEMO_SETTINGS)
    run = args.out / "run"
    trainer = Trainer(cfg, data=data, run=run, device=args.device)
    print(
        f"[2/3] training {args.method} ({trainer.precision}) for {args.minutes:g} minutes into {run}"
    )
    train(trainer, minutes=args.minutes)
    print("[3/3] evaluating (classifiers are trained once and cached)")
    m = run_eval(
        run,
        data,
        run / "eval",
        device=args.device,
        limit=300,
        classifier_steps=args.classifier_steps,
        classifier_rounds=args.classifier_rounds,
    )
    print_summary(m, run / "eval")
    print(
        f"samples: {run / 'samples' / 'last.png'}; total time {(time.monotonic() - start) / 60:.1f} min"
    )
    return 0
