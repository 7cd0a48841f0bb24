"""The command line end to end on a tiny folder, and its one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from latentbridge.cli import main
from tests.conftest import TINY

SETS = [a for k, v in TINY.items() for a in ("--set", f"{k}={v}")]


def train_args(data: Path, out: Path, *extra: str) -> list[str]:
    return [
        "train",
        "--data",
        str(data),
        "--out",
        str(out),
        "--no-progress",
        "--device",
        "cpu",
        *SETS,
        *extra,
    ]


def test_train_resume_translate(
    two_domains: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    assert main(train_args(two_domains, run, "--method", "cogan", "--steps", "2")) == 0
    assert (run / "config.yaml").read_text().count("cogan") == 1
    assert main(train_args(two_domains, run, "--steps", "3", "--resume")) == 0
    assert "step 3" in capsys.readouterr().out
    nested = tmp_path / "inputs" / "sub"
    nested.mkdir(parents=True)
    Image.new("RGB", (30, 30), (200, 30, 30)).save(nested / "face.jpg")
    Image.new("L", (30, 30), 90).save(tmp_path / "inputs" / "top.png")
    out = tmp_path / "out"
    code = main(
        [
            "translate",
            "--run",
            str(run),
            "--from",
            "A",
            "--to",
            "B",
            str(tmp_path / "inputs"),
            "--out",
            str(out),
            "--device",
            "cpu",
        ]
    )
    assert code == 0
    assert (out / "sub" / "face.png").is_file() and (out / "top.png").is_file()
    assert Image.open(out / "sub" / "face.png").size == (16, 16)
    glob_out = tmp_path / "glob_out"
    assert (
        main(
            [
                "translate",
                "--run",
                str(run),
                "--from",
                "B",
                "--to",
                "A",
                str(tmp_path / "inputs" / "**" / "*.jpg"),
                "--out",
                str(glob_out),
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    assert (glob_out / "sub" / "face.png").is_file()


def test_translate_names_bad_inputs_and_fails(
    two_domains: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    assert main(train_args(two_domains, run, "--steps", "1")) == 0
    (tmp_path / "in").mkdir()
    Image.new("RGB", (20, 20)).save(tmp_path / "in" / "good.png")
    (tmp_path / "in" / "bad.png").write_bytes(b"garbage")
    code = main(
        [
            "translate",
            "--run",
            str(run),
            "--from",
            "A",
            "--to",
            "B",
            str(tmp_path / "in"),
            str(tmp_path / "missing.png"),
            "--out",
            str(tmp_path / "o"),
            "--device",
            "cpu",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and "bad.png" in err and "missing.png" in err
    assert (tmp_path / "o" / "good.png").is_file()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--method", "pix2pix"], "unknown method"),
        (["--set", "train.lrr=1"], "valid keys"),
        (["--set", "data.size=abc"], "data.size"),
        (["--set", "data.size=18"], "cannot be halved"),
        (["--resume"], "no checkpoint"),
    ],
)
def test_train_errors_are_one_line(
    argv: list[str],
    message: str,
    two_domains: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(train_args(two_domains, tmp_path / "r", "--steps", "1", *argv)) == 2
    err = capsys.readouterr().err.strip()
    assert (
        err.startswith("error:") and message in err and "\n" not in err and "Traceback" not in err
    )


def test_missing_data_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(train_args(tmp_path / "nope", tmp_path / "r", "--steps", "1")) == 2
    assert "dataset folder not found" in capsys.readouterr().err


def test_unknown_domain_in_translate(
    two_domains: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    main(train_args(two_domains, run, "--steps", "1"))
    capsys.readouterr()
    code = main(
        [
            "translate",
            "--run",
            str(run),
            "--from",
            "A",
            "--to",
            "Z",
            str(two_domains / "A"),
            "--out",
            str(tmp_path / "o"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "unknown domain 'Z'" in err and err.count("\n") == 1


def test_translate_without_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tmp_path.joinpath("empty_run").mkdir()
    code = main(
        [
            "translate",
            "--run",
            str(tmp_path / "empty_run"),
            "--from",
            "A",
            "--to",
            "B",
            "x.png",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 2 and "no checkpoint" in capsys.readouterr().err


def test_help_has_examples_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    for cmd in ("train", "translate", "methods", "demo"):
        with pytest.raises(SystemExit) as e:
            main([cmd, "--help"])
        assert e.value.code == 0
        assert "example:" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--version"])
    assert "latentbridge 0.1.0" in capsys.readouterr().out


def test_methods_lists_every_preset(capsys: pytest.CaptureFixture[str]) -> None:
    from latentbridge.methods import REGISTRY

    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    assert len(out.strip().splitlines()) == len(REGISTRY)
    for name in REGISTRY:
        assert name in out


@pytest.mark.parametrize("full", [False, True])
def test_methods_prints_a_preset_as_a_config_that_trains_the_same(
    full: bool, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import yaml

    from latentbridge import config as C
    from latentbridge import methods

    sets = ["--set", "loss.cycle=7", "--set", "train.lr=0.0005"]
    assert main(["methods", "bridge", *sets] + (["--full"] if full else [])) == 0
    text = capsys.readouterr().out
    printed = yaml.safe_load(text)
    want = methods.resolve("bridge", overrides={"loss.cycle": 7.0, "train.lr": 5e-4})
    # read back as --config reads a file, it resolves to the very config --method and --set give
    (tmp_path / "mine.yaml").write_text(text)
    assert methods.resolve(file=C.load_yaml(tmp_path / "mine.yaml")) == want
    keys = set(C.flatten(printed))
    if full:
        assert keys == set(C.valid_keys())
    else:  # only what differs from the defaults: the preset's own keys and the two --set
        assert printed["loss"]["cycle"] == 7.0 and printed["train"]["lr"] == 5e-4
        assert printed["model"]["disc_scales"] == 3 and printed["sharing"]["full"] is True
        assert "data" not in printed and "recon_type" not in printed["loss"]
        assert keys == {"method"} | {
            k
            for k, v in C.flatten(C.to_dict(want)).items()
            if v != C.flatten(C.to_dict(C.Config()))[k]
        }
    assert main(["methods", "baseline"]) == 0  # the defaults themselves: nothing but the name
    assert yaml.safe_load(capsys.readouterr().out) == {"method": "baseline"}


def test_methods_refuses_an_unknown_preset_or_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["methods", "brige"]) == 2
    assert "did you mean 'bridge'" in capsys.readouterr().err
    assert main(["methods", "unit", "--set", "loss.cycl=3"]) == 2
    assert "did you mean 'loss.cycle'" in capsys.readouterr().err
    assert main(["methods", "--full"]) == 2
    assert "need a preset's name" in capsys.readouterr().err


def test_python_api_two_lines(two_domains: Path, tmp_path: Path) -> None:
    import torch

    import latentbridge

    main(train_args(two_domains, tmp_path / "run", "--steps", "1"))
    out = latentbridge.load(tmp_path / "run", device="cpu").translate(
        Image.new("RGB", (40, 30)), "A", "B"
    )
    assert isinstance(out, Image.Image) and out.size == (16, 16)
    pipe = latentbridge.load(tmp_path / "run" / "checkpoints" / "last.pt", device="cpu")
    y = pipe.translate(torch.zeros(2, 3, 16, 16), "B", "A")
    assert y.shape == (2, 3, 16, 16)


def test_commands_start_without_the_face_renderer() -> None:
    """Only ``data faces`` renders cartoons: training, evaluation and the bench must start on a
    machine without DiceBear and resvg (e.g. a GPU image with its own Python packages)."""
    import subprocess
    import sys

    code = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name.split('.')[0] in ('dicebear', 'resvg_py'):\n"
        "            raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from latentbridge.cli import build_parser\n"
        "args = build_parser().parse_args(['bench', '--size', '16'])\n"
        "print(args.func.__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "cmd_bench"


@pytest.mark.parametrize("cmd", ["eval", "compare", "demo"])
@pytest.mark.parametrize("option", ["--classifier-rounds", "--two-sample-steps"])
@pytest.mark.parametrize("value", ["0", "-2", "x"])
def test_classifier_options_reject_bad_values(
    cmd: str, option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as e:
        main([cmd, option, value])
    assert e.value.code == 2
    assert f"{option}: must be" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["eval", "--limit", "1"], "--limit: must be >= 2, got 1"),
        (["compare", "--limit", "1"], "--limit: must be >= 2, got 1"),
        (["compare", "--seeds", "0"], "--seeds: must be >= 1, got 0"),
        (["compare", "--seeds", "two"], "--seeds: must be a whole number >= 1, got 'two'"),
    ],
)
def test_evaluation_sizes_are_checked_before_anything_runs(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A comparison with too few test images or no seed is refused before it trains a thing."""
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2 and message in capsys.readouterr().err


def test_train_compile_option_reaches_the_config(
    two_domains: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`train --compile default` on the CPU under bf16 is refused by the compile check (so the
    option got through to train.compile), before any step runs."""
    from latentbridge.precision import bf16_supported

    if not bf16_supported(torch.device("cpu")):
        pytest.skip("no bf16 on this CPU")
    argv = ["train", "--data", str(two_domains), "--out", str(tmp_path / "r"), "--steps", "1"]
    argv += ["--compile", "default", "--precision", "bf16", "--device", "cpu"]
    assert main(argv) == 2
    assert "compile default with bf16" in capsys.readouterr().err
    assert not (tmp_path / "r" / "checkpoints").exists()


def test_train_refuses_a_folder_with_a_run_unless_resumed_or_overwritten(
    two_domains: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r"
    assert main(train_args(two_domains, out, "--steps", "2")) == 0
    assert main(train_args(two_domains, out, "--steps", "1")) == 2
    err = capsys.readouterr().err
    assert "already holds a run" in err and "--overwrite" in err
    assert main(train_args(two_domains, out, "--steps", "1", "--overwrite")) == 0
    assert torch.load(out / "checkpoints" / "last.pt", weights_only=False)["step"] == 1
    assert main(train_args(two_domains, out, "--steps", "3", "--resume")) == 0  # no refusal
    with pytest.raises(SystemExit) as e:  # one or the other
        main(train_args(two_domains, out, "--resume", "--overwrite"))
    assert e.value.code == 2 and "not allowed with" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--budget", "0"], "--minutes and --budget must be > 0"),
        (["--minutes", "-1"], "--minutes and --budget must be > 0"),
        (["--budget", "5", "--minutes", "3"], "not allowed with argument"),
    ],
)
def test_demo_time_options_are_checked(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main(["demo", "--out", str(tmp_path / "d"), *args])
    except SystemExit as e:  # argparse: the two options exclude each other
        code = e.code
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "d").exists()  # refused before generating anything


def test_translate_compiled_matches_eager(
    two_domains: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``translate --compile``: the same images as eager translation; a smaller last batch is
    padded to the compiled one rather than compiled again, and its outputs do not change."""
    import numpy as np

    import latentbridge

    run = tmp_path / "run"
    assert main(train_args(two_domains, run, "--steps", "1")) == 0
    common = ["translate", "--run", str(run), "--from", "A", "--to", "B", "--device", "cpu"]
    common += [str(two_domains / "A"), "--batch-size", "4"]  # 10 images: 4, 4, 2
    assert main([*common, "--out", str(tmp_path / "eager")]) == 0
    assert main([*common, "--out", str(tmp_path / "comp"), "--compile", "default"]) == 0
    names = sorted(p.name for p in (tmp_path / "eager").iterdir())
    assert len(names) == 10 and names == sorted(p.name for p in (tmp_path / "comp").iterdir())
    for name in names:
        a = np.asarray(Image.open(tmp_path / "eager" / name), dtype=int)
        b = np.asarray(Image.open(tmp_path / "comp" / name), dtype=int)
        assert np.abs(a - b).max() <= 1, name  # float rounding may move a pixel by one level

    eager = latentbridge.load(run, device="cpu")
    pipe = latentbridge.load(run, device="cpu", compile="default")
    x = torch.rand(3, 3, 16, 16) * 2 - 1
    assert torch.allclose(pipe.translate(x, "A", "B"), eager.translate(x, "A", "B"), atol=1e-4)
    y = pipe.translate(x[:2], "A", "B")  # padded to the compiled batch of 3
    assert y.shape == (2, 3, 16, 16) and pipe._sizes == {3}
    assert torch.allclose(y, eager.translate(x[:2], "A", "B"), atol=1e-4)


def test_compiled_pipeline_pads_the_last_chunk(
    two_domains: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A compiled pipeline feeds its networks full chunks and pads the rest to the smallest
    batch they have already seen, so no call compiles a shape it could have avoided, and the
    outputs are the eager ones. (The bookkeeping only: nothing is compiled here.)"""
    import latentbridge
    from latentbridge import model as model_module

    run = tmp_path / "run"
    assert main(train_args(two_domains, run, "--steps", "1")) == 0
    monkeypatch.setattr(model_module, "CPU_CHUNK_PIXELS", 4 * 16 * 16)  # 4 images at 16 px
    pipe = latentbridge.load(run, device="cpu")
    seen: list[int] = []
    pipe.gen.encoders["A"].register_forward_hook(lambda m, i, o: seen.append(len(i[0])))
    x = torch.rand(10, 3, 16, 16) * 2 - 1
    eager = pipe.translate(x, "A", "B")
    assert seen == [4, 4, 2]
    pipe.compiled = True
    for n, passes, sizes in [
        (2, [2], {2}),  # a first shape
        (10, [4, 4, 2], {2, 4}),  # full chunks, then the rest as seen before
        (5, [4, 2], {2, 4}),  # a rest of 1 padded to 2
        (3, [4], {2, 4}),  # a rest of 3 padded to a full chunk
    ]:
        seen[:] = []
        assert torch.allclose(pipe.translate(x[:n], "A", "B"), eager[:n], atol=1e-5)
        assert (seen, pipe._sizes) == (passes, sizes), n


def test_translate_precision_is_checked(
    two_domains: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """bf16 where the CPU has no bf16 kernels (many times slower) and compiling under
    bf16 autocast on the CPU are both refused with one line, before any image is read."""
    from latentbridge import precision

    run = tmp_path / "run"
    assert main(train_args(two_domains, run, "--steps", "1")) == 0
    args = ["translate", "--run", str(run), "--from", "A", "--to", "B", "--device", "cpu"]
    args += [str(two_domains / "A"), "--out", str(tmp_path / "out")]
    capsys.readouterr()
    monkeypatch.setattr(precision, "bf16_supported", lambda device: False)
    assert main([*args, "--precision", "bf16"]) != 0
    assert "no bf16 kernels" in capsys.readouterr().err
    monkeypatch.setattr(precision, "bf16_supported", lambda device: True)
    assert main([*args, "--precision", "bf16", "--compile", "default"]) != 0
    assert "compile" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_no_ema_and_pipeline_options_reach_load(
    two_domains: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``translate`` and ``eval`` pass ``--no-ema`` (and translate its precision and compile
    mode) through to ``load``; ``load`` rejects a precision or compile mode it does not know."""
    import latentbridge
    import latentbridge.eval.evaluate  # bound to the real ``load`` before ``api.load`` is patched
    from latentbridge import api
    from latentbridge.errors import UserError

    run = tmp_path / "run"
    assert main(train_args(two_domains, run, "--steps", "1")) == 0
    with pytest.raises(UserError, match="precision must be"):
        latentbridge.load(run, device="cpu", precision="fp8")
    with pytest.raises(UserError, match="compile must be one of"):
        latentbridge.load(run, device="cpu", compile="fast")
    seen: list[dict[str, object]] = []

    def fake_load(*args: object, **kw: object) -> None:
        seen.append(kw)
        raise UserError("stopped by the test")

    monkeypatch.setattr(api, "load", fake_load)
    tr = ["translate", "--run", str(run), "--from", "A", "--to", "B", str(two_domains / "A")]
    tr += ["--out", str(tmp_path / "out"), "--device", "cpu"]
    assert main(tr) != 0 and main([*tr, "--no-ema", "--compile", "default"]) != 0
    ev = ["eval", "--run", str(run), "--data", str(two_domains), "--device", "cpu"]
    monkeypatch.setattr("latentbridge.eval.evaluate.load", fake_load)
    assert main(ev) != 0 and main([*ev, "--no-ema"]) != 0
    assert [kw["ema"] for kw in seen] == [True, False, True, False]
    assert (seen[0]["compile"], seen[1]["compile"], seen[0]["precision"]) == (
        "off",
        "default",
        "fp32",
    )


def test_translate_draws_styles_per_input(
    two_domains: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``translate --style-seed`` on a model with a style code: the i-th input's style comes
    from seed + i whatever the batch size (an unreadable input in between changes nothing);
    another seed draws another translation; a run without a style code says so."""
    import numpy as np

    import latentbridge
    from latentbridge.errors import UserError

    run = tmp_path / "munit"
    assert main(train_args(two_domains, run, "--method", "munit", "--steps", "2")) == 0
    src = tmp_path / "in"
    src.mkdir()
    for k, name in enumerate(("a", "c", "d")):
        Image.open(sorted((two_domains / "A").iterdir())[k]).save(src / f"{name}.png")
    (src / "b.png").write_bytes(b"garbage")

    def translate(out: str, *extra: str) -> dict[str, np.ndarray]:
        argv = ["translate", "--run", str(run), "--from", "A", "--to", "B", str(src)]
        main([*argv, "--out", str(tmp_path / out), "--device", "cpu", *extra])
        return {
            p.name: np.asarray(Image.open(p), dtype=np.int16)
            for p in sorted((tmp_path / out).iterdir())
        }

    one = translate("s7_b1", "--style-seed", "7", "--batch-size", "1")
    four = translate("s7_b4", "--style-seed", "7", "--batch-size", "4")
    other = translate("s8", "--style-seed", "8")
    zero = translate("zero")
    assert set(one) == {"a.png", "c.png", "d.png"}
    for name in one:
        assert np.abs(one[name] - four[name]).max() <= 1  # 8-bit rounding at most
        assert np.abs(one[name] - other[name]).max() > 1
        assert np.abs(one[name] - zero[name]).max() > 1
    pipe = latentbridge.load(run, device="cpu")
    with pytest.raises(UserError, match="style must be"):
        pipe.translate(torch.zeros(2, 3, 16, 16), "A", "B", style=torch.zeros(2, 3))
    plain = tmp_path / "plain"
    assert main(train_args(two_domains, plain, "--steps", "1")) == 0
    capsys.readouterr()
    argv = ["translate", "--run", str(plain), "--from", "A", "--to", "B", str(src)]
    assert main([*argv, "--out", str(tmp_path / "p"), "--style-seed", "1", "--device", "cpu"]) != 0
    assert "no style code" in capsys.readouterr().err
