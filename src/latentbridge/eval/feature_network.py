"""A user's feature network for KID/FID (``eval --features``): a TorchScript file adapted to
latentbridge images, instead of the attribute classifier's features."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from latentbridge.errors import UserError
from latentbridge.eval.attribute_net import batched

InputRange = Literal["[-1,1]", "[0,1]"]


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
        return batched(self, images, device, batch_size)


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
