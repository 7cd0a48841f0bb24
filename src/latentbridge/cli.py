"""The command line: ``latentbridge <command> --help`` for each command and a worked example."""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

from latentbridge import __version__
from latentbridge.cli_translate import add_translate
from latentbridge.errors import TrainingDiverged, UserError


def parser_with_example(
    sub: argparse._SubParsersAction, name: str, help: str, example: str
) -> argparse.ArgumentParser:
    return sub.add_parser(
        name,
        help=help,
        description=help,
        epilog="example:\n" + textwrap.indent(textwrap.dedent(example).strip(), "  "),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


# --- train ---------------------------------------------------------------------------------------


def add_train(sub: argparse._SubParsersAction) -> None:
    p = parser_with_example(
        sub,
        "train",
        "train a translator on folders of images (one subfolder per domain)",
        """
        latentbridge train --data photos_and_cartoons --method xgan --out runs/xgan --steps 2000
        latentbridge train --data DIR --method unit --out runs/u --set data.size=64 --set loss.cycle=5
        latentbridge train --data DIR --out runs/u --resume --steps 4000   # continue to step 4000
        """,
    )
    p.add_argument(
        "--data",
        type=Path,
        required=True,
        help="dataset folder: DIR/<domain>, DIR/train/<domain> or trainA/trainB",
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument("--method", help="a preset (see `latentbridge methods`)")
    g.add_argument("--config", type=Path, help="a YAML config file (may name `method:`)")
    p.add_argument(
        "--out", type=Path, required=True, help="run folder (config, checkpoints, samples, logs)"
    )
    b = p.add_mutually_exclusive_group()
    b.add_argument("--steps", type=int, help="train until this step (default: train.steps)")
    b.add_argument("--minutes", type=float, help="train for this many minutes of wall time")
    add_set_argument(p, "override a config key, e.g. train.lr=1e-4 (repeatable)")
    r = p.add_mutually_exclusive_group()
    r.add_argument("--resume", action="store_true", help="continue from RUN/checkpoints/last.pt")
    r.add_argument(
        "--overwrite",
        action="store_true",
        help="start a new run in a folder that holds one (its checkpoints, samples and logs "
        "are removed first)",
    )
    add_device_argument(p)
    p.add_argument("--seed", type=int, help="random seed (train.seed)")
    p.add_argument(
        "--precision",
        choices=["auto", "fp32", "bf16", "fp16"],
        help="autocast precision (train.precision; auto = bf16 where native, else fp32)",
    )
    add_compile_argument(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)


def cmd_train(args: argparse.Namespace) -> int:
    from latentbridge import config as C
    from latentbridge import methods
    from latentbridge.train import distributed
    from latentbridge.train.loop import train
    from latentbridge.train.trainer import Trainer

    if args.steps is not None and args.steps < 0 or args.minutes is not None and args.minutes <= 0:
        raise UserError("--steps must be >= 0 and --minutes > 0")
    overrides = C.parse_set(args.set)
    if args.seed is not None:
        overrides["train.seed"] = args.seed
    if args.precision is not None:
        overrides["train.precision"] = args.precision
    if args.compile is not None:
        overrides["train.compile"] = args.compile
    file = C.load_yaml(args.config) if args.config else None
    cfg = methods.resolve(args.method, file=file, overrides=overrides)
    if args.resume and (args.method or args.config):
        print(
            "note: --resume continues with the checkpoint's config (plus any --set)",
            file=sys.stderr,
        )
    trainer = Trainer(
        cfg,
        data=args.data,
        run=args.out,
        device=args.device,
        resume=args.resume,
        overwrite=args.overwrite,
        overrides=overrides,
    )
    ranks = trainer.dist
    try:
        result = train(
            trainer, steps=args.steps, minutes=args.minutes, progress=not args.no_progress
        )
    finally:
        del trainer  # its DDP modules hold the process group (distributed.teardown)
        distributed.teardown(ranks)
    if ranks.main:
        state = "interrupted, saved" if result.interrupted else "done"
        print(
            f"{state}: step {result.step} in {result.seconds:.0f}s; checkpoint {result.checkpoint}; samples in {result.run / 'samples'}"
        )
    return 130 if result.interrupted else 0


# --- methods -------------------------------------------------------------------------------------


def add_methods(sub: argparse._SubParsersAction) -> None:
    p = parser_with_example(
        sub,
        "methods",
        "list the method presets, or show the config keys one of them sets",
        """
        latentbridge methods
        latentbridge methods bridge                      # the keys bridge sets beyond the defaults
        latentbridge methods bridge --set loss.cycle=10 > mine.yaml
        latentbridge train --data DIR --config mine.yaml --out runs/mine
        latentbridge methods unit --full                 # every key, resolved
        """,
    )
    p.add_argument("name", nargs="?", help="a preset: print its config as YAML (for --config)")
    add_set_argument(p, "change a key of the printed config, as train's --set does (repeatable)")
    p.add_argument("--full", action="store_true", help="print every key, not only those changed")
    p.set_defaults(func=cmd_methods)


def cmd_methods(args: argparse.Namespace) -> int:
    from latentbridge import config as C
    from latentbridge import methods

    if args.name is None:
        if args.set or args.full:
            raise UserError("--set and --full need a preset's name: latentbridge methods NAME")
        width = max(len(n) for n in methods.REGISTRY)
        for name, m in methods.REGISTRY.items():
            print(f"{name:<{width}}  {m.summary}")
        return 0
    cfg = methods.resolve(args.name, overrides=C.parse_set(args.set))
    print(f"# {args.name}: {methods.get(args.name).summary}")
    if args.full:
        print("# every key, resolved; train from it with --config FILE")
        print(C.to_yaml(C.to_dict(cfg)), end="")
    else:
        print("# the keys it sets beyond the defaults; train from it with --config FILE")
        print(C.to_yaml(C.changed(cfg, C.Config())), end="")
    return 0


# --- main ----------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="latentbridge",
        description="Unpaired image-to-image translation through one latent space shared by all domains.",
        epilog="example:\n  latentbridge data faces --out data/faces --size 32\n"
        "  latentbridge train --data data/faces --method xgan --out runs/xgan --minutes 5\n"
        "  latentbridge translate --run runs/xgan --from photo --to cartoon data/faces/test/photo --out out/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"latentbridge {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_train(sub)
    add_translate(sub)
    add_methods(sub)
    for register in _optional_commands():
        register(sub)
    return parser


def add_set_argument(p: argparse.ArgumentParser, help: str) -> None:
    """The ``--set KEY=VALUE`` option (repeatable) that every config-building command shares;
    :func:`latentbridge.config.parse_set` checks what it collects."""
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=help)


COMPILE_HELP = (
    "torch.compile the networks (train.compile; default off): faster steps after a "
    "compile of 40-120 s at start (docs/PERFORMANCE.md, section C)"
)


def add_compile_argument(p: argparse.ArgumentParser, help: str = COMPILE_HELP) -> None:
    """``--compile MODE`` (train.compile), shared by ``train``, ``bench`` and ``translate``."""
    from typing import get_args

    from latentbridge.config import CompileMode

    p.add_argument("--compile", choices=get_args(CompileMode), help=help)


def add_device_argument(p: argparse.ArgumentParser) -> None:
    """``--device``, shared by every command that runs the networks."""
    p.add_argument(
        "--device", default="auto", help="auto | cpu | cuda | cuda:N | mps (default auto)"
    )


def add_no_ema_argument(p: argparse.ArgumentParser) -> None:
    """``--no-ema``, shared by ``eval`` and ``translate``."""
    p.add_argument(
        "--no-ema",
        action="store_true",
        help="use the trained weights, not their moving average (where the run kept one: "
        "train.ema)",
    )


def _optional_commands() -> list:
    """Commands that live beside their subsystem (data generators, evaluation, benchmarks)."""
    from latentbridge.bench import add_bench_parser
    from latentbridge.data.cli_data import add_data_parser
    from latentbridge.demo import add_demo
    from latentbridge.eval.commands import add_eval_parsers

    return [add_data_parser, add_eval_parsers, add_bench_parser, add_demo]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except TrainingDiverged as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
