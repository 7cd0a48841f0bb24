from __future__ import annotations

from pathlib import Path

import pytest

from latentbridge import config as C
from latentbridge import methods
from latentbridge.errors import UserError


def test_required_keys_exist() -> None:
    keys = C.valid_keys()
    for key in (
        "data.size",
        "train.batch_size",
        "train.lr",
        "train.save_every",
        "train.sample_every",
    ):
        assert key in keys


def test_set_parses_and_type_checks() -> None:
    cfg = methods.resolve(
        "baseline", overrides=C.parse_set(["data.size=64", "train.lr=1e-3", "sharing.full=true"])
    )
    assert cfg.data.size == 64 and cfg.train.lr == pytest.approx(1e-3) and cfg.sharing.full is True
    cfg = methods.resolve("baseline", overrides=C.parse_set(["train.lr=1"]))
    assert isinstance(cfg.train.lr, float)


def test_unknown_key_names_valid_keys() -> None:
    with pytest.raises(UserError) as e:
        methods.resolve("baseline", overrides={"train.lrr": 1.0})
    assert (
        "train.lrr" in str(e.value) and "train.lr" in str(e.value) and "data.size" in str(e.value)
    )


@pytest.mark.parametrize(
    "item",
    [
        "data.size=big",
        "train.lr=fast",
        "sharing.full=3",
        "loss.gan_type=wgan",
        "loss.labels_type=proto",
        "train.batch_size=1.5",
    ],
)
def test_badly_typed_value(item: str) -> None:
    with pytest.raises(UserError):
        methods.resolve("baseline", overrides=C.parse_set([item]))


def test_unknown_method() -> None:
    with pytest.raises(UserError, match="choose one of") as e:
        methods.resolve("pix2pix")
    assert "did you mean" not in str(e.value)  # nothing is close to it


@pytest.mark.parametrize(
    ("typo", "meant"),
    [("loss.recn", "loss.recon"), ("model.widht", "model.width"), ("train.lrr", "train.lr")],
)
def test_a_mistyped_key_suggests_the_closest(typo: str, meant: str) -> None:
    with pytest.raises(UserError, match=f"did you mean '{meant}'"):
        methods.resolve("baseline", overrides={typo: 1.0})


def test_a_mistyped_method_suggests_the_closest() -> None:
    with pytest.raises(UserError, match="did you mean 'cogan_full'"):
        methods.resolve("cogan-full")


def test_yaml_file_and_precedence(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("method: unit\ndata:\n  size: 64\ntrain:\n  lr: 0.001\n")
    cfg = methods.resolve(None, file=C.load_yaml(f), overrides={"train.lr": 0.002})
    assert cfg.method == "unit" and cfg.loss.kl > 0 and cfg.data.size == 64
    assert cfg.train.lr == pytest.approx(0.002)  # --set wins over the file


def test_roundtrip_dict(tmp_path: Path) -> None:
    cfg = methods.resolve("xgan")
    C.dump_yaml(cfg, tmp_path / "config.yaml")
    again = C.from_dict(C.load_yaml(tmp_path / "config.yaml"))
    assert again == cfg


def test_shipped_yaml_presets_load() -> None:
    for f in sorted((Path(__file__).parents[1] / "configs").glob("*.yaml")):
        methods.resolve(None, file=C.load_yaml(f))
