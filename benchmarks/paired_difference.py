"""Whether two trained runs keep the subject differently, or only seem to on these test images.

Both runs are read as ``latentbridge eval`` reads them (the same test split, the same cached
attribute classifiers, each run's weight average where it kept one); for every direction the
script prints each run's mean attribute preservation with its 95 % interval over the test images,
and the difference (first run minus second) with its paired 95 % interval
(``latentbridge.eval.metrics.attribute_interval`` with ``against``: every resample draws the
same images for both). A difference whose interval holds 0 is one these test images cannot
tell from none; it says nothing of the spread between training seeds, which only more seeds
measure.

    python benchmarks/paired_difference.py --data /tmp/fd32n --device cpu --runs runs/A runs/B
"""

from __future__ import annotations

import argparse
import json
from itertools import permutations
from pathlib import Path

import torch

from latentbridge.eval import metrics as M
from latentbridge.eval.evaluate import evaluator


def readings(
    run: Path, data: Path, device: str
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], list[str]]:
    """Per direction "a->b": what b's classifier reads on the run's translations, and a's labels."""
    ev = evaluator(run, data, device=device, two_sample_steps=1)
    if ev.attrs is None:
        raise SystemExit(f"{data} has no attribute labels to read")
    read, labels = {}, {}
    for a, b in permutations(ev.test, 2):
        if b in ev.clf and ev.test[a].labels is not None:
            read[f"{a}->{b}"] = ev.clf[b].predict(ev.x_ab[(a, b)])
            labels[f"{a}->{b}"] = ev.test[a].labels
    return read, labels, ev.attrs.names


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=Path, nargs=2, required=True, metavar=("FIRST", "SECOND"))
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--device", default="auto")
    p.add_argument("--json", type=Path, help="write the numbers here")
    a = p.parse_args()
    (read_1, labels, names), (read_2, _, _) = (readings(r, a.data, a.device) for r in a.runs)
    rows = []
    for key, target in labels.items():  # one --data: both runs read the same test images
        one, two = read_1[key], read_2[key]
        row = {
            "direction": key,
            "first": M.attribute_accuracy(one, target, names)["mean"],
            "first_interval": M.attribute_interval(one, target, names)["mean"],
            "second": M.attribute_accuracy(two, target, names)["mean"],
            "second_interval": M.attribute_interval(two, target, names)["mean"],
            "difference_interval": M.attribute_interval(one, target, names, against=two),
        }
        rows.append(row)
        d = row["difference_interval"]["mean"]
        print(
            f"{key:>16}: {row['first']:.3f} ({row['first_interval'][0]:.3f}–"
            f"{row['first_interval'][1]:.3f}) against {row['second']:.3f} "
            f"({row['second_interval'][0]:.3f}–{row['second_interval'][1]:.3f}); difference "
            f"{row['first'] - row['second']:+.3f}, paired 95 % interval {d[0]:+.3f} to {d[1]:+.3f}"
        )
    if a.json:
        a.json.write_text(json.dumps({"runs": [str(r) for r in a.runs], "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
