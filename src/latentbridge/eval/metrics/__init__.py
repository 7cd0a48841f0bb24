"""Metric functions of the evaluation: tensors in, plain Python numbers out.

Nothing here knows the translation model. Contracts: images are float (B, 3, H, W) in [-1, 1];
latents are (B, ...) and are flattened to (B, D); labels are LongTensor (B, A) of class ids (or (B,)
for a single attribute where stated). Every function is deterministic given ``seed``, works on any
device (computations follow the input's device; sklearn probes run on CPU copies), and can fail:
none clips or rescales its result towards a "good" value.

The functions live by what they measure -- `attributes` (preservation, its interval, confusion,
groups, chance), `distributions` (KID, FID, the two-sample test), `paired` (L1, SSIM), `latents`
(probes, retrieval) -- and are all read from here, as ``metrics.kid`` or ``M.kid``.
"""

from __future__ import annotations

from latentbridge.eval.metrics.attributes import (
    INTERVAL_LEVEL,
    INTERVAL_RESAMPLES,
    attribute_accuracy,
    attribute_accuracy_by_group,
    attribute_confusion,
    attribute_interval,
    chance_level,
)
from latentbridge.eval.metrics.distributions import fid, kid, two_sample_accuracy
from latentbridge.eval.metrics.latents import (
    attribute_probe_transfer,
    domain_probe_accuracy,
    linear_probe_accuracy,
    retrieval_top1,
)
from latentbridge.eval.metrics.paired import paired_l1, ssim

__all__ = [
    "INTERVAL_LEVEL",
    "INTERVAL_RESAMPLES",
    "attribute_accuracy",
    "attribute_accuracy_by_group",
    "attribute_confusion",
    "attribute_interval",
    "attribute_probe_transfer",
    "chance_level",
    "domain_probe_accuracy",
    "fid",
    "kid",
    "linear_probe_accuracy",
    "paired_l1",
    "retrieval_top1",
    "ssim",
    "two_sample_accuracy",
]
