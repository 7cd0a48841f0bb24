"""What the translator's networks reach when every training image comes with its true
counterpart: a supervised reference for the unsupervised runs at the same budget.

The translator of a preset (default `bridge` on the demo's light model, ``latentbridge.demo``'s
settings) is trained on a *paired* folder (one subfolder per domain, the same file name for the
same subject, as ``latentbridge data faces`` writes its test split) with L1 terms: each image's
reconstruction, and each translation against the true counterpart, all weighted ``--weight``;
with ``--gan W`` also the preset's image discriminators judging the translations (pix2pix's
recipe in the preset's GAN loss). Adam as the preset sets it (rate, betas), its weight average,
bf16 autocast where the preset's ``train.precision`` gives it; no cycle, no prior, no code
alignment: the networks, the budget and the pairs. On the faces benchmark a pair shares the
attributes only (each domain draws its own pose, hairstyle, background, ...), so L1 alone
regresses to the mean of the cartoons a photo could be: blurred, as the attributes' classifier
then reads them. The run folder is an ordinary run, so ``latentbridge eval`` reads it (on a test
split of *other* subjects: generate the pairs with another ``--seed``).

    latentbridge data faces --out /tmp/fpair --size 32 --n-train 16 --n-test 3000 --seed 1
    python benchmarks/paired_oracle.py --pairs /tmp/fpair/test --out runs/oracle --minutes 8 [--gan 3]
    latentbridge eval --run runs/oracle --data /tmp/fd32n --device cpu
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from latentbridge import config as C
from latentbridge import losses, methods
from latentbridge.cli import add_device_argument, add_set_argument
from latentbridge.data.stream import to_tensor
from latentbridge.demo import DEMO_SETTINGS
from latentbridge.train.log import write_samples
from latentbridge.train.trainer import Trainer


def paired_indices(trainer: Trainer) -> int:
    """The number of subjects, after checking that every domain holds the same file names in
    the same order (so one index is one subject in every domain)."""
    names = {d: [p.name for p in trainer.data.paths[d]] for d in trainer.data.domains}
    first = next(iter(names.values()))
    for d, n in names.items():
        if n != first:
            raise SystemExit(
                f"--pairs: domain {d!r} does not hold the same file names as the first"
            )
    return len(first)


def train_paired(
    trainer: Trainer,
    *,
    minutes: float,
    steps: int | None,
    weight: float,
    gan: float,
    seed: int,
) -> int:
    """Train until ``minutes`` have passed or ``steps`` are taken; return the steps taken.
    ``gan`` > 0 adds the preset's image discriminators judging the translations (pix2pix's
    conditional-free form: L1 to the pair keeps the subject, the GAN keeps the images sharp)."""
    gen, dis, cfg, domains = trainer.model.gen, trainer.model.dis, trainer.cfg, trainer.data.domains
    t, kind = cfg.train, cfg.loss.gan_type
    opt = torch.optim.Adam(gen.parameters(), lr=t.lr, betas=(t.beta1, t.beta2))
    opt_d = torch.optim.Adam(dis.parameters(), lr=t.lr_d or t.lr, betas=(t.beta1, t.beta2))
    pairs = [(a, b) for a in domains for b in domains if a != b] if gan else []
    n, rng = paired_indices(trainer), np.random.default_rng(seed)
    deadline = time.monotonic() + minutes * 60
    while time.monotonic() < deadline and (steps is None or trainer.step < steps):
        idx = rng.integers(0, n, t.batch_size)
        x = {d: to_tensor(trainer.data.images[d][idx]) for d in domains}
        with trainer.autocast():
            z = {a: gen.encode(x[a], a) for a in domains}
            out = {(a, b): gen.decode(z[a], b) for a in domains for b in domains}
            l1 = sum(F.l1_loss(y.float(), x[b]) for (_, b), y in out.items())
            fool = sum(
                losses.gan_generator(dis.image[b](out[a, b]).float(), kind) for a, b in pairs
            )  # 0 without the GAN: no discriminator runs
        opt.zero_grad(set_to_none=True)
        (weight * l1 + gan * fool).backward()
        opt.step()
        if gan:
            with trainer.autocast():
                judged = sum(
                    losses.gan_discriminator(
                        dis.image[b](x[b]).float(), dis.image[b](out[a, b].detach()).float(), kind
                    )
                    for a, b in pairs
                )
            opt_d.zero_grad(set_to_none=True)
            judged.backward()
            opt_d.step()
        if trainer.ema is not None:  # after optimizer step ``step`` (0-based), as in training
            trainer.ema.update(trainer.step)
        trainer.step += 1
        if trainer.step % 100 == 0:
            print(f"step {trainer.step}: L1 summed over the {len(out)} pairs {l1:.4f}")
    return trainer.step


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pairs", type=Path, required=True, help="paired folders, one per domain")
    p.add_argument("--out", type=Path, required=True, help="the run folder to write")
    p.add_argument("--minutes", type=float, default=8.0)
    p.add_argument("--steps", type=int, help="stop after this many steps, if sooner")
    p.add_argument("--method", default="bridge", help="the preset whose networks are trained")
    p.add_argument("--weight", type=float, default=30.0, help="weight of every L1 term")
    p.add_argument(
        "--gan", type=float, default=0.0, help="weight of the translations' GAN term (0: none)"
    )
    add_device_argument(p)
    add_set_argument(p, "override a config key of the preset (repeatable)")
    args = p.parse_args()
    cfg = methods.resolve(args.method, overrides={**DEMO_SETTINGS, **C.parse_set(args.set)})
    trainer = Trainer(cfg, data=args.pairs, run=args.out, device=args.device, overwrite=True)
    args.out.mkdir(parents=True, exist_ok=True)
    C.dump_yaml(cfg, args.out / "config.yaml")
    steps = train_paired(
        trainer,
        minutes=args.minutes,
        steps=args.steps,
        weight=args.weight,
        gan=args.gan,
        seed=cfg.train.seed,
    )
    trainer.save()
    write_samples(trainer.translator, trainer.fixed, args.out / "samples" / "last.png")
    print(f"{steps} steps; wrote {args.out}")


if __name__ == "__main__":
    main()
