"""Per-domain attribute classifiers and feature networks for evaluation.

A translation a->b *kept the subject* when domain b's attribute classifier, applied to the
translation, reads back the attributes of the source image. That classifier is a small CNN trained
here on domain b's labelled training images; its penultimate layer (globally pooled features) is
also the feature space of KID/FID -- "a network trained on the data", since no Inception weights
can be downloaded. A user may instead bring a TorchScript feature network (`load_feature_network`).

Contracts: images are float tensors (B, 3, H, W) in [-1, 1]; labels are LongTensor (B, A) of class
ids, column i in ``[0, num_classes[i])``. Training is deterministic on CPU given ``seed`` (on GPU up
to cuDNN's nondeterministic kernels) and leaves the global RNG untouched.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm import tqdm

from latentbridge.errors import UserError

_CACHE_FORMAT = 2  # bump when the saved layout, architecture or training changes
_MAX_CHANNEL_MULT = 4  # channels grow width, 2*width, 4*width, then stay: keeps the CNN small
_SHIFT_FRACTION = 16  # augmentation shifts by up to side/16 px (2 px at 32 px)
_HOLDOUT_MAX = 500  # images held out to decide whether another training round pays
_HOLDOUT_MIN = 20  # fewer than this: no hold-out, one round
# On a CPU the classifiers' convolutions read channels-last input: oneDNN trains them x1.14-1.25
# faster that way at 32 px, to the same test accuracy (docs/PERFORMANCE.md, section Z;
# ``benchmarks/perf_classifiers.py --layouts``). Other devices get the images as they come.
CHANNELS_LAST_ON_CPU = True

InputRange = Literal["[-1,1]", "[0,1]"]


def _batched(
    fn: Callable[[Tensor], Tensor], images: Tensor, device: torch.device, bs: int
) -> Tensor:
    """Apply ``fn`` to ``images`` in chunks of ``bs`` on ``device`` without gradients; the result
    is concatenated on ``images.device``."""
    if bs < 1:
        raise ValueError(f"batch_size must be >= 1, got {bs}")
    with torch.no_grad():
        outs = [fn(images[i : i + bs].to(device).float()) for i in range(0, len(images), bs)]
    return torch.cat(outs).to(images.device)


class AttributeClassifier(nn.Module):
    """Small CNN with one linear head per attribute.

    ``depth`` blocks of conv3x3-BatchNorm-ReLU (the first at stride 1, the others at stride 2;
    channels ``width * 2**k`` capped at ``4 * width``), global average pooling to the features
    (B, F), then one linear head per attribute. Inputs (B, 3, H, W) in [-1, 1]; images whose size
    differs from ``image_size`` are resized (bilinear) first, so translations of another size can
    be judged.
    """

    def __init__(
        self,
        num_classes: Sequence[int],
        *,
        image_size: tuple[int, int],
        width: int = 32,
        depth: int = 4,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        self.config: dict[str, Any] = {
            "num_classes": [int(n) for n in num_classes],
            "image_size": [int(s) for s in image_size],
            "width": width,
            "depth": depth,
            "in_channels": in_channels,
        }
        layers: list[nn.Module] = []
        ch_in = in_channels
        for k in range(depth):
            ch_out = width * min(2**k, _MAX_CHANNEL_MULT)
            layers += [
                nn.Conv2d(ch_in, ch_out, 3, stride=1 if k == 0 else 2, padding=1, bias=False),
                nn.BatchNorm2d(ch_out),
                nn.ReLU(inplace=True),
            ]
            ch_in = ch_out
        self.backbone = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.heads = nn.ModuleList(nn.Linear(ch_in, int(n)) for n in num_classes)
        self.num_features = ch_in
        # how it was trained (`train_attribute_classifier` fills it; saved and loaded with it)
        self.training_record: dict[str, Any] = {}

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def embed(self, x: Tensor) -> Tensor:
        """Features (B, F) of images (B, 3, H, W) in [-1, 1], with gradients."""
        size = tuple(self.config["image_size"])
        if tuple(x.shape[-2:]) != size:
            x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
        if CHANNELS_LAST_ON_CPU and x.device.type == "cpu":
            x = x.contiguous(memory_format=torch.channels_last)
        return self.backbone(x)

    def forward(self, x: Tensor) -> list[Tensor]:
        """Logits per attribute: a list of A tensors (B, num_classes[i])."""
        f = self.embed(x)
        return [head(f) for head in self.heads]

    def features(self, images: Tensor, batch_size: int = 256) -> Tensor:
        """Penultimate-layer features (B, F), float, on ``images.device`` (eval mode)."""
        self.eval()
        return _batched(self.embed, images, self.device, batch_size)

    def predict(self, images: Tensor, batch_size: int = 256) -> Tensor:
        """Predicted class ids, LongTensor (B, A), on ``images.device`` (eval mode)."""
        self.eval()

        def _argmax(x: Tensor) -> Tensor:
            return torch.stack([logits.argmax(dim=1) for logits in self(x)], dim=1)

        return _batched(_argmax, images, self.device, batch_size)

    def save(self, path: Path) -> None:
        """Write config + weights to ``path`` atomically (a temp file, then rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        state = {k: v.detach().cpu() for k, v in self.state_dict().items()}
        blob = {
            "format": _CACHE_FORMAT,
            "config": self.config,
            "training": self.training_record,
            "state_dict": state,
        }
        torch.save(blob, tmp)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path, map_location: str | torch.device = "cpu") -> AttributeClassifier:
        """Inverse of `save`; the classifier comes back in eval mode on ``map_location``."""
        blob = torch.load(Path(path), map_location=map_location, weights_only=True)
        if blob.get("format") != _CACHE_FORMAT:
            raise ValueError(f"{path}: classifier format {blob.get('format')} != {_CACHE_FORMAT}")
        cfg = dict(blob["config"])
        model = cls(cfg.pop("num_classes"), image_size=tuple(cfg.pop("image_size")), **cfg)
        model.load_state_dict(blob["state_dict"])
        model.training_record = dict(blob.get("training") or {})
        return model.to(map_location).eval()


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
    held: list[float] = []
    done = 0
    # The bar grows by a round's steps when a round begins: how many rounds run is not known
    # in advance.
    bar = tqdm(total=0, desc=progress, unit="step", disable=progress is None)
    for r in range(rounds if len(hold_idx) else 1):
        bar.total += steps
        if r:
            bar.set_description(f"{progress}, round {r + 1}")
        _train_round(model.to(dev), batches, steps=steps, lr=lr, device=dev, bar=bar)
        done += steps
        if not len(hold_idx):
            break
        per_attr = _accuracy(model.eval(), images, labels, hold_idx)
        mean = float(per_attr.mean())
        gained = mean - held[-1] if held else float("inf")
        held.append(mean)
        if float(per_attr.min()) >= target or gained < min_gain:
            break
    bar.close()
    model.training_record = {
        "steps": done,
        "rounds": done // steps,
        "holdout_images": len(hold_idx),
        "holdout_accuracy": [round(a, 4) for a in held],
    }
    return model.eval()


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


def data_key(paths: Sequence[str | os.PathLike[str]], size: int, extra: str = "") -> str:
    """sha256 hex digest over the sorted absolute file paths, their byte sizes and mtimes,
    ``size`` (the image side the data is loaded at) and ``extra`` (e.g. the label schema). Any
    file added, removed, renamed or rewritten changes the key; the same files named from another
    working directory do not."""
    h = hashlib.sha256()
    for p in sorted(os.path.abspath(os.fspath(p)) for p in paths):
        st = os.stat(p)
        h.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    h.update(f"size={size}\0extra={extra}".encode())
    return h.hexdigest()


def load_or_train_classifier(
    cache_dir: Path,
    key: str,
    images: Tensor,
    labels: Tensor,
    num_classes: Sequence[int],
    **kw: Any,
) -> AttributeClassifier:
    """Load the classifier cached under ``cache_dir`` for (``key``, ``num_classes``, training
    keyword arguments ``kw``), or train it with `train_attribute_classifier` and cache it.

    ``key`` identifies the data (see `data_key`); the file name also hashes the training
    arguments except ``device`` and ``progress``, so changing ``steps`` or ``seed`` never reuses a stale model.
    """
    hparams = {k: v for k, v in kw.items() if k not in ("device", "progress")}
    spec = {"key": key, "num_classes": list(num_classes), "kw": hparams, "format": _CACHE_FORMAT}
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()
    path = Path(cache_dir) / f"classifier-{digest[:20]}.pt"
    if path.exists():
        return AttributeClassifier.load(path, map_location=kw.get("device") or images.device)
    model = train_attribute_classifier(images, labels, num_classes, **kw)
    model.save(path)
    return model


class FeatureExtractor(nn.Module):
    """Adapts a user's feature network to latentbridge images.

    Input contract of this module: float (B, 3, H, W) in [-1, 1]. Contract of the wrapped
    ``network``: takes float (B, 3, S, S) images in ``input_range`` ("[-1,1]" or "[0,1]"), at
    ``input_size`` S if given (images are resized bilinearly to it; None = as they come), with any
    further normalisation (e.g. ImageNet mean/std) done inside the network; returns (B, F) or
    (B, F, 1, 1) features. Output of this module: (B, F) float.
    """

    def __init__(
        self,
        network: nn.Module,
        *,
        input_range: InputRange = "[-1,1]",
        input_size: int | None = None,
    ) -> None:
        super().__init__()
        if input_range not in ("[-1,1]", "[0,1]"):
            raise UserError(
                f"feature network input_range must be '[-1,1]' or '[0,1]', got {input_range!r}"
            )
        self.network = network.eval()
        self.input_range = input_range
        self.input_size = input_size

    def forward(self, x: Tensor) -> Tensor:
        if self.input_range == "[0,1]":
            x = (x + 1) / 2
        if self.input_size is not None and tuple(x.shape[-2:]) != (self.input_size,) * 2:
            x = F.interpolate(x, size=(self.input_size,) * 2, mode="bilinear", align_corners=False)
        f = self.network(x)
        if f.ndim != 2 and not (f.ndim == 4 and f.shape[-2:] == (1, 1)):
            raise UserError(f"feature network must return (B, F) features, got {tuple(f.shape)}")
        return f.flatten(1).float()

    def features(self, images: Tensor, batch_size: int = 256) -> Tensor:
        """Features (B, F) on ``images.device``, without gradients."""
        device = next(iter(self.network.parameters()), images).device
        return _batched(self, images, device, batch_size)


def load_feature_network(
    path: Path,
    *,
    input_range: InputRange = "[-1,1]",
    input_size: int | None = None,
    map_location: str | torch.device = "cpu",
) -> FeatureExtractor:
    """Load a TorchScript file (``torch.jit.save``) as a `FeatureExtractor`; see its docstring
    for the input/output contract the scripted network must meet."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"feature network file not found: {path}")
    try:
        net = torch.jit.load(str(path), map_location=map_location)
    except RuntimeError as e:
        raise UserError(
            f"{path} is not a TorchScript file (save it with torch.jit.save): {e}"
        ) from e
    return FeatureExtractor(net, input_range=input_range, input_size=input_size)
