"""The trainer: a run's set-up (networks, data, optimisers, compile), its resume from a
checkpoint and the state a checkpoint holds, and one training step over both phases.

:func:`latentbridge.train.loop.train` drives it step by step.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from latentbridge import config as C
from latentbridge import terms
from latentbridge.compiling import compile_networks
from latentbridge.data.stream import TrainData
from latentbridge.errors import UserError
from latentbridge.model import Model, Translator
from latentbridge.precision import autocast_factory, check_native, resolve_precision
from latentbridge.train import checkpoint as ckpt_io
from latentbridge.train import distributed
from latentbridge.train.ema import WeightAverage
from latentbridge.train.log import RunLogger
from latentbridge.train.objectives import DisObjective, GenObjective
from latentbridge.train.step import Phase, step_pairs, train_step


def seed_everything(seed: int) -> None:
    """The one place that seeds Python, NumPy and torch."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _phase(
    name: str, objective: torch.nn.Module, params: list, cfg: C.Config, lr: float, scale: bool
) -> Phase:
    t = cfg.train
    # The fused kernel (one pass over all parameters) is ~4x faster than the per-tensor loop on
    # the CPU and exists on CUDA too; other devices keep the default implementation.
    fused = all(p.device.type in ("cpu", "cuda") for p in params) or None
    opt = torch.optim.Adam(
        params, lr=lr, betas=(t.beta1, t.beta2), weight_decay=t.weight_decay, fused=fused
    )
    scaler = torch.amp.GradScaler("cuda") if scale else None
    return Phase(name, objective, opt, lr, t.lr_step, t.lr_gamma, scaler, t.lr_decay)


def _training_data(data: Path, cfg: C.Config, domains: list[str] | None) -> TrainData:
    """The run's training images (``domains``: a resumed run's, in its order); with
    ``loss.labels``, refused unless at least two domains come with their labels."""
    out = TrainData(
        data,
        size=cfg.data.size,
        seed=cfg.train.seed,
        flip=cfg.data.flip,
        domains=domains,
        labels=cfg.loss.labels > 0,
    )
    if cfg.loss.labels > 0 and len(out.labels) < 2:
        raise UserError(
            f"loss.labels needs the training images' labels in at least two domains: "
            f"{data}/attributes.json and a labels.csv naming every training image of a "
            f"domain; found them for {sorted(out.labels) or 'none'}"
        )
    return out


class Trainer:
    """Everything one run holds; :meth:`run` trains, :meth:`save` checkpoints."""

    def __init__(
        self,
        cfg: C.Config,
        *,
        data: Path,
        run: Path,
        device: str = "auto",
        resume: bool = False,
        overwrite: bool = False,
        overrides: dict[str, Any] | None = None,
    ) -> None:
        """``cfg`` is used for a new run; a resumed run takes the checkpoint's config, with
        ``overrides`` (the command line's ``--set``) applied on top. A new run in a folder that
        holds one already is refused unless ``overwrite`` (:func:`checkpoint.start_fresh`)."""
        self.dist = distributed.setup(device)
        self.run_dir = Path(run)
        if not resume:
            ckpt_io.start_fresh(self.run_dir, overwrite=overwrite, main=self.dist.main)
        ckpt = self._resume_checkpoint() if resume else None
        if ckpt is not None:
            cfg = C.replace(C.from_dict(ckpt["config"]), overrides or {})
        self.cfg = cfg
        self.precision = resolve_precision(cfg.train.precision, self.dist.device)
        check_native(self.precision, self.dist.device)  # before any image is read
        self.data = _training_data(data, cfg, ckpt["domains"] if ckpt else None)
        seed_everything(cfg.train.seed)
        self.autocast = autocast_factory(self.precision, self.dist.device)
        self.model = Model(cfg, self.data.domains).to(self.dist.device)
        compile_networks(
            self.model, cfg.train.compile, precision=self.precision, device=self.dist.device.type
        )
        self._build_phases()
        self._start(ckpt)
        self.logger = RunLogger(self.run_dir, enabled=self.dist.main)
        self.fixed = {d: x.to(self.dist.device) for d, x in self.data.fixed(8).items()}

    def _start(self, ckpt: dict[str, Any] | None) -> None:
        """The step, weights, optimisers and weight average a run starts from: the checkpoint's
        when resuming, else step 0 (with each rank's own noise stream under data parallelism)."""
        cfg = self.cfg
        self.step = 0
        self.last_ckpt = ""
        if ckpt is not None:
            self._load(ckpt)
        elif self.dist.world > 1:  # per-rank noise streams; parameters are broadcast by DDP
            torch.manual_seed(cfg.train.seed + 7919 * self.dist.rank)
        self.ema = WeightAverage(self.model.gen, cfg, cfg.train.ema) if cfg.train.ema else None
        if self.ema is not None and ckpt is not None and ckpt.get("gen_ema") is not None:
            self.ema.load_state_dict(ckpt["gen_ema"])  # (else it starts from the loaded weights)

    def _resume_checkpoint(self) -> dict[str, Any] | None:
        path = ckpt_io.last_checkpoint(self.run_dir)
        if path is None:
            raise UserError(f"--resume: no checkpoint in {self.run_dir / 'checkpoints'}")
        return ckpt_io.load(path)

    def _build_phases(self) -> None:
        cfg, m, d = self.cfg, self.model, self.dist
        scale = self.precision == "fp16"
        self.gen_objective = GenObjective(cfg, m.gen, m.dis)
        gen_params = list(m.gen.parameters())  # unique: a shared block is counted once
        self.gen = _phase(
            "gen", distributed.wrap(self.gen_objective, d), gen_params, cfg, cfg.train.lr, scale
        )
        dis_params = list(m.dis.parameters())
        self.dis: Phase | None = None
        if dis_params:
            lr_d = cfg.train.lr_d or cfg.train.lr
            dis_obj = distributed.wrap(DisObjective(self.gen_objective, m.dis), d)
            self.dis = _phase("dis", dis_obj, dis_params, cfg, lr_d, scale)

    def state(self) -> dict[str, Any]:
        return {
            "format": ckpt_io.FORMAT,
            "config": C.to_dict(self.cfg),
            "domains": self.data.domains,
            "step": self.step,
            "gen": self.model.gen.state_dict(),
            "gen_ema": self.ema.state_dict() if self.ema is not None else None,
            "dis": self.model.dis.state_dict(),
            "opt": {
                "gen": self.gen.optimizer.state_dict(),
                "dis": self.dis.optimizer.state_dict() if self.dis else None,
            },
            "rng": ckpt_io.rng_state(),
        }

    def _load(self, ckpt: dict[str, Any]) -> None:
        try:
            self.model.gen.load_state_dict(ckpt["gen"])
            self.model.dis.load_state_dict(ckpt["dis"])
        except RuntimeError as e:  # a --set on --resume that reshapes the networks
            # torch's message: a header line, then one line per kind of mismatch; name the first
            lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
            first = lines[1] if len(lines) > 1 else lines[0]
            detail = first if len(first) <= 160 else first[:159] + "…"
            raise UserError(
                f"--resume: the checkpoint's networks do not fit the config with --set applied: "
                f"{detail}. A resumed run may change how it trains, not the networks' shapes "
                "(model.*, sharing.*, or data.size with a vector code)"
            ) from None
        self.gen.optimizer.load_state_dict(ckpt["opt"]["gen"])
        if self.dis is not None:
            self.dis.optimizer.load_state_dict(ckpt["opt"]["dis"])
        self.step = int(ckpt["step"])
        ckpt_io.set_rng_state(ckpt["rng"])
        if self.dist.world > 1:
            torch.manual_seed(self.cfg.train.seed + 7919 * self.dist.rank + self.step)
        self.last_ckpt = str(ckpt_io.last_checkpoint(self.run_dir))

    def save(self) -> Path | None:
        """Write ``step_XXXXXXX.pt`` and ``last.pt`` (rank 0 only)."""
        folder = self.run_dir / "checkpoints"
        path = None
        if self.dist.main:
            state = self.state()
            ckpt_io.save_atomic(state, folder / f"step_{self.step:07d}.pt")
            ckpt_io.save_atomic(state, folder / "last.pt")
            ckpt_io.prune(folder, self.cfg.train.keep)
            path = folder / "last.pt"
            self.last_ckpt = str(path)
        distributed.barrier(self.dist)
        return path

    @property
    def translator(self) -> Translator:
        """The generator that samples show and checkpoints' users translate with: the weight
        average where ``train.ema`` is on, else the trained weights."""
        return self.ema.avg if self.ema is not None else self.model.gen

    def micro_batches(self, step: int) -> list[dict[str, Tensor]]:
        t, d = self.cfg.train, self.dist
        chunks = t.accumulate * d.world
        return [
            self.data.batch(
                step, batch_size=t.batch_size, chunk=m * d.world + d.rank, chunks=chunks
            )
            for m in range(t.accumulate)
        ]

    def one_step(self, micro: list[dict[str, Tensor]], progress: float = 0.0) -> dict[str, Tensor]:
        """One optimizer step of every phase; ``progress`` (the fraction of the run's budget
        spent, equal on every rank) drives ``train.lr_decay``."""
        t = self.cfg.train
        micro = [
            {k: v.to(self.dist.device, non_blocking=True) for k, v in x.items()} for x in micro
        ]
        weights = terms.weights(self.cfg.loss, step=self.step, warmup=t.warmup)
        logs = train_step(
            gen=self.gen,
            dis=self.dis,
            micro_batches=micro,
            pairs=step_pairs(self.data.domains, t.pairs, seed=t.seed, step=self.step),
            weights=weights,
            d_weights=terms.discriminator_weights(self.cfg.loss, weights),
            step=self.step,
            autocast=self.autocast,
            last_ckpt=self.last_ckpt,
            progress=progress,
        )
        if self.ema is not None:
            self.ema.update(self.step)
        return logs
