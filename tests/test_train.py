"""The training loop: every method trains, resume is exact, checkpoints survive kills, NaNs stop."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
import torch

from latentbridge import losses, methods
from latentbridge.errors import TrainingDiverged, UserError
from latentbridge.train import checkpoint as ckpt_io
from latentbridge.train.loop import train
from latentbridge.train.trainer import Trainer
from tests.conftest import tiny


def run(
    data: Path, out: Path, method: str, steps: int, *, resume: bool = False, **extra: object
) -> Trainer:
    cfg = methods.resolve(method, overrides=tiny(**extra))
    trainer = Trainer(cfg, data=data, run=out, device="cpu", resume=resume)
    train(trainer, steps=steps, progress=False)
    return trainer


@pytest.mark.parametrize("method", list(methods.REGISTRY))
def test_every_method_trains(method: str, two_domains: Path, tmp_path: Path) -> None:
    t = run(two_domains, tmp_path / method, method, 2, train__warmup=1)
    assert t.step == 2
    assert (tmp_path / method / "checkpoints" / "last.pt").is_file()
    assert (tmp_path / method / "config.yaml").is_file()
    assert (tmp_path / method / "samples" / "last.png").is_file()
    assert "gen/recon/A->A" in (tmp_path / method / "log.jsonl").read_text()


@pytest.mark.parametrize("kind", ["means", "prototypes"])
def test_class_alignment_trains_on_labelled_domains_and_says_what_it_lacks(
    kind: str, tmp_path: Path
) -> None:
    from tests.conftest import make_domains, make_labelled

    root = make_labelled(tmp_path / "d", {"A": 12, "B": 12})
    extra = {"loss__labels": 1.0, "loss__labels_type": kind}
    run(root, tmp_path / "run", "bridge", 3, train__warmup=1, **extra)
    logged = [
        json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()
    ]
    values = [r["gen/labels/A|B"] for r in logged if "gen/labels/A|B" in r]
    assert values and all(v == v for v in values)  # logged, finite (the warm-up step has none)
    # three domains, C unlabelled, one random pair a step: a step without two labelled
    # domains trains without the term
    three = make_labelled(tmp_path / "d3", {"A": 12, "B": 12, "C": -11})
    run(three, tmp_path / "run3", "combogan", 6, train__warmup=1, train__pairs="random", **extra)
    records = (tmp_path / "run3" / "log.jsonl").read_text().splitlines()
    keys = {k for line in records for k in json.loads(line) if k.startswith("gen/labels/")}
    assert keys == {"gen/labels/A|B"}
    unlabelled = make_domains(tmp_path / "u")
    with pytest.raises(UserError, match="labels in at least two domains.*found them for none"):
        run(unlabelled, tmp_path / "u_run", "bridge", 1, loss__labels=1.0)


def _state(t: Trainer) -> dict[str, torch.Tensor]:
    s = {f"gen.{k}": v for k, v in t.model.gen.state_dict().items()}
    s.update({f"dis.{k}": v for k, v in t.model.dis.state_dict().items()})
    if t.ema is not None:
        s.update({f"ema.{k}": v for k, v in t.ema.state_dict().items()})
    for name, phase in (("g", t.gen), ("d", t.dis)):
        for i, st in phase.optimizer.state_dict()["state"].items():
            s.update({f"opt{name}.{i}.{k}": v for k, v in st.items() if torch.is_tensor(v)})
    return s


@pytest.mark.parametrize(
    ("method", "data"),
    [
        ("unit", "two_domains"),
        ("combogan", "three_domains"),
        ("xgan", "two_domains"),
        ("munit", "two_domains"),  # the styles each step draws resume too
    ],
)
def test_resume_4_plus_2_equals_6_bit_for_bit(
    method: str, data: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    root = request.getfixturevalue(data)
    extra = {"train__save_every": 100, "data__flip": True, "train__lr_step": 3, "train__warmup": 1}
    extra["train__ema"] = 0.9  # the weight average resumes too
    six = run(root, tmp_path / "six", method, 6, **extra)
    run(root, tmp_path / "split", method, 4, **extra)
    resumed = run(root, tmp_path / "split", method, 6, resume=True, **extra)
    assert resumed.step == 6
    a, b = _state(six), _state(resumed)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert resumed.gen.optimizer.param_groups[0]["lr"] == six.gen.optimizer.param_groups[0]["lr"]


def test_weight_average_follows_its_ramp(two_domains: Path, tmp_path: Path) -> None:
    """``train.ema``: after each optimizer step s the average moves towards the new weights by
    1 - min(decay, (1 + s) / (10 + s)); the trained weights are untouched by it; samples and
    checkpoints carry it; ``load`` translates with it unless told ``ema=False``."""
    import latentbridge
    from latentbridge.train.ema import decay_at

    cfg = methods.resolve("cogan", overrides=tiny(train__ema=0.5))
    t = Trainer(cfg, data=two_domains, run=tmp_path / "ema", device="cpu")
    expected = [p.detach().clone() for p in t.model.gen.parameters()]
    for step in range(4):
        t.step = step
        t.one_step(t.micro_batches(step))
        d = decay_at(0.5, step)
        expected = [
            d * e + (1 - d) * p.detach() for e, p in zip(expected, t.model.gen.parameters())
        ]
    assert [decay_at(0.5, s) for s in (0, 1)] == [0.1, 2 / 11] and decay_at(0.5, 50) == 0.5
    avg, trained = list(t.ema.avg.parameters()), list(t.model.gen.parameters())
    assert len(avg) == len(trained) == len(expected)
    for a, e in zip(avg, expected):
        assert torch.allclose(a, e, atol=1e-6)
    assert max(float((a - w.detach()).abs().max()) for a, w in zip(avg, trained)) > 1e-5
    assert t.translator is t.ema.avg and not any(p.requires_grad for p in avg)
    t.step = 4
    t.save()
    ckpt = ckpt_io.load(tmp_path / "ema" / "checkpoints" / "last.pt")
    assert ckpt["gen_ema"].keys() == ckpt["gen"].keys()
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    with_ema = latentbridge.load(tmp_path / "ema", device="cpu")
    without = latentbridge.load(tmp_path / "ema", device="cpu", ema=False)
    assert (with_ema.weights, without.weights) == ("ema", "trained")
    assert torch.allclose(with_ema.translate(x, "A", "B"), t.ema.avg.translate(x, "A", "B"))
    assert torch.allclose(without.translate(x, "A", "B"), t.model.gen.eval().translate(x, "A", "B"))


def test_linear_decay_follows_the_budget(
    two_domains: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``train.lr_decay=0.5``: constant over the first half of the budget, then linearly to 0 —
    of the steps with ``--steps``, of the wall time with ``--minutes``; checked on bad values."""
    from latentbridge.errors import UserError
    from latentbridge.train.step import Phase

    seen: list[tuple[str, float]] = []
    set_lr = Phase.set_lr

    def spy(self: Phase, step: int, progress: float = 0.0) -> None:
        set_lr(self, step, progress)
        seen.append((self.name, self.optimizer.param_groups[0]["lr"]))

    monkeypatch.setattr(Phase, "set_lr", spy)
    t = run(two_domains, tmp_path / "steps", "cogan", 8, train__lr_decay=0.5)
    base = t.cfg.train.lr
    gen = [lr / base for name, lr in seen if name == "gen"]
    assert gen == pytest.approx([1, 1, 1, 1, 1, 0.75, 0.5, 0.25])  # progress 0, 1/8, ..., 7/8
    assert [lr for name, lr in seen if name == "dis"] == [lr for name, lr in seen if name == "gen"]
    seen.clear()
    cfg = methods.resolve("cogan", overrides=tiny(train__lr_decay=1.0))
    timed = Trainer(cfg, data=two_domains, run=tmp_path / "minutes", device="cpu")
    train(timed, minutes=0.05, progress=False)
    gen = [lr / base for name, lr in seen if name == "gen"]
    assert len(gen) >= 2 and gen[0] > 0.9 and 0 < gen[-1] < gen[0]
    assert all(a >= b for a, b in zip(gen, gen[1:]))  # falls with the clock, never rises
    with pytest.raises(UserError, match="train.lr_decay"):
        run(two_domains, tmp_path / "bad", "baseline", 1, train__lr_decay=1.5)


def test_a_run_ended_by_the_clock_logs_its_last_steps(two_domains: Path, tmp_path: Path) -> None:
    """``--minutes`` ends between two multiples of ``train.log_every``: the steps since the last
    row still get a row, at the step the run ended on."""
    cfg = methods.resolve("baseline", overrides=tiny(train__log_every=10_000))
    t = Trainer(cfg, data=two_domains, run=tmp_path / "timed", device="cpu")
    result = train(t, minutes=0.02, progress=False)
    rows = [json.loads(line) for line in (tmp_path / "timed" / "log.jsonl").open()]
    assert 0 < result.step < 10_000
    assert [r["step"] for r in rows] == [result.step]
    assert rows[0]["img_per_s"] > 0 and "gen/recon/A->A" in rows[0]


def test_a_run_started_small_resumes_at_a_larger_size(two_domains: Path, tmp_path: Path) -> None:
    """Progressive training without a switch: the networks are fully convolutional, so a run
    trained at 16 px continues at 32 px with ``--resume --set data.size=32``, weights and
    optimizer state carried over (docs/RESULTS.md, "Training at 16 px first"); a ``--set``
    that reshapes the networks is refused in one line."""
    out = tmp_path / "prog"
    small = run(two_domains, out, "bridge", 2)
    assert small.cfg.data.size == 16
    saved = {k: v.clone() for k, v in small.model.gen.state_dict().items()}
    moments = [s["exp_avg"].clone() for s in small.gen.optimizer.state_dict()["state"].values()]
    cfg = methods.resolve("bridge", overrides=tiny())
    big = Trainer(
        cfg, data=two_domains, run=out, device="cpu", resume=True, overrides={"data.size": 32}
    )
    assert big.cfg.data.size == 32 and big.step == 2
    assert all(torch.equal(v, saved[k]) for k, v in big.model.gen.state_dict().items())
    resumed = [s["exp_avg"] for s in big.gen.optimizer.state_dict()["state"].values()]
    assert moments and all(torch.equal(a, b) for a, b in zip(moments, resumed, strict=True))
    assert {tuple(x.shape[-2:]) for x in big.fixed.values()} == {(32, 32)}
    train(big, steps=4, progress=False)
    with torch.no_grad():
        y = big.translator.translate(big.fixed["A"], "A", "B")
    assert big.step == 4 and y.shape[-2:] == (32, 32) and torch.isfinite(y).all()
    assert ckpt_io.load(out / "checkpoints" / "last.pt")["config"]["data"]["size"] == 32
    with pytest.raises(UserError, match="do not fit the config.*not the networks' shapes"):
        Trainer(cfg, data=two_domains, run=out, resume=True, overrides={"model.res_blocks": 2})


def test_weight_average_is_checked(two_domains: Path, tmp_path: Path) -> None:
    from latentbridge.errors import UserError

    with pytest.raises(UserError, match="train.ema"):
        run(two_domains, tmp_path / "bad", "baseline", 1, train__ema=1.0)
    t = run(two_domains, tmp_path / "off", "baseline", 1)
    assert (
        t.ema is None
        and ckpt_io.load(tmp_path / "off" / "checkpoints" / "last.pt")["gen_ema"] is None
    )


def test_resume_without_checkpoint_is_an_error(two_domains: Path, tmp_path: Path) -> None:
    from latentbridge.errors import UserError

    with pytest.raises(UserError, match="no checkpoint"):
        run(two_domains, tmp_path / "none", "baseline", 2, resume=True)


def test_checkpoint_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "last.pt"
    ckpt_io.save_atomic({"format": ckpt_io.FORMAT, "step": 1}, path)

    def torn_save(obj: object, f: object) -> None:
        f.write(b"partial")  # type: ignore[attr-defined]
        raise KeyboardInterrupt  # killed mid-write

    monkeypatch.setattr(torch, "save", torn_save)
    with pytest.raises(KeyboardInterrupt):
        ckpt_io.save_atomic({"format": ckpt_io.FORMAT, "step": 2}, path)
    monkeypatch.undo()
    assert ckpt_io.load(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]  # no temporary left behind


def test_non_finite_loss_names_step_term_and_checkpoint(
    two_domains: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    real = losses.kl_unit_gaussian

    def poisoned(mu: torch.Tensor) -> torch.Tensor:
        calls["n"] += 1
        return real(mu) * (float("nan") if calls["n"] > 6 else 1.0)

    monkeypatch.setattr(losses, "kl_unit_gaussian", poisoned)
    with pytest.raises(TrainingDiverged) as e:
        run(two_domains, tmp_path / "nan", "unit", 10, train__save_every=2)
    msg = str(e.value)
    assert (
        "step 3" in msg and "gen/kl/" in msg and "step_0000002.pt" not in msg and "last.pt" in msg
    )


def test_sigterm_saves_and_stops(
    two_domains: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = Trainer.one_step

    def one_step(self: Trainer, micro: list, progress: float = 0.0) -> dict:
        if self.step == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return original(self, micro, progress)

    monkeypatch.setattr(Trainer, "one_step", one_step)
    cfg = methods.resolve("baseline", overrides=tiny())
    trainer = Trainer(cfg, data=two_domains, run=tmp_path / "sig", device="cpu")
    result = train(trainer, steps=50, progress=False)
    assert result.interrupted and result.step == 3
    assert ckpt_io.load(tmp_path / "sig" / "checkpoints" / "last.pt")["step"] == 3


def test_gradient_accumulation_matches_one_big_batch(two_domains: Path, tmp_path: Path) -> None:
    a = run(two_domains, tmp_path / "a", "xgan", 3, train__accumulate=1)
    b = run(two_domains, tmp_path / "b", "xgan", 3, train__accumulate=2)
    sa, sb = _state(a), _state(b)
    assert max(float((sa[k] - sb[k]).abs().max()) for k in sa) < 1e-4


def test_bf16_autocast_trains_on_cpu(
    two_domains: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """bf16 autocast trains (emulated where the CPU has no bf16: the check is patched so the
    path runs on every machine, with a note that it is slow there), and is refused where the
    device has no bf16 kernels."""
    from latentbridge import precision
    from latentbridge.errors import UserError

    monkeypatch.setattr(precision, "bf16_supported", lambda device: False)
    with pytest.raises(UserError, match="no bf16 kernels"):
        run(two_domains, tmp_path / "refused", "unit", 1, train__precision="bf16")
    monkeypatch.setattr(precision, "bf16_supported", lambda device: True)
    monkeypatch.setattr(precision, "bf16_native", lambda device: False)
    t = run(two_domains, tmp_path / "bf16", "unit", 2, train__precision="bf16")
    assert all(torch.isfinite(p).all() for p in t.model.parameters())
    assert "bf16 is emulated" in capsys.readouterr().err  # runs, and says it is slow here
    monkeypatch.setattr(precision, "bf16_native", lambda device: True)
    run(two_domains, tmp_path / "native", "unit", 1, train__precision="bf16")
    assert "emulated" not in capsys.readouterr().err


def test_auto_precision_is_bf16_only_where_native(
    two_domains: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``auto`` is bf16 only where the device computes it in hardware: a CPU whose oneDNN runs
    bf16 emulated (AVX-512 without BF16 or AMX, about half as fast as fp32) gets fp32."""
    from latentbridge import precision
    from latentbridge.precision import bf16_native, resolve_precision

    cpu = torch.device("cpu")
    assert resolve_precision("auto", cpu) == ("bf16" if bf16_native(cpu) else "fp32")
    monkeypatch.setattr(precision, "bf16_supported", lambda device: True)
    for extension, amx, expected in [
        (False, False, "fp32"),
        (True, False, "bf16"),
        (False, True, "bf16"),
    ]:
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda e=extension: e)
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda a=amx: a)
        assert resolve_precision("auto", cpu) == expected
        assert precision.bf16_kind(cpu) == ("native" if expected == "bf16" else "emulated")
    monkeypatch.setattr(precision, "bf16_supported", lambda device: False)
    assert resolve_precision("auto", cpu) == "fp32"  # no bf16 kernels: AMX or not
    assert precision.bf16_kind(cpu) == "none"
    monkeypatch.undo()
    assert resolve_precision("fp32", cpu) == "fp32" and resolve_precision("bf16", cpu) == "bf16"
    t = run(two_domains, tmp_path / "auto", "baseline", 1, train__precision="auto")
    assert t.precision == resolve_precision("auto", cpu) and t.cfg.train.precision == "auto"


def test_fp16_needs_cuda(two_domains: Path, tmp_path: Path) -> None:
    from latentbridge.errors import UserError

    if torch.cuda.is_available():
        pytest.skip("fp16 is allowed where CUDA is")
    with pytest.raises(UserError, match="fp16"):
        run(two_domains, tmp_path / "fp16", "unit", 1, train__precision="fp16")


class _Teacher(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.adaptive_avg_pool2d(x, 2).flatten(1)


def test_teacher_network_from_torchscript_and_import_path(
    two_domains: Path, tmp_path: Path
) -> None:
    path = tmp_path / "teacher.pt"
    torch.jit.script(_Teacher()).save(str(path))
    t = run(two_domains, tmp_path / "ts", "xgan", 2, loss__teacher=1.0, loss__teacher_net=str(path))
    logged = (tmp_path / "ts" / "log.jsonl").read_text()
    assert "gen/teacher/A" in logged and t.step == 2
    run(
        two_domains,
        tmp_path / "imp",
        "xgan",
        1,
        loss__teacher=1.0,
        loss__teacher_net="tests.test_train:_Teacher",
    )


def test_translations_keep_the_teachers_features(two_domains: Path, tmp_path: Path) -> None:
    """``loss.teacher_keep`` trains with a teacher network, one term per direction, and without
    ``loss.teacher_net`` it says what it lacks before training."""
    from latentbridge.errors import UserError

    keep = {"loss__teacher_keep": 1.0, "loss__teacher_net": "tests.test_train:_Teacher"}
    t = run(two_domains, tmp_path / "keep", "bridge", 2, train__warmup=0, **keep)
    logged = (tmp_path / "keep" / "log.jsonl").read_text()
    assert "gen/teacher_keep/A->B" in logged and "gen/teacher_keep/B->A" in logged
    assert t.step == 2
    with pytest.raises(UserError, match="set loss.teacher_net"):
        run(two_domains, tmp_path / "none", "bridge", 1, loss__teacher_keep=1.0)


def test_bad_teacher_is_a_user_error(two_domains: Path, tmp_path: Path) -> None:
    from latentbridge.errors import UserError

    with pytest.raises(UserError, match="teacher_net"):
        run(
            two_domains,
            tmp_path / "bad",
            "xgan",
            1,
            loss__teacher=1.0,
            loss__teacher_net="no.such.module:x",
        )


def test_compiled_networks_train_like_eager_ones(two_domains: Path, tmp_path: Path) -> None:
    """``train.compile``: every network is compiled, two steps give the eager losses and
    weights, the checkpoint holds the eager keys, and the bench's FLOP count sees the same work.
    (Steps only, no sample grids: each new shape or grad mode would compile once more.)"""
    from latentbridge.bench import count_flops
    from latentbridge.model import networks

    def trainer(name: str, **extra: object) -> Trainer:
        cfg = methods.resolve("baseline", overrides=tiny(**extra))
        return Trainer(cfg, data=two_domains, run=tmp_path / name, device="cpu")

    eager, comp = trainer("eager"), trainer("comp", train__compile="default")
    nets = networks(comp.model)
    assert len(nets) == 6 and all(n._compiled_call_impl is not None for n in nets)
    import torch._dynamo.config as dynamo_config

    limit = getattr(dynamo_config, "recompile_limit", None) or dynamo_config.cache_size_limit
    assert limit >= 8 * len(nets)  # every chain's variants fit under the one shared forward
    assert all(n._compiled_call_impl is None for n in networks(eager.model))
    for step in range(2):
        batch = eager.micro_batches(step)
        eager.step = comp.step = step
        e, c = eager.one_step(batch), comp.one_step(batch)
        for k in e:
            assert float(c[k]) == pytest.approx(float(e[k]), rel=1e-5), (step, k)
    a, b = _state(eager), _state(comp)
    assert a.keys() == b.keys()
    assert comp.state()["gen"].keys() == eager.state()["gen"].keys()
    # Adam's first steps move each weight by about lr whatever the gradient's size, so a tiny
    # difference in a near-zero gradient can move a weight differently, but by less than lr.
    params = [k for k in a if not k.startswith("opt")]
    assert max(float((a[k] - b[k]).abs().max()) for k in params) < eager.cfg.train.lr
    batch = eager.micro_batches(2)
    assert count_flops(lambda: comp.one_step(batch)) == count_flops(lambda: eager.one_step(batch))


def test_compile_needs_a_recent_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    from latentbridge.compiling import compile_networks
    from latentbridge.config import Config
    from latentbridge.errors import UserError
    from latentbridge.model import Model

    monkeypatch.delattr(torch.compiler, "set_stance")
    with pytest.raises(UserError, match="torch >= 2.6"):
        compile_networks(Model(Config(), ["A", "B"]), "default")


def test_compile_under_cpu_autocast_is_refused(
    two_domains: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from latentbridge import precision
    from latentbridge.errors import UserError

    monkeypatch.setattr(precision, "bf16_supported", lambda device: True)  # else refused earlier
    with pytest.raises(UserError, match="--precision fp32 with --compile"):
        run(
            two_domains,
            tmp_path / "c",
            "baseline",
            1,
            train__compile="default",
            train__precision="bf16",
        )


def test_prefetch_worker_is_joined_on_close() -> None:
    """Closing the batch generator stops and joins its worker thread: a thread still making a
    batch inside torch while the interpreter exits aborts the process after training."""
    import threading
    import time

    from latentbridge.train.loop import _prefetch

    before = threading.active_count()

    def make(step: int) -> int:
        time.sleep(0.05)  # the worker is busy making the next batch when close() comes
        return step

    batches = _prefetch(make, 3, depth=2)
    assert [next(batches), next(batches)] == [3, 4]
    batches.close()
    assert threading.active_count() == before


def test_a_new_run_refuses_a_folder_that_holds_one_unless_told_to_overwrite(
    two_domains: Path, tmp_path: Path
) -> None:
    """Two runs in one folder would append to one log and leave the first run's checkpoints
    (which pruning, by name, would keep over the second's) and samples beside the second's."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.yaml").write_text("method: baseline\n")  # not a run yet: accepted
    run(two_domains, out, "baseline", 4, train__save_every=2, train__sample_every=2)
    (out / "mine.txt").write_text("the user's own file")
    with pytest.raises(UserError, match="already holds a run.*--resume.*--overwrite"):
        run(two_domains, out, "baseline", 2)
    cfg = methods.resolve("baseline", overrides=tiny(train__save_every=2, train__sample_every=2))
    t = Trainer(cfg, data=two_domains, run=out, device="cpu", overwrite=True)
    train(t, steps=2, progress=False)
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["last.pt", "step_0000002.pt"]
    assert not (out / "samples" / "step_0000004.png").exists()
    steps = [json.loads(line)["step"] for line in (out / "log.jsonl").open()]
    assert steps and max(steps) == 2 and (out / "mine.txt").is_file()
