"""What a run writes besides checkpoints: ``log.jsonl`` (one line of scalars per logged step, read
by the report), TensorBoard scalars and image grids, and PNG sample grids on a fixed batch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from latentbridge.imaging import grid, save_png
from latentbridge.model import Translator


class RunLogger:
    """Scalars to ``RUN/log.jsonl`` and TensorBoard (``RUN/tb``); no-op on ranks other than 0."""

    def __init__(self, run: Path, *, enabled: bool = True) -> None:
        self.run, self.enabled = run, enabled
        self._tb: Any = None
        if enabled:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(str(run / "tb"))
            except ImportError:  # TensorBoard is optional at run time
                self._tb = None

    def scalars(self, step: int, values: dict[str, float]) -> None:
        if not self.enabled:
            return
        with (self.run / "log.jsonl").open("a") as f:
            f.write(json.dumps({"step": step, **values}) + "\n")
        if self._tb is not None:
            for k, v in values.items():
                self._tb.add_scalar(k, v, step)

    def image(self, tag: str, step: int, image: np.ndarray) -> None:
        if self.enabled and self._tb is not None:
            self._tb.add_image(tag, image, step, dataformats="HWC")

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()


def read_log(run: Path) -> list[dict[str, float]]:
    """The rows of ``RUN/log.jsonl`` (empty if the run logged nothing)."""
    path = Path(run) / "log.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@torch.no_grad()
def sample_rows(gen: Translator, fixed: dict[str, Tensor]) -> list[Tensor]:
    """Rows of the sample grid: for every domain a, its inputs x[a], reconstructions x_aa, then
    for every other domain b the translation x_ab, then the cycles x_aba."""
    was_training = gen.training
    gen.eval()
    rows: list[Tensor] = []
    for a, x in fixed.items():
        z = gen.encode(x, a)
        others = [b for b in fixed if b != a]
        x_ab = {b: gen.decode(z, b) for b in others}
        rows += [x, gen.decode(z, a, gen.style_of(x, a))]
        rows += [x_ab[b] for b in others]
        rows += [gen.cycle(x_ab[b], x, a, b) for b in others]
    gen.train(was_training)
    return rows


def write_samples(gen: Translator, fixed: dict[str, Tensor], path: Path) -> np.ndarray:
    """Save the sample grid as a PNG and return it (H, W, 3) uint8."""
    image = grid(sample_rows(gen, fixed))
    save_png(image, path)
    return image
