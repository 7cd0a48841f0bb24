"""The Python API: load a trained run (or one checkpoint) and translate in two lines::

    import latentbridge
    cartoons = latentbridge.load("runs/faces").translate(photos, "photo", "cartoon")

``photos`` may be one PIL image, a list of them, or a tensor (B, 3, H, W) in [-1, 1]; the result
has the same kind.
"""

from __future__ import annotations

from pathlib import Path
from typing import overload

import torch
from PIL import Image
from torch import Tensor

from latentbridge import config as C
from latentbridge.imaging import from_pil, to_pil
from latentbridge.model import Translator
from latentbridge.train import checkpoint as ckpt_io
from latentbridge.train.distributed import resolve_device


class Pipeline:
    """A trained translator, in evaluation mode, on one device."""

    def __init__(self, gen: Translator, cfg: C.Config, device: torch.device, step: int) -> None:
        self.gen, self.cfg, self.device, self.step = gen.eval(), cfg, device, step

    @property
    def domains(self) -> list[str]:
        return self.gen.domains

    @property
    def size(self) -> int:
        return self.cfg.data.size

    @overload
    def translate(self, images: Tensor, source: str, target: str) -> Tensor: ...
    @overload
    def translate(self, images: Image.Image, source: str, target: str) -> Image.Image: ...
    @overload
    def translate(
        self, images: list[Image.Image], source: str, target: str
    ) -> list[Image.Image]: ...

    def translate(
        self, images: Tensor | Image.Image | list[Image.Image], source: str, target: str
    ) -> Tensor | Image.Image | list[Image.Image]:
        """x_ab = DE_target(EN_source(x)). PIL inputs are resized/cropped to the model's size."""
        self.gen.index(source), self.gen.index(target)
        if isinstance(images, Tensor):
            return self.gen.translate(images.to(self.device), source, target)
        single = isinstance(images, Image.Image)
        batch = from_pil([images] if single else images, self.size).to(self.device)
        out = to_pil(self.gen.translate(batch, source, target))
        return out[0] if single else out

    @torch.no_grad()
    def encode(self, images: Tensor, domain: str) -> Tensor:
        """z = EN_domain(x) (the latent mean)."""
        return self.gen.encode(images.to(self.device), domain)


def load(
    path: str | Path, *, device: str = "auto", checkpoint: str | Path | None = None
) -> Pipeline:
    """Load a run folder (its ``checkpoints/last.pt``) or a checkpoint file."""
    path = Path(checkpoint) if checkpoint else Path(path)
    if path.is_dir():
        found = ckpt_io.last_checkpoint(path)
        if found is None:
            from latentbridge.errors import UserError

            raise UserError(f"no checkpoint in {path / 'checkpoints'}: train first")
        path = found
    ckpt = ckpt_io.load(path)
    cfg = C.from_dict(ckpt["config"])
    dev = resolve_device(device)
    gen = Translator(cfg, ckpt["domains"])
    gen.load_state_dict(ckpt["gen"])
    return Pipeline(gen.to(dev), cfg, dev, int(ckpt["step"]))
