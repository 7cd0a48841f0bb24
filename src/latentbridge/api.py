"""The Python API: load a trained run (or one checkpoint) and translate in two lines::

    import latentbridge
    cartoons = latentbridge.load("runs/faces").translate(photos, "photo", "cartoon")

``photos`` may be one PIL image, a list of them, or a tensor (B, 3, H, W) in [-1, 1]; the result
has the same kind.
"""

from __future__ import annotations

from pathlib import Path
from typing import get_args, overload

import torch
from PIL import Image
from torch import Tensor

from latentbridge import config as C
from latentbridge.errors import UserError
from latentbridge.imaging import from_pil, to_pil
from latentbridge.model import Translator, translation_chunk
from latentbridge.train import checkpoint as ckpt_io
from latentbridge.train.distributed import resolve_device


class Pipeline:
    """A trained translator, in evaluation mode, on one device.

    ``precision`` (``fp32`` | ``bf16`` | ``fp16`` | ``auto``: bf16 where the device computes it
    natively) is the autocast of every translation; ``compile`` (``off`` | ``default`` |
    ``max-autotune-no-cudagraphs``) compiles the encoders and decoders with ``torch.compile``
    (docs/PERFORMANCE.md, "Translation"): the first batch of each size pays the compile, and a
    smaller batch than one already compiled is padded to it rather than compiled again. On the
    CPU a large batch passes through the networks in chunks that fit a core's cache
    (:func:`latentbridge.model.translation_chunk`).
    """

    def __init__(
        self,
        gen: Translator,
        cfg: C.Config,
        device: torch.device,
        step: int,
        *,
        precision: str = "fp32",
        compile: str = "off",
    ) -> None:
        from latentbridge.compiling import compile_translator
        from latentbridge.precision import autocast_factory, check_native, resolve_precision

        self.gen, self.cfg, self.device, self.step = gen.eval(), cfg, device, step
        self.precision = resolve_precision(precision, device)
        if self.precision not in ("fp32", "bf16", "fp16"):
            raise UserError(f"precision must be auto, fp32, bf16 or fp16, got {precision!r}")
        check_native(self.precision, device)
        self.autocast = autocast_factory(self.precision, device)
        if compile not in get_args(C.CompileMode):
            raise UserError(
                f"compile must be one of {list(get_args(C.CompileMode))}, got {compile!r}"
            )
        self.compiled = bool(
            compile_translator(gen, compile, precision=self.precision, device=device.type)
        )
        self._sizes: set[int] = set()  # batch sizes the compiled networks have seen
        self.weights = "trained"  # or "ema": the weight average (set by :func:`load`)

    @property
    def domains(self) -> list[str]:
        return self.gen.domains

    @property
    def size(self) -> int:
        return self.cfg.data.size

    @overload
    def translate(
        self, images: Tensor, source: str, target: str, style: Tensor | None = None
    ) -> Tensor: ...
    @overload
    def translate(
        self, images: Image.Image, source: str, target: str, style: Tensor | None = None
    ) -> Image.Image: ...
    @overload
    def translate(
        self, images: list[Image.Image], source: str, target: str, style: Tensor | None = None
    ) -> list[Image.Image]: ...

    def translate(
        self,
        images: Tensor | Image.Image | list[Image.Image],
        source: str,
        target: str,
        style: Tensor | None = None,
    ) -> Tensor | Image.Image | list[Image.Image]:
        """x_ab = DE_target(EN_source(x)). PIL inputs are resized/cropped to the model's size.
        A model with a style code (``model.style_dim``, e.g. ``munit``) draws with ``style``,
        one row of ``style_dim`` values per image (e.g. ``torch.randn``: one of many possible
        translations), or with s = 0 if None."""
        self.gen.index(source), self.gen.index(target)
        style = None if style is None else style.to(self.device)
        if isinstance(images, Tensor):
            return self._translate(images.to(self.device), source, target, style)
        single = isinstance(images, Image.Image)
        batch = from_pil([images] if single else images, self.size).to(self.device)
        out = to_pil(self._translate(batch, source, target, style))
        return out[0] if single else out

    def _translate(self, x: Tensor, source: str, target: str, style: Tensor | None) -> Tensor:
        n, chunk = len(x), translation_chunk(x)
        if self.compiled:  # the networks see full chunks and one rest: pad the rest to the
            full, rest = divmod(n, chunk)  # smallest batch already compiled that holds it
            if full:
                self._sizes.add(chunk)
            fits = [b for b in self._sizes if rest <= b <= chunk]
            if rest and fits:
                pad = min(fits) - rest
                x = torch.cat([x, x.new_zeros(pad, *x.shape[1:])]) if pad else x
                if pad and style is not None:
                    style = torch.cat([style, style.new_zeros(pad, *style.shape[1:])])
            elif rest:
                self._sizes.add(rest)
        with self.autocast():
            y = self.gen.translate(x, source, target, chunk=chunk, style=style)
        return y[:n].float()

    @torch.no_grad()
    def encode(self, images: Tensor, domain: str) -> Tensor:
        """z = EN_domain(x) (the latent mean)."""
        return self.gen.encode(images.to(self.device), domain)


def load(
    path: str | Path,
    *,
    device: str = "auto",
    checkpoint: str | Path | None = None,
    precision: str = "fp32",
    compile: str = "off",
    ema: bool = True,
) -> Pipeline:
    """Load a run folder (its ``checkpoints/last.pt``) or a checkpoint file; ``precision`` and
    ``compile`` as in :class:`Pipeline`. A run trained with ``train.ema`` translates with its
    weight average unless ``ema=False`` (the trained weights themselves)."""
    path = Path(checkpoint) if checkpoint else Path(path)
    if path.is_dir():
        found = ckpt_io.last_checkpoint(path)
        if found is None:
            raise UserError(f"no checkpoint in {path / 'checkpoints'}: train first")
        path = found
    ckpt = ckpt_io.load(path)
    cfg = C.from_dict(ckpt["config"])
    dev = resolve_device(device)
    gen = Translator(cfg, ckpt["domains"])
    use_ema = ema and ckpt.get("gen_ema") is not None
    gen.load_state_dict(ckpt["gen_ema"] if use_ema else ckpt["gen"])
    pipe = Pipeline(gen.to(dev), cfg, dev, int(ckpt["step"]), precision=precision, compile=compile)
    pipe.weights = "ema" if use_ema else "trained"
    return pipe
