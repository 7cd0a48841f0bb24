"""Checkpoints: written atomically (a kill at any moment leaves the previous file intact), holding
everything a resume needs: networks, optimizers, schedules, step, RNG states and the config.

Layout in a run folder: ``checkpoints/step_0000500.pt`` (periodic) and ``checkpoints/last.pt``.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from latentbridge.errors import UserError

FORMAT = 1  # bumped when the checkpoint layout changes


def rng_state() -> dict[str, Any]:
    """Python, NumPy and torch (CPU and CUDA) generator states."""
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_atomic(obj: dict[str, Any], path: Path) -> None:
    """``torch.save`` to a temporary file in the same folder, fsync, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint; a missing or broken file is a :class:`UserError`."""
    if not Path(path).is_file():
        raise UserError(f"checkpoint not found: {path}")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as exc:  # a torn or foreign file: say which, not a traceback
        raise UserError(f"cannot read checkpoint {path}: {exc}") from exc
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise UserError(f"{path} is not a latentbridge checkpoint")
    return ckpt


def last_checkpoint(run: Path) -> Path | None:
    """``RUN/checkpoints/last.pt`` if it exists."""
    path = Path(run) / "checkpoints" / "last.pt"
    return path if path.is_file() else None


def prune(folder: Path, keep: int) -> None:
    """Keep the ``keep`` newest periodic checkpoints (``keep = 0`` keeps all)."""
    if keep <= 0:
        return
    for old in sorted(folder.glob("step_*.pt"))[:-keep]:
        old.unlink(missing_ok=True)


# What training (and `eval`, `compare`) write into a run folder: what a restart removes.
RUN_OUTPUTS = ("checkpoints", "samples", "tb", "eval", "log.jsonl", "budget.json")


def start_fresh(run: Path, *, overwrite: bool, main: bool = True) -> None:
    """Make ``run`` ready for a new run. A folder that already holds one (checkpoints or a
    training log) is refused, since a second run there would append to the first one's log
    and leave its checkpoints and samples beside its own, unless ``overwrite``: then what a run
    wrote there (:data:`RUN_OUTPUTS`) is removed, and nothing else; only ``main`` (rank 0)
    removes."""
    run = Path(run)
    ckpts = sorted((run / "checkpoints").glob("*.pt"))
    log = run / "log.jsonl"
    found = ["checkpoints"] * bool(ckpts)
    found += ["a training log"] * (log.is_file() and log.stat().st_size > 0)
    if not found:
        return
    if not overwrite:
        raise UserError(
            f"{run} already holds a run ({' and '.join(found)}): --resume continues it, "
            "--overwrite starts again there (removing its checkpoints, samples and logs), "
            "or choose another --out"
        )
    if main:
        for name in RUN_OUTPUTS:
            path = run / name
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
