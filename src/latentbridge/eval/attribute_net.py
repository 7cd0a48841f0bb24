"""The attribute classifier's network: a small CNN with one linear head per attribute.

Its penultimate layer (globally pooled features) is also the feature space of KID/FID. How it is
trained lives in `classifier_training`; the cache keyed by the data in `classifier`.

Contracts: images are float tensors (B, 3, H, W) in [-1, 1]; predictions are LongTensor (B, A) of
class ids.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

CACHE_FORMAT = 2  # bump when the saved layout, architecture or training changes
_MAX_CHANNEL_MULT = 4  # channels grow width, 2*width, 4*width, then stay: keeps the CNN small
# On a CPU the classifiers' convolutions read channels-last input: oneDNN trains them x1.14-1.25
# faster that way at 32 px, to the same test accuracy (docs/PERFORMANCE.md, section Z;
# ``benchmarks/perf_classifiers.py --layouts``). Other devices get the images as they come.
CHANNELS_LAST_ON_CPU = True


def batched(
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
        return batched(self.embed, images, self.device, batch_size)

    def predict(self, images: Tensor, batch_size: int = 256) -> Tensor:
        """Predicted class ids, LongTensor (B, A), on ``images.device`` (eval mode)."""
        self.eval()

        def _argmax(x: Tensor) -> Tensor:
            return torch.stack([logits.argmax(dim=1) for logits in self(x)], dim=1)

        return batched(_argmax, images, self.device, batch_size)

    def save(self, path: Path) -> None:
        """Write config + weights to ``path`` atomically (a temp file, then rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        state = {k: v.detach().cpu() for k, v in self.state_dict().items()}
        blob = {
            "format": CACHE_FORMAT,
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
        if blob.get("format") != CACHE_FORMAT:
            raise ValueError(f"{path}: classifier format {blob.get('format')} != {CACHE_FORMAT}")
        cfg = dict(blob["config"])
        model = cls(cfg.pop("num_classes"), image_size=tuple(cfg.pop("image_size")), **cfg)
        model.load_state_dict(blob["state_dict"])
        model.training_record = dict(blob.get("training") or {})
        return model.to(map_location).eval()
