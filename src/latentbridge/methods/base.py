"""What a method is: a named composition of sharing, weighted loss terms and training phases,
expressed as config overrides. A method holds no loop, no optimizer and no ``backward()``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Method:
    """A preset: ``overrides`` are dotted config keys applied on top of the defaults."""

    name: str
    summary: str  # one line for ``latentbridge methods``
    overrides: dict[str, Any] = field(default_factory=dict)
    paper: str = ""
