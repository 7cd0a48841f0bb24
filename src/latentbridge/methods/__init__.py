"""The registry of methods: a plain dict, name -> :class:`Method`. One small file per method.

To add a method, write ``methods/<name>.py`` with a ``METHOD`` and list it here; the training loop
never changes.
"""

from __future__ import annotations

from typing import Any

from latentbridge import config as C
from latentbridge.errors import UserError
from latentbridge.methods import (
    baseline,
    bridge,
    cogan,
    cogan_full,
    combogan,
    latent_adversarial,
    munit,
    unit,
    xgan,
)
from latentbridge.methods.base import Method

REGISTRY: dict[str, Method] = {
    m.METHOD.name: m.METHOD
    for m in (
        baseline,
        cogan,
        cogan_full,
        latent_adversarial,
        combogan,
        xgan,
        unit,
        munit,
        bridge,
    )
}


def get(name: str) -> Method:
    """The method called ``name``; an unknown name is a :class:`UserError` listing the valid ones."""
    if name not in REGISTRY:
        hint = C.did_you_mean(name, list(REGISTRY))
        raise UserError(f"unknown method {name!r}{hint}; choose one of: {', '.join(REGISTRY)}")
    return REGISTRY[name]


def resolve(
    method: str | None = None,
    *,
    file: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
) -> C.Config:
    """Defaults -> method preset -> YAML file -> ``--set`` overrides, each key type-checked.

    The method comes from ``method`` or the file's ``method:`` key (``baseline`` if neither).
    """
    flat_file = C.flatten(file or {})
    overrides = dict(overrides or {})
    name = overrides.pop("method", None) or method or flat_file.get("method") or "baseline"
    flat_file.pop("method", None)
    cfg = C.replace(C.Config(), {"method": name, **get(str(name)).overrides})
    cfg = C.replace(cfg, flat_file)
    return C.replace(cfg, overrides)
