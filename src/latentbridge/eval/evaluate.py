"""``latentbridge eval``: every metric of a trained run, per ordered pair of domains.

- semantic preservation: the target domain's attribute classifier (trained on that domain's
  labelled training images, cached) applied to translations, scored against the *source* labels;
  beside it the same classifier on real test images of the target (ceiling), on the source
  images themselves, untranslated (what copying the input scores), and chance;
- realism: KID and FID in the target classifier's penultimate features (or a user's TorchScript
  network), and a classifier two-sample test (0.5 = indistinguishable);
- paired ground truth (paired test splits): L1 and SSIM against the true counterpart;
- cycle and reconstruction error;
- latent alignment: domain probe on z (0.5 = aligned), attribute probe transfer a -> b, paired
  retrieval top-1.
Metrics that need labels or pairs are ``null`` where the dataset has none.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations, permutations, product
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from latentbridge.api import Pipeline, load
from latentbridge.data.labels import read_attributes
from latentbridge.eval import metrics as M
from latentbridge.eval.classifier import load_feature_network
from latentbridge.eval.instruments import Fit, blurred, classifiers, domain_classifier
from latentbridge.eval.labelled import DomainSet, load_split, pairs_by_name

SCHEMA = 1  # bumped when a key of metrics.json changes meaning


@torch.no_grad()
def _batched(fn: Callable[..., Tensor], device: torch.device, *xs: Tensor, bs: int = 128) -> Tensor:
    """``fn`` over ``bs`` rows of every tensor of ``xs`` at a time, on ``device``; the rows
    concatenated on the CPU."""
    n = len(xs[0])
    return torch.cat([fn(*(x[i : i + bs].to(device) for x in xs)).cpu() for i in range(0, n, bs)])


def _test_split(
    data: Path, size: int, domains: list[str], limit: int
) -> tuple[str, dict[str, DomainSet]]:
    """The split evaluated and its images per domain: the test split, or (a dataset without
    one) a slice of the training images."""
    try:
        return "test", load_split(data, "test", size, domains, limit=limit)
    except Exception:  # no test split: evaluate on (a slice of) the training images
        return "train", load_split(data, "train", size, domains, limit=limit)


class Evaluator:
    """Holds the model, the test sets, the classifiers and the encoded test sets."""

    def __init__(
        self,
        pipe: Pipeline,
        data: Path,
        *,
        features: Path | None = None,
        limit: int = 500,
        classifier_steps: int = 800,
        classifier_rounds: int = 5,
        two_sample_steps: int = 300,
        seed: int = 0,
    ) -> None:
        self.pipe, self.data, self.seed, dev = pipe, Path(data), seed, pipe.device
        self.two_sample_steps = two_sample_steps
        size, domains = pipe.size, pipe.domains
        self.split, self.test = _test_split(self.data, size, domains, limit)
        self.attrs = read_attributes(self.data)
        fit = Fit(classifier_steps, classifier_rounds, dev)
        self.clf = classifiers(self.data, size, self.attrs, domains, fit)
        self.classifier_training = {d: c.training_record for d, c in self.clf.items()}
        self._feature_space(features, fit)
        gen = pipe.gen
        self.z = {
            d: _batched(lambda x, d=d: gen.encode(x, d), dev, s.images)
            for d, s in self.test.items()
        }
        self.x_ab: dict[tuple[str, str], Tensor] = {
            (a, b): _batched(lambda z, b=b: gen.decode(z, b), dev, self.z[a])
            if a != b  # (d, d): the reconstructions, with the image's own style if any
            else _batched(
                lambda z, x, a=a: gen.decode(z, a, gen.style_of(x, a)),
                dev,
                self.z[a],
                self.test[a].images,
            )
            for a, b in product(self.test, repeat=2)
        }

    def _feature_space(self, features: Path | None, fit: Fit) -> None:
        """KID's and FID's features: a user's network, else the target domain's attribute
        classifier, else (a domain without labels) a domain classifier trained on the data."""
        if features is not None:
            net = load_feature_network(features).to(self.pipe.device)
            self.feature_name = f"user TorchScript network {features}"
            self.features: Callable[[str, Tensor], Tensor] = lambda d, x: net.features(x)
        elif len(self.clf) == len(self.test):
            self.feature_name = "penultimate layer of the target domain's attribute classifier"
            self.features = lambda d, x: self.clf[d].features(x)
        else:
            dc = domain_classifier(self.data, self.pipe.size, self.pipe.domains, fit)
            self.classifier_training["domain classifier"] = dc.training_record
            self.feature_name = "penultimate layer of a domain classifier trained on the data"
            self.features = lambda d, x: dc.features(x)

    def direction(self, a: str, b: str) -> dict[str, Any]:
        sa, sb, x_ab = self.test[a], self.test[b], self.x_ab[(a, b)]
        gen, dev = self.pipe.gen, self.pipe.device
        x_aba = _batched(lambda y, x: gen.cycle(y, x, a, b), dev, x_ab, sa.images)
        out: dict[str, Any] = {"n": len(x_ab), "attributes": self._attributes(a, b), "paired": None}
        real_f, fake_f = self.features(b, sb.images), self.features(b, x_ab)
        n = min(len(real_f), len(fake_f))
        kid_mean, kid_std = M.kid(
            real_f, fake_f, subset_size=min(100, n), subsets=50, seed=self.seed
        )
        out["kid"] = {"mean": kid_mean, "std": kid_std}
        out["fid"] = M.fid(real_f, fake_f)
        out["two_sample_accuracy"] = M.two_sample_accuracy(
            sb.images, x_ab, seed=self.seed, steps=self.two_sample_steps
        )
        ia, ib = pairs_by_name(sa, sb)
        if self.attrs is not None and self.attrs.paired_test and self.split == "test" and len(ia):
            out["paired"] = {
                "n": len(ia),
                "l1": M.paired_l1(x_ab[ia], sb.images[ib]),
                "ssim": M.ssim(x_ab[ia], sb.images[ib]),
            }
        out["cycle_l1"] = M.paired_l1(x_aba, sa.images)
        return out

    def _attributes(self, a: str, b: str) -> dict[str, Any] | None:
        """Semantic preservation a -> b: b's classifier on the translations against a's labels,
        with its interval, the ceiling (b's real test images, sharp and blurred), chance, the
        untranslated source, the confusion counts and the accuracy per group; None where b has
        no classifier or a no labels."""
        sa, sb, x_ab = self.test[a], self.test[b], self.x_ab[(a, b)]
        if b not in self.clf or sa.labels is None or self.attrs is None:
            return None
        names, classes, clf = self.attrs.names, self.attrs.num_classes, self.clf[b]
        read = clf.predict(x_ab)
        # the ceiling's reading: the classifier on b's real test images, with their labels
        real = None if sb.labels is None else (clf.predict(sb.images), sb.labels)
        return {
            "accuracy": M.attribute_accuracy(read, sa.labels, names),
            # what another draw of as many test images could read: the test set's noise
            "accuracy_interval": M.attribute_interval(read, sa.labels, names, seed=self.seed),
            "ceiling": M.attribute_accuracy(*real, names) if real else None,
            "ceiling_blurred": M.attribute_accuracy(
                clf.predict(blurred(sb.images)), sb.labels, names
            )
            if sb.labels is not None
            else None,
            "chance": M.chance_level(sa.labels, classes, names),
            # the source images themselves, not translated: what copying the input scores
            "untranslated": M.attribute_accuracy(clf.predict(sa.images), sa.labels, names),
            "confusion": M.attribute_confusion(read, sa.labels, classes, names),
            "by_group": M.attribute_accuracy_by_group(read, sa.labels, classes, names),
            # the same groups of b's real test images: a group the classifier itself
            # reads poorly is the instrument's, not the translation's
            "ceiling_by_group": M.attribute_accuracy_by_group(*real, classes, names)
            if real
            else None,
        }

    def latent(self, a: str, b: str) -> dict[str, Any]:
        za, zb = self.z[a], self.z[b]
        sa, sb = self.test[a], self.test[b]
        out: dict[str, Any] = {
            "domain_probe_accuracy": M.domain_probe_accuracy(za, zb, seed=self.seed)
        }
        out["attribute_probe_transfer"] = None
        if sa.labels is not None and sb.labels is not None and self.attrs is not None:
            names = self.attrs.names
            out["attribute_probe_transfer"] = {
                f"{a}->{b}": M.attribute_probe_transfer(
                    za, sa.labels, zb, sb.labels, names, seed=self.seed
                ),
                f"{b}->{a}": M.attribute_probe_transfer(
                    zb, sb.labels, za, sa.labels, names, seed=self.seed
                ),
            }
        ia, ib = pairs_by_name(sa, sb)
        paired = (
            self.attrs is not None
            and self.attrs.paired_test
            and self.split == "test"
            and len(ia) > 1
        )
        out["retrieval_top1"] = M.retrieval_top1(za[ia], zb[ib]) if paired else None
        out["retrieval_chance"] = 1 / len(ia) if paired else None
        return out

    def reconstruction(self, d: str) -> float:
        return M.paired_l1(self.x_ab[(d, d)], self.test[d].images)

    def reconstruction_attributes(self, d: str) -> dict[str, float] | None:
        """d's classifier on the reconstructions x_dd, against d's labels: how much of each
        attribute z keeps at all, read back by d's own decoder (what a translation can carry)."""
        s = self.test[d]
        if d not in self.clf or s.labels is None or self.attrs is None:
            return None
        return M.attribute_accuracy(
            self.clf[d].predict(self.x_ab[(d, d)]), s.labels, self.attrs.names
        )


def evaluator(
    run: Path,
    data: Path,
    *,
    checkpoint: Path | None = None,
    features: Path | None = None,
    device: str = "auto",
    limit: int = 500,
    classifier_steps: int = 800,
    classifier_rounds: int = 5,
    two_sample_steps: int = 300,
    ema: bool = True,
) -> Evaluator:
    """Load ``run`` (or ``checkpoint``) and prepare its evaluation on ``data``; ``ema`` as in
    :func:`latentbridge.load`."""
    pipe = load(run, device=device, checkpoint=checkpoint, ema=ema)
    return Evaluator(
        pipe,
        data,
        features=features,
        limit=limit,
        classifier_steps=classifier_steps,
        classifier_rounds=classifier_rounds,
        two_sample_steps=two_sample_steps,
    )


def metrics(ev: Evaluator, run: Path) -> dict[str, Any]:
    """All metrics, as the dict that ``metrics.json`` holds (keys documented in docs/EVAL.md)."""
    doms = list(ev.test)
    result: dict[str, Any] = {
        "schema": SCHEMA,
        "run": str(run),
        "method": ev.pipe.cfg.method,
        "step": ev.pipe.step,
        "weights": ev.pipe.weights,
        "data": str(ev.data),
        "split": ev.split,
        "n_images": {d: len(s.images) for d, s in ev.test.items()},
        "feature_network": ev.feature_name,
        "classifiers": ev.classifier_training,
        "two_sample_steps": ev.two_sample_steps,
        "attributes": ev.attrs.names if ev.attrs else None,
        "directions": {f"{a}->{b}": ev.direction(a, b) for a, b in permutations(doms, 2)},
        "reconstruction_l1": {d: ev.reconstruction(d) for d in doms},
        "reconstruction_attributes": {d: ev.reconstruction_attributes(d) for d in doms},
        "latent": {f"{a}|{b}": ev.latent(a, b) for a, b in combinations(doms, 2)},
    }
    result["summary"] = summarize(result)
    return result


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def summarize(m: dict[str, Any]) -> dict[str, Any]:
    """Headline numbers: mean attribute preservation (and per direction), realism, alignment."""
    dirs = m["directions"]
    attr = {k: v["attributes"]["accuracy"]["mean"] for k, v in dirs.items() if v["attributes"]}
    transfer = [
        t["transfer"]["mean"]
        for v in m["latent"].values()
        if v["attribute_probe_transfer"]
        for t in v["attribute_probe_transfer"].values()
    ]
    interval = {
        k: v["attributes"]["accuracy_interval"]["mean"]
        for k, v in dirs.items()
        if v["attributes"] and "accuracy_interval" in v["attributes"]
    }
    return {
        "attribute_preservation": attr or None,
        "attribute_preservation_interval": interval or None,
        "attribute_preservation_mean": _mean(list(attr.values())),
        "chance_mean": _mean(
            [v["attributes"]["chance"]["mean"] for v in dirs.values() if v["attributes"]]
        ),
        "untranslated_mean": _mean(
            [v["attributes"]["untranslated"]["mean"] for v in dirs.values() if v["attributes"]]
        ),
        "kid_mean": _mean([v["kid"]["mean"] for v in dirs.values()]),
        "two_sample_accuracy_mean": _mean([v["two_sample_accuracy"] for v in dirs.values()]),
        "domain_probe_accuracy_mean": _mean(
            [v["domain_probe_accuracy"] for v in m["latent"].values()]
        ),
        "attribute_probe_transfer_mean": _mean(transfer),
        "retrieval_top1_mean": _mean(
            [v["retrieval_top1"] for v in m["latent"].values() if v["retrieval_top1"] is not None]
        ),
    }
