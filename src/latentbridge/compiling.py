"""``torch.compile`` for the model's networks, each chain on its own so that parameters,
``state_dict`` keys and checkpoints stay those of the eager model (``train.compile``,
``translate --compile``), and where it is refused."""

from __future__ import annotations

import torch
from torch import nn

from latentbridge.errors import UserError
from latentbridge.model import Model, Translator, networks


def check_compile(mode: str, precision: str, device: str) -> None:
    """Raise :class:`UserError` where ``train.compile=mode`` cannot run (see
    :func:`compile_networks`); ``device`` is a device type (``cpu``, ``cuda``, ...)."""
    if mode == "off":
        return
    if device == "cpu" and precision != "fp32":
        raise UserError(
            f"compile {mode} with {precision} autocast on the CPU is refused: the compiler's "
            "bf16 CPU kernels gave non-finite gradients (docs/PERFORMANCE.md section C); use "
            "--precision fp32 with --compile, or leave compile off"
        )
    if not hasattr(torch.compiler, "set_stance"):
        raise UserError(f"train.compile={mode} needs torch >= 2.6 (this is {torch.__version__})")


def compile_networks(
    model: Model, mode: str, *, precision: str = "fp32", device: str = "cpu"
) -> list[nn.Module]:
    """``torch.compile`` every network of ``model`` in place (``train.compile``); returns them.

    Each encoder, decoder and discriminator chain is compiled on its own, with static shapes
    (a new batch size compiles once more), so parameters, ``state_dict`` keys and checkpoints
    stay exactly those of the eager model. The chains share one ``forward`` code object, so the
    number of cached graphs allowed per code object is raised to hold every chain's variants
    (training, sampling, evaluation) rather than silently falling back to eager code.

    Refused on the CPU under bf16 / fp16 autocast: there the compiler's vectorised bf16 kernels
    gave non-finite gradients for these encoders (torch 2.13, every run; eager code and the
    compiler without vectorisation were finite; docs/PERFORMANCE.md, section C).
    """
    if mode == "off":
        return []
    check_compile(mode, precision, device)
    return _compile(networks(model), mode)


def compile_translator(
    gen: Translator, mode: str, *, precision: str = "fp32", device: str = "cpu"
) -> list[nn.Module]:
    """``torch.compile`` each encoder and decoder of ``gen`` in place, for translation
    (``latentbridge.load(..., compile=)``, ``translate --compile``); returns them. Static
    shapes: each new batch size compiles once more. Refused where :func:`check_compile` refuses
    (bf16 / fp16 autocast on the CPU)."""
    if mode == "off":
        return []
    check_compile(mode, precision, device)
    return _compile([*gen.encoders.values(), *gen.decoders.values()], mode)


def _compile(nets: list[nn.Module], mode: str) -> list[nn.Module]:
    import torch._dynamo.config as dynamo_config

    key = "recompile_limit" if hasattr(dynamo_config, "recompile_limit") else "cache_size_limit"
    setattr(dynamo_config, key, max(getattr(dynamo_config, key), 8 * len(nets)))
    for net in nets:
        net.compile(mode=None if mode == "default" else mode, dynamic=False)
    return nets
