"""Data-parallel training with torchrun (2 CPU processes, gloo) against one process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import torch

from latentbridge.train import checkpoint as ckpt_io
from tests.conftest import TINY

# xgan uses every kind of term that is deterministic per sample: sharing, GAN, latent adversary
# (a second optimizer and discriminator), semantic consistency; gan_recon and color add the rest.
SETS = {
    **TINY,
    "train.batch_size": 4,
    "loss.gan_recon": 1.0,
    "loss.color": 1.0,
    "loss.r1": 1.0,  # a double backward inside the DDP-wrapped discriminator phase
    "train.save_every": 100,
}


def launch(
    data: Path,
    run: Path,
    steps: int,
    *,
    ranks: int,
    resume: bool = False,
    minutes: float | None = None,
    timeout: int = 240,
) -> None:
    budget = ["--steps", str(steps)] if minutes is None else ["--minutes", str(minutes)]
    args = ["train", "--data", str(data), "--out", str(run), "--method", "xgan", *budget]
    args += ["--device", "cpu", "--no-progress"] + [
        a for k, v in SETS.items() for a in ("--set", f"{k}={v}")
    ]
    if resume:
        args.append("--resume")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if ranks == 1:
        cmd = [sys.executable, "-m", "latentbridge", *args]
    else:
        launcher = ["-m", "torch.distributed.run", "--standalone", "--nnodes", "1"]
        cmd = [
            sys.executable,
            *launcher,
            "--nproc_per_node",
            str(ranks),
            "-m",
            "latentbridge",
            *args,
        ]
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the launcher and every rank it started
        proc.communicate()
        raise
    assert proc.returncode == 0, err[-3000:]


def params(run: Path) -> dict[str, torch.Tensor]:
    ckpt = ckpt_io.load(run / "checkpoints" / "last.pt")
    return {
        **{f"gen.{k}": v for k, v in ckpt["gen"].items()},
        **{f"dis.{k}": v for k, v in ckpt["dis"].items()},
    }


def assert_close(a: Path, b: Path) -> None:
    pa, pb = params(a), params(b)
    assert pa.keys() == pb.keys()
    worst = max(float((pa[k] - pb[k]).abs().max()) for k in pa)
    assert worst < 1e-4, worst


def test_two_ranks_equal_one_process_and_resume_across_world_sizes(
    two_domains: Path, tmp_path: Path
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    launch(two_domains, one, 3, ranks=1)
    launch(two_domains, two, 3, ranks=2)
    assert_close(one, two)  # 2 ranks x batch 2 == 1 process x batch 4
    assert ckpt_io.load(two / "checkpoints" / "last.pt")["step"] == 3
    assert (two / "log.jsonl").read_text().count('"step": 1,') == 1  # only rank 0 logs

    launch(two_domains, one, 5, ranks=2, resume=True)  # 1-rank checkpoint, resumed by 2 ranks
    launch(two_domains, two, 5, ranks=1, resume=True)  # and the reverse
    assert_close(one, two)
    ref = tmp_path / "ref"
    launch(two_domains, ref, 5, ranks=1)
    assert_close(one, ref)


def test_ranks_stop_together_on_a_time_budget(two_domains: Path, tmp_path: Path) -> None:
    """Each rank's clock says when the minutes are up; the ranks agree on the step to stop at
    (before, the first rank to stop left the other waiting in an all-reduce for ever)."""
    run = tmp_path / "timed"
    launch(two_domains, run, 0, ranks=2, minutes=0.1, timeout=120)
    ckpt = ckpt_io.load(run / "checkpoints" / "last.pt")
    assert ckpt["step"] > 3  # trained for the time given, then saved once, on rank 0


def test_only_the_1x1_grad_stride_warning_is_silenced() -> None:
    """DDP's stride warning, as torch words it, is dropped for a 1x1 kernel (same memory layout)
    and still shown for any other kernel."""
    import warnings

    from latentbridge.train.distributed import quiet_1x1_grad_strides

    def message(k: int) -> str:
        return (
            "Grad strides do not match bucket view strides. This may indicate grad was not "
            "created according to the gradient layout contract, or that the param's strides "
            "changed since DDP was constructed.  This is not an error, but may impair performance.\n"
            f"grad.sizes() = [128, 130, {k}, {k}], strides() = [130, 1, 130, 130]\n"
            f"bucket_view.sizes() = [128, 130, {k}, {k}], strides() = [130, 1, 1, 1]"
        )

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        quiet_1x1_grad_strides()
        warnings.warn(message(1), UserWarning, stacklevel=1)
        warnings.warn(message(3), UserWarning, stacklevel=1)
    assert [str(w.message) for w in seen] == [message(3)]
