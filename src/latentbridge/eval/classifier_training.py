"""Training the attribute classifier on one domain's labelled images: minibatches shifted,
blurred and noised as a generator's output would be, in rounds until a held-out part of the
images stops improving.

Contracts: images are float tensors (B, 3, H, W) in [-1, 1]; labels are LongTensor (B, A) of class
ids, column i in ``[0, num_classes[i])``. Training is deterministic on CPU given ``seed`` (on GPU up
to cuDNN's nondeterministic kernels) and leaves the global RNG untouched.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm import tqdm

from latentbridge.eval.attribute_net import AttributeClassifier

_SHIFT_FRACTION = 16  # augmentation shifts by up to side/16 px (2 px at 32 px)
_HOLDOUT_MAX = 500  # images held out to decide whether another training round pays
_HOLDOUT_MIN = 20  # fewer than this: no hold-out, one round


def _check_labels(images: Tensor, labels: Tensor, num_classes: Sequence[int]) -> None:
    if images.ndim != 4:
        raise ValueError(f"images must be (B, C, H, W), got shape {tuple(images.shape)}")
    if labels.ndim != 2 or labels.shape != (len(images), len(num_classes)):
        raise ValueError(
            f"labels must be (B, A) = ({len(images)}, {len(num_classes)}), got {tuple(labels.shape)}"
        )
    for i, n in enumerate(num_classes):
        col = labels[:, i]
        if n < 2 or int(col.min()) < 0 or int(col.max()) >= n:
            raise ValueError(f"attribute {i}: labels must lie in [0, {n}) with num_classes >= 2")


def _random_shift(x: Tensor, max_shift: int, gen: torch.Generator) -> Tensor:
    """Translate each image by up to ``max_shift`` px in x and y (replicate padding)."""
    if max_shift < 1:
        return x
    h, w = x.shape[-2:]
    padded = F.pad(x, [max_shift] * 4, mode="replicate")
    offs = torch.randint(0, 2 * max_shift + 1, (len(x), 2), generator=gen).tolist()
    return torch.stack([padded[i, :, dy : dy + h, dx : dx + w] for i, (dy, dx) in enumerate(offs)])


def gaussian_blur(x: Tensor, sigma: Tensor) -> Tensor:
    """Blur each image of ``x`` (B, C, H, W) with a Gaussian of its own std ``sigma`` (B,) in px
    (separable, replicate padding, radius ceil(2 sigma) of the largest); sigma 0 leaves an image
    as it is."""
    radius = max(int(math.ceil(2 * float(sigma.max()))), 0) if len(sigma) else 0
    if radius == 0:
        return x
    b, c, h, w = x.shape
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    s = sigma.to(x).clamp_min(1e-6)[:, None]
    k = torch.exp(-(t[None] ** 2) / (2 * s**2))
    k = (k / k.sum(1, keepdim=True)).repeat_interleave(c, 0)  # (B*C, 2r+1)
    y = F.pad(x.reshape(1, b * c, h, w), [radius] * 4, mode="replicate")
    y = F.conv2d(y, k[:, None, None, :], groups=b * c)
    y = F.conv2d(y, k[:, None, :, None], groups=b * c)
    return y.reshape(b, c, h, w)


def _random_degrade(x: Tensor, max_sigma: float, max_noise: float, gen: torch.Generator) -> Tensor:
    """What a generator's output does to an image without changing what it shows: each image is
    blurred with a Gaussian of std ~ U(0, ``max_sigma``) px and gets pixel noise of std
    ~ U(0, ``max_noise``), clamped to [-1, 1]."""
    n = len(x)
    if max_sigma > 0:
        x = gaussian_blur(x, torch.rand(n, generator=gen) * max_sigma)
    if max_noise > 0:
        std = (torch.rand(n, generator=gen) * max_noise).to(x)[:, None, None, None]
        x = (x + std * torch.randn(x.shape, generator=gen).to(x)).clamp(-1, 1)
    return x


def train_attribute_classifier(
    images: Tensor,
    labels: Tensor,
    num_classes: Sequence[int],
    *,
    steps: int = 800,
    rounds: int = 1,
    target: float = 0.98,
    min_gain: float = 0.005,
    batch_size: int = 64,
    lr: float = 2e-3,
    seed: int = 0,
    device: str | torch.device | None = None,
    augment: bool = True,
    blur: float = 0.0,
    noise: float = 0.0,
    width: int = 32,
    depth: int = 4,
    progress: str | None = None,
) -> AttributeClassifier:
    """Train an `AttributeClassifier` on one domain's labelled images.

    A round is Adam with a cosine decay of ``lr`` to 0 over ``steps`` minibatches of
    ``batch_size`` images drawn with replacement; the loss is the mean over attributes of the
    cross-entropy. ``augment`` shifts images by up to side/16 px (no flips: they change digits and
    text, nor colour jitter: colour is an attribute). ``blur`` > 0 also blurs each training
    image with a Gaussian of std up to ``blur`` x side px, and ``noise`` > 0 adds pixel noise of
    std up to ``noise``: without them a classifier may read an attribute from edges so crisp that
    a slightly soft image of the same subject reads as chance (docs/EVAL.md, "Blur").

    ``rounds`` > 1 trains until the classifier stops learning: a tenth of the images (at most
    `_HOLDOUT_MAX`) is held out and never trained on, and after each round (a warm restart of the
    cosine from the weights so far) training stops once the *weakest* attribute's held-out
    accuracy reaches ``target``, or the mean held-out accuracy gained less than ``min_gain`` over
    the previous round, or after ``rounds`` rounds. An instrument that stops at a fixed step
    count reads a hard domain poorly (printed digits: 0.73-0.77 after 800 steps, 0.97 after
    2,000; benchmarks/classifier_ceiling.py).
    ``rounds`` = 1 is one round on all the images.

    ``device`` defaults to ``images.device``; images stay where they are and move per batch.
    ``progress``: a label for a progress bar over the steps (None: no bar).
    Returns the classifier in eval mode; its ``training_record`` holds the steps trained, the
    rounds, and the held-out accuracies after each round.
    """
    _check_labels(images, labels, num_classes)
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    dev = torch.device(device) if device is not None else images.device
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = AttributeClassifier(
            num_classes, image_size=tuple(images.shape[-2:]), width=width, depth=depth,
            in_channels=images.shape[1],
        )  # fmt: skip
    hold_idx, (x_train, y_train) = _holdout(images, labels, rounds, gen)
    side = min(images.shape[-2:])
    batches = _Batches(
        x_train, y_train, batch_size=batch_size, gen=gen,
        max_shift=side // _SHIFT_FRACTION if augment else 0, blur=blur * side, noise=noise,
    )  # fmt: skip
    bar = tqdm(total=0, desc=progress, unit="step", disable=progress is None)
    held = _train_rounds(
        model.to(dev), batches, (images, labels, hold_idx),
        rounds=rounds if len(hold_idx) else 1, steps=steps, lr=lr, target=target,
        min_gain=min_gain, device=dev, bar=bar, label=progress,
    )  # fmt: skip
    bar.close()
    done = steps * max(len(held), 1)
    model.training_record = {
        "steps": done,
        "rounds": done // steps,
        "holdout_images": len(hold_idx),
        "holdout_accuracy": [round(a, 4) for a in held],
    }
    return model.eval()


def _train_rounds(
    model: AttributeClassifier,
    batches: _Batches,
    held_out: tuple[Tensor, Tensor, Tensor],
    *,
    rounds: int,
    steps: int,
    lr: float,
    target: float,
    min_gain: float,
    device: torch.device,
    bar: tqdm,
    label: str | None,
) -> list[float]:
    """Up to ``rounds`` rounds of ``steps``; after each, the mean accuracy on the held-out
    images (``held_out``: all images, their labels, the indices held out) decides whether
    another pays (see `train_attribute_classifier`). Returns the held-out mean after each round
    (empty when nothing is held out: one round ran). ``label`` names the progress bar's rounds."""
    images, labels, hold_idx = held_out
    held: list[float] = []
    # The bar grows by a round's steps when a round begins: how many rounds run is not known
    # in advance.
    for r in range(rounds):
        bar.total += steps
        if r:
            bar.set_description(f"{label}, round {r + 1}")
        _train_round(model, batches, steps=steps, lr=lr, device=device, bar=bar)
        if not len(hold_idx):
            break
        per_attr = _accuracy(model.eval(), images, labels, hold_idx)
        mean = float(per_attr.mean())
        gained = mean - held[-1] if held else float("inf")
        held.append(mean)
        if float(per_attr.min()) >= target or gained < min_gain:
            break
    return held


def _holdout(
    images: Tensor, labels: Tensor, rounds: int, gen: torch.Generator
) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """The indices held out of training to judge its progress (a tenth of the images, at most
    `_HOLDOUT_MAX`; none for one round, or below `_HOLDOUT_MIN`), and the training images and
    labels left (all of them, not copied, when nothing is held out)."""
    n_hold = min(_HOLDOUT_MAX, len(images) // 10) if rounds > 1 else 0
    if n_hold < _HOLDOUT_MIN:  # too few images to judge progress: one round on all of them
        return torch.zeros(0, dtype=torch.long), (images, labels)
    order = torch.randperm(len(images), generator=gen)
    hold_idx, train_idx = order[:n_hold], order[n_hold:]
    return hold_idx, (images[train_idx.to(images.device)], labels[train_idx.to(labels.device)])


@dataclass
class _Batches:
    """Minibatches drawn with replacement, shifted by up to ``max_shift`` px, blurred by a
    Gaussian of std up to ``blur`` px and noised by up to ``noise``, all from ``gen``."""

    images: Tensor
    labels: Tensor
    batch_size: int
    gen: torch.Generator
    max_shift: int
    blur: float
    noise: float

    def draw(self) -> tuple[Tensor, Tensor]:
        idx = torch.randint(len(self.images), (self.batch_size,), generator=self.gen)
        x = _random_shift(self.images[idx.to(self.images.device)].float(), self.max_shift, self.gen)
        x = _random_degrade(x, self.blur, self.noise, self.gen)
        return x, self.labels[idx.to(self.labels.device)]


def _train_round(
    model: AttributeClassifier,
    batches: _Batches,
    *,
    steps: int,
    lr: float,
    device: torch.device,
    bar: tqdm,
) -> None:
    """One round: Adam at ``lr`` with a cosine decay to 0 over ``steps`` minibatches, the loss the
    mean over attributes of the cross-entropy. A warm restart from the weights so far."""
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    for _ in range(steps):
        x, y = batches.draw()
        x, y = x.to(device), y.to(device)
        logits = model(x)
        loss = torch.stack([F.cross_entropy(lg, y[:, i]) for i, lg in enumerate(logits)]).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        bar.update(1)
    if not torch.isfinite(loss):
        raise FloatingPointError(f"attribute classifier loss is {loss.item()}; lower lr={lr}")


def _accuracy(model: AttributeClassifier, images: Tensor, labels: Tensor, idx: Tensor) -> Tensor:
    """Per-attribute accuracy of ``model`` on the images at ``idx``."""
    pred = model.predict(images[idx.to(images.device)])
    return (pred == labels[idx.to(labels.device)].to(pred.device)).float().mean(0)
