"""Whether the demo's two evaluation classifiers finish sooner at once than one after the other.

The demo trains one attribute classifier per domain before it trains the translator, and that
time comes out of its budget. On a CPU with two cores this times, alternating, (a) both
classifiers one after the other in this process with two threads each, and (b) both at once,
each in its own spawned process of one thread (as the demo's training ranks run). Each time
includes what (b) costs beyond the training: starting the processes and decoding the images.

    python benchmarks/perf_classifiers.py --data /tmp/fd32n --steps 300 --rounds 2

With ``--layouts`` it times instead the convolutions' memory layout on the CPU: each domain's
classifier trained in turn with two threads, its input channels-first and channels-last
(``latentbridge.eval.attribute_net.CHANNELS_LAST_ON_CPU``), alternating, with the demo's blur
augmentation; and each trained classifier's accuracy on the real test images of its domain
(the ceiling), so a faster layout is seen to train as good an instrument:

    python benchmarks/perf_classifiers.py --data /tmp/fd32n --steps 800 --rounds 3 --layouts
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import torch.multiprocessing as mp

from latentbridge.data.folders import find_domains
from latentbridge.data.labels import read_attributes
from latentbridge.eval import attribute_net
from latentbridge.eval.classifier import train_attribute_classifier
from latentbridge.eval.instruments import CLASSIFIER_BLUR
from latentbridge.eval.labelled import load_split


def train_one(data: Path, size: int, domain: str, steps: int, threads: int) -> float:
    """Seconds to train ``domain``'s classifier for ``steps`` steps on ``threads`` threads."""
    torch.set_num_threads(threads)
    attrs = read_attributes(data)
    assert attrs is not None, f"{data} has no attribute labels"
    s = load_split(data, "train", size, list(find_domains(data)), limit=5000)[domain]
    start = time.perf_counter()
    train_attribute_classifier(s.images, s.labels, attrs.num_classes, steps=steps, device="cpu")
    return time.perf_counter() - start


def layouts(data: Path, size: int, steps: int, rounds: int) -> list[dict[str, object]]:
    """Each domain's classifier, channels-first then channels-last input, ``rounds`` times."""
    torch.set_num_threads(2)
    attrs = read_attributes(data)
    assert attrs is not None, f"{data} has no attribute labels"
    domains = list(find_domains(data))
    train = load_split(data, "train", size, domains, limit=5000)
    test = load_split(data, "test", size, domains, limit=5000)
    rows: list[dict[str, object]] = []
    for r in range(rounds):
        for channels_last in (False, True):
            attribute_net.CHANNELS_LAST_ON_CPU = channels_last
            for d in domains:
                s, t = train[d], test[d]
                assert s.labels is not None and t.labels is not None
                start = time.perf_counter()
                clf = train_attribute_classifier(
                    s.images, s.labels, attrs.num_classes, steps=steps, blur=CLASSIFIER_BLUR,
                    device="cpu",
                )  # fmt: skip
                seconds = time.perf_counter() - start
                ceiling = float((clf.predict(t.images) == t.labels).double().mean())
                rows.append({"round": r, "channels_last": channels_last, "domain": d,
                             "train_s": seconds, "steps_per_s": steps / seconds,
                             "test_accuracy": ceiling})  # fmt: skip
                layout = "channels-last" if channels_last else "channels-first"
                print(f"round {r} {layout:>14} {d:>8}: {seconds:6.1f} s "
                      f"({steps / seconds:.1f} steps/s), test accuracy {ceiling:.3f}", flush=True)  # fmt: skip
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="a faces or digits benchmark folder")
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--steps", type=int, default=300, help="training steps per classifier")
    p.add_argument("--rounds", type=int, default=2, help="times each way is timed, alternating")
    p.add_argument("--json", type=Path, help="write the timings here")
    p.add_argument("--layouts", action="store_true", help="time the input layout instead")
    a = p.parse_args()
    if a.layouts:
        rows = layouts(a.data, a.size, a.steps, a.rounds)
        if a.json:
            a.json.write_text(json.dumps(rows, indent=2))
        return
    domains = list(find_domains(a.data))
    rows = []
    for r in range(a.rounds):
        start = time.perf_counter()
        parts = [train_one(a.data, a.size, d, a.steps, 2) for d in domains]
        rows.append({"way": "in turn, 2 threads", "round": r, "wall_s": time.perf_counter() - start,
                     "train_s": parts})  # fmt: skip
        start = time.perf_counter()
        with mp.get_context("spawn").Pool(len(domains)) as pool:
            parts = pool.starmap(train_one, [(a.data, a.size, d, a.steps, 1) for d in domains])
        rows.append({"way": "at once, 1 thread each", "round": r,
                     "wall_s": time.perf_counter() - start, "train_s": parts})  # fmt: skip
        for row in rows[-2:]:
            each = " / ".join(f"{t:.1f}" for t in row["train_s"])
            print(f"{row['way']:>24}: {row['wall_s']:.1f} s (training {each} s)", flush=True)
    if a.json:
        a.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
