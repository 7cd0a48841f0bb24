"""The training loop: the step schedule, its budget (steps or minutes), logging, samples,
checkpoints and a clean stop on Ctrl-C / SIGTERM. The run's set-up, resume and one step are the
:class:`~latentbridge.train.trainer.Trainer`'s.

``train()`` is what ``latentbridge train`` runs. ``--steps N`` trains until step N (so a run of
4 steps resumed with ``--steps 6`` ends where a 6-step run ends, bit for bit on the CPU).
"""

from __future__ import annotations

import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import Tensor

from latentbridge import config as C
from latentbridge.train import distributed
from latentbridge.train.log import write_samples
from latentbridge.train.trainer import Trainer


@dataclass
class TrainResult:
    run: Path
    step: int
    checkpoint: Path | None
    interrupted: bool
    seconds: float


class _StopFlag:
    """Ctrl-C / SIGTERM set a flag; the loop saves a checkpoint and returns at the step's end."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self) -> _StopFlag:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: object) -> None:
        self.signal = signum

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


def _prefetch(make: Callable[[int], Any], start: int, depth: int) -> Iterator[Any]:
    """``make(start), make(start + 1), ...``, computed ``depth`` steps ahead in a thread."""
    if depth <= 0:
        step = start
        while True:
            yield make(step)
            step += 1
    q: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        step = start
        while not stop.is_set():
            item = make(step)
            while not stop.is_set():
                try:
                    q.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            step += 1

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        while True:
            yield q.get()
    finally:  # on close(): stop the worker and wait for the batch it is making, so that no
        stop.set()  # thread is still inside torch when the interpreter exits (it aborts)
        thread.join(timeout=60)


def _postfix(logs: dict[str, float]) -> str:
    short = {k.split("/")[1]: 0.0 for k in logs if k.startswith("gen/")}
    for k, v in logs.items():
        if k.startswith("gen/"):
            short[k.split("/")[1]] += v
    return " ".join(f"{k}={v:.3f}" for k, v in short.items())


class _Budget:
    """When training stops: at step ``target``, after ``minutes`` of wall time, or at whichever
    comes first when both are given."""

    def __init__(self, target: int | None, minutes: float | None) -> None:
        self.target, self.minutes, self.start = target, minutes, time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def out_of_time(self) -> bool:
        return self.minutes is not None and self.elapsed() >= self.minutes * 60

    def spent(self, step: int) -> float:
        """The fraction of the budget spent: of the steps, of the minutes, the larger of both."""
        by_steps = step / self.target if self.target else 0.0
        by_time = self.elapsed() / (self.minutes * 60) if self.minutes else 0.0
        return max(by_steps, by_time)


class _LossLog:
    """The step losses summed since the last row of ``log.jsonl``; :meth:`write` averages them
    into one row (with the images per second since the last row) and shows them on the bar."""

    def __init__(self, trainer: Trainer, bar: Any) -> None:
        self.trainer, self.bar = trainer, bar
        self.per_step = trainer.cfg.train.batch_size * len(trainer.data.domains)
        self.sums: dict[str, Tensor] = {}
        self.n, self.since = 0, time.monotonic()

    def add(self, logs: dict[str, Tensor]) -> None:
        for k, v in logs.items():
            self.sums[k] = self.sums[k] + v if k in self.sums else v
        self.n += 1

    def write(self) -> None:
        if not self.n:
            return
        now = time.monotonic()
        values = {k: float(v) / self.n for k, v in self.sums.items()}
        values["img_per_s"] = self.per_step * self.n / max(now - self.since, 1e-9)
        self.trainer.logger.scalars(self.trainer.step, values)
        self.bar.set_postfix_str(f"{_postfix(values)} img/s={values['img_per_s']:.0f}")
        self.sums, self.n, self.since = {}, 0, now


def _stop_reason(trainer: Trainer, budget: _Budget, stop: _StopFlag) -> tuple[int, float]:
    """(0 go on, 1 time is up, 2 a signal on any rank; the budget spent), the same on every
    rank, so that every rank stops at the same step."""
    why = 2 if stop.signal is not None else (1 if budget.out_of_time() else 0)
    why, spent = distributed.agree_max(trainer.dist, why, budget.spent(trainer.step))
    return int(why), spent


def _after_step(trainer: Trainer, log: _LossLog, target: int | None) -> None:
    """What falls due after a step: a row of the log, a sample grid, a checkpoint."""
    t, step = trainer.cfg.train, trainer.step
    if step % t.log_every == 0 or step == target:
        log.write()
    if step % t.sample_every == 0 and trainer.dist.main:
        path = trainer.run_dir / "samples" / f"step_{step:07d}.png"
        trainer.logger.image(
            "samples", step, write_samples(trainer.translator, trainer.fixed, path)
        )
    if step % t.save_every == 0:
        trainer.save()


def train(
    trainer: Trainer,
    *,
    steps: int | None = None,
    minutes: float | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train until step ``steps`` (default ``train.steps``) or for ``minutes`` of wall time,
    whichever is given; save samples, logs and checkpoints on the way and at the end."""
    from tqdm import tqdm

    target = (
        steps if steps is not None else (None if minutes is not None else trainer.cfg.train.steps)
    )
    budget = _Budget(target, minutes)
    run = trainer.run_dir
    if trainer.dist.main:
        run.mkdir(parents=True, exist_ok=True)
        C.dump_yaml(trainer.cfg, run / "config.yaml")
    show = progress and trainer.dist.main
    bar = tqdm(
        total=target, initial=trainer.step, disable=not show, unit="step", dynamic_ncols=True
    )
    log, interrupted = _LossLog(trainer, bar), False
    batches = _prefetch(trainer.micro_batches, trainer.step, trainer.cfg.data.workers)
    with _StopFlag() as stop:
        while target is None or trainer.step < target:
            why, spent = _stop_reason(trainer, budget, stop)
            if why:
                interrupted = why == 2
                break
            log.add(trainer.one_step(next(batches), spent))
            trainer.step += 1
            bar.update(1)
            _after_step(trainer, log, target)
    log.write()  # the steps since the last row, when time or a signal ended the run
    batches.close()
    bar.close()
    path = trainer.save()
    if trainer.dist.main:
        write_samples(trainer.translator, trainer.fixed, run / "samples" / "last.png")
    trainer.logger.close()
    return TrainResult(run, trainer.step, path, interrupted, budget.elapsed())
