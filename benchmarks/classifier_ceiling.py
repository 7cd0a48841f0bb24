"""How well an evaluation classifier reads a domain's real test images, against its training.

The attribute classifier of ``latentbridge eval`` is the instrument every preservation number
goes through; its accuracy on real test images is the ceiling a perfect translation would score.
This trains it on one domain of a dataset written by ``latentbridge data`` for each listed step
count (one round: a cosine cycle on all the training images), then with held-out rounds (what
``latentbridge eval`` does), and prints the test accuracy per attribute and the time of each.

    python benchmarks/classifier_ceiling.py --data /tmp/dg32 --domain printed --steps 800,2000,4000
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from latentbridge.data.labels import read_attributes
from latentbridge.eval.classifier import train_attribute_classifier
from latentbridge.eval.labelled import load_split
from latentbridge.eval.metrics import attribute_accuracy


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--domain", required=True)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--steps", default="800,2000,4000", help="one-round step counts to try")
    p.add_argument("--round-steps", type=int, default=800, help="steps per held-out round")
    p.add_argument("--rounds", type=int, default=5, help="most held-out rounds (0 = skip)")
    args = p.parse_args()
    attrs = read_attributes(args.data)
    if attrs is None:
        raise SystemExit(f"{args.data} has no attributes.json")
    domains = sorted(d.name for d in (args.data / "train").iterdir() if d.is_dir())
    train = load_split(args.data, "train", args.size, domains, limit=5000)[args.domain]
    test = load_split(args.data, "test", args.size, domains, limit=5000)[args.domain]
    if train.labels is None or test.labels is None:
        raise SystemExit(f"{args.domain} has no labels")
    runs = [(int(s), 1) for s in args.steps.split(",") if s]
    runs += [(args.round_steps, args.rounds)] if args.rounds > 0 else []
    print(f"{args.domain}: {len(train.images)} training, {len(test.images)} test images")
    for steps, rounds in runs:
        t = time.perf_counter()
        clf = train_attribute_classifier(
            train.images, train.labels, attrs.num_classes, steps=steps, rounds=rounds
        )
        acc = attribute_accuracy(clf.predict(test.images), test.labels, attrs.names)
        how = f"{steps} steps" if rounds == 1 else f"rounds of {steps} (at most {rounds})"
        print(
            f"{how:>28}: test accuracy {acc['mean']:.3f} "
            f"({', '.join(f'{k} {v:.3f}' for k, v in acc.items() if k != 'mean')}); "
            f"trained {clf.training_record['steps']} steps, held-out "
            f"{clf.training_record['holdout_accuracy']}; {time.perf_counter() - t:.0f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
