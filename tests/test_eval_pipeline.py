"""``eval``/``compare`` end to end on a tiny faces benchmark, and the evaluation's wiring checked
against answers known in advance (a perfect translation scores the ceiling; a shuffled one less)."""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml
from PIL import Image

from latentbridge.cli import main
from latentbridge.data.faces import generate_faces
from latentbridge.eval import metrics as M
from tests.conftest import TINY

SETS = [a for k, v in TINY.items() for a in ("--set", f"{k}={v}")]


@pytest.fixture(scope="module")
def faces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("faces") / "faces"
    generate_faces(root, size=16, n_train=80, n_test=40, seed=0)
    return root


@pytest.fixture(scope="module")
def run(faces: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "run"
    assert (
        main(
            [
                "train",
                "--data",
                str(faces),
                "--out",
                str(out),
                "--method",
                "xgan",
                "--steps",
                "2",
                "--device",
                "cpu",
                "--no-progress",
                *SETS,
            ]
        )
        == 0
    )
    return out


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LATENTBRIDGE_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def test_eval_writes_metrics_and_self_contained_report(
    run: Path, faces: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run / "ev"
    assert (
        main(
            [
                "eval",
                "--run",
                str(run),
                "--data",
                str(faces),
                "--out",
                str(out),
                "--classifier-steps",
                "30",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    m = json.loads((out / "metrics.json").read_text())
    assert set(m["directions"]) == {"photo->cartoon", "cartoon->photo"}
    d = m["directions"]["photo->cartoon"]
    assert set(d["attributes"]["accuracy"]) == {
        "skin_tone",
        "hair_color",
        "glasses",
        "hair_length",
        "mean",
    }
    assert d["paired"]["n"] == 40 and 0 <= d["paired"]["ssim"] <= 1
    # 80 training images per domain are too few to hold 20 out: one round of 30 steps on all
    assert m["classifiers"] == {
        d: {"steps": 30, "rounds": 1, "holdout_images": 0, "holdout_accuracy": []}
        for d in ("photo", "cartoon")
    }
    assert 0 <= d["two_sample_accuracy"] <= 1 and d["kid"]["mean"] == d["kid"]["mean"]
    assert set(m["reconstruction_attributes"]["photo"]) == set(d["attributes"]["accuracy"])
    (lat,) = m["latent"].values()
    assert (
        lat["retrieval_top1"] is not None
        and lat["attribute_probe_transfer"]["photo->cartoon"]["transfer"]["mean"] >= 0
    )
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 4 and "http" not in html.replace(
        "http-equiv", ""
    )
    assert "photo: 30 steps in 1 round(s)" in html  # how the instrument was trained
    assert "attributes kept by the reconstruction" in html
    glasses = d["attributes"]["confusion"]["glasses"]  # 2 x 2 counts over the 40 test photos
    assert len(glasses) == 2 and sum(map(sum, glasses)) == 40
    assert "how each attribute was read" in html and "<th>source \\ read as</th><th>no</th>" in html
    assert "who loses what" in html and "<p>by skin_tone</p>" in html
    assert set(d["attributes"]["by_group"]["glasses"]) == {"skin_tone", "hair_color", "hair_length"}
    # the groups of real cartoons weigh back to the ceiling (not to the translations' accuracy)
    labels = [
        r.split(",")[1:]
        for r in (faces / "test" / "cartoon" / "labels.csv").read_text().split()[1:]
    ]
    skin = torch.tensor([int(r[0]) for r in labels])
    real = d["attributes"]["ceiling_by_group"]["glasses"]["skin_tone"]
    total = sum(int((skin == c).sum()) * (v or 0.0) for c, v in enumerate(real))
    assert total == pytest.approx(d["attributes"]["ceiling"]["glasses"] * len(skin))
    assert "<th>untranslated source</th>" in html and "untranslated mean" in html
    assert set(d["attributes"]["untranslated"]) == set(d["attributes"]["accuracy"])
    assert m["summary"]["untranslated_mean"] == pytest.approx(
        sum(v["attributes"]["untranslated"]["mean"] for v in m["directions"].values()) / 2
    )
    text = capsys.readouterr().out
    assert "attribute preservation" in text and "kept by the reconstruction photo->photo" in text
    copy = d["attributes"]["untranslated"]["mean"]
    assert "attribute preservation photo->cartoon: " in text
    assert f"; the source untranslated: {copy:.3f})" in text
    # the test set's own noise: a 95 % interval around each preservation, in all three places
    span = d["attributes"]["accuracy_interval"]
    assert set(span) == set(d["attributes"]["accuracy"])
    for name, (low, high) in span.items():
        assert low <= d["attributes"]["accuracy"][name] <= high
    assert m["summary"]["attribute_preservation_interval"]["photo->cartoon"] == span["mean"]
    assert f"(95 % interval {span['mean'][0]:.3f}–{span['mean'][1]:.3f};" in text
    assert "<th>95 % interval (test images)</th>" in html
    assert f"photo-&gt;cartoon: {span['mean'][0]:.3f}–{span['mean'][1]:.3f}" in html  # summary


def test_classifier_options_reach_every_classifier(
    run: Path, faces: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`eval --classifier-steps S --classifier-rounds R` trains each domain's classifier so;
    `--two-sample-steps T` trains the two-sample test's classifier of each direction T steps."""
    from latentbridge.eval import evaluate as E
    from latentbridge.eval import instruments

    seen: list[dict[str, object]] = []
    real, real_two_sample = instruments.load_or_train_classifier, E.M.two_sample_accuracy

    def spy(*args: object, **kw: object) -> object:
        seen.append(kw)
        return real(*args, **kw)

    def spy_two_sample(*args: Any, **kw: Any) -> float:
        seen.append({"two_sample": kw["steps"]})
        return real_two_sample(*args, **kw)

    monkeypatch.setattr(instruments, "load_or_train_classifier", spy)
    monkeypatch.setattr(E.M, "two_sample_accuracy", spy_two_sample)
    monkeypatch.setenv("LATENTBRIDGE_CACHE", str(tmp_path / "cache"))
    argv = ["eval", "--run", str(run), "--data", str(faces), "--out", str(tmp_path / "ev")]
    argv += ["--classifier-steps", "7", "--classifier-rounds", "3", "--device", "cpu"]
    assert main([*argv, "--two-sample-steps", "5"]) == 0
    fits, tests = seen[:2], seen[2:]
    assert all(k["steps"] == 7 and k["rounds"] == 3 for k in fits), seen
    assert tests == [{"two_sample": 5}] * 2  # one per direction
    assert json.loads((tmp_path / "ev" / "metrics.json").read_text())["two_sample_steps"] == 5
    assert (
        "two-sample accuracy (0.5 best; 5 steps)" in (tmp_path / "ev" / "report.html").read_text()
    )


def test_perfect_translation_scores_ceiling_and_shuffled_less(run: Path, faces: Path) -> None:
    from latentbridge.eval.evaluate import evaluator
    from latentbridge.eval.instruments import blurred
    from latentbridge.eval.labelled import pairs_by_name

    ev = evaluator(run, faces, device="cpu", classifier_steps=100, two_sample_steps=10)
    a, b = "photo", "cartoon"
    ia, ib = pairs_by_name(ev.test[a], ev.test[b])
    assert (ia == torch.arange(len(ia)).numpy()).all()
    ev.x_ab[(a, b)] = ev.test[b].images[ib]  # the true counterpart: a perfect translation
    perfect = ev.direction(a, b)
    acc, ceiling = perfect["attributes"]["accuracy"], perfect["attributes"]["ceiling"]
    assert acc == pytest.approx(ceiling)
    for name, counts in perfect["attributes"]["confusion"].items():  # kept = on the diagonal
        kept = sum(counts[i][i] for i in range(len(counts)))
        assert kept == round(acc[name] * len(ia)) and sum(map(sum, counts)) == len(ia)
    names = ev.attrs.names
    for name, by in perfect["attributes"]["by_group"].items():  # the groups weigh back to acc
        assert set(by) == set(names) - {name}
        for other, within in by.items():
            sizes = torch.bincount(ev.test[a].labels[:, names.index(other)], minlength=len(within))
            total = sum(int(n) * (v or 0.0) for n, v in zip(sizes, within, strict=True))
            assert total == pytest.approx(acc[name] * len(ia))
            # the true counterparts are the real images of the groups: it reads the ceiling
            assert within == pytest.approx(perfect["attributes"]["ceiling_by_group"][name][other])
    assert perfect["paired"]["l1"] == pytest.approx(0) and perfect["paired"][
        "ssim"
    ] == pytest.approx(1)
    # the true counterpart as soft as the classifiers learn to see through: the blurred ceiling
    ev.x_ab[(a, b)] = blurred(ev.test[b].images[ib])
    soft = ev.direction(a, b)["attributes"]
    assert soft["accuracy"] == pytest.approx(soft["ceiling_blurred"])
    assert soft["ceiling"] == pytest.approx(ceiling)
    ev.x_ab[(a, b)] = ev.test[b].images[ib][
        torch.randperm(len(ib), generator=torch.Generator().manual_seed(0))
    ]
    shuffled = ev.direction(a, b)["attributes"]["accuracy"]["mean"]
    assert shuffled < acc["mean"] - 0.1
    # a translator that copies its input scores what the source images themselves read as
    ev.x_ab[(a, b)] = ev.test[a].images
    copy = ev.direction(a, b)["attributes"]
    assert copy["accuracy"] == pytest.approx(copy["untranslated"])
    assert copy["untranslated"] != pytest.approx(ceiling)  # a photo is no cartoon to b's reader
    # reconstructions: the real images themselves score the ceiling, other subjects' less
    ev.x_ab[(b, b)] = ev.test[b].images
    assert ev.reconstruction_attributes(b) == pytest.approx(ceiling)
    assert ev.reconstruction(b) == pytest.approx(0)
    ev.x_ab[(b, b)] = ev.test[b].images.roll(1, 0)
    assert ev.reconstruction_attributes(b)["mean"] < ceiling["mean"] - 0.1  # type: ignore[index]


def test_summary_warns_once_per_domain_whose_classifier_reads_blur_poorly(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from latentbridge.eval.commands import print_summary

    def attrs(sharp: float, soft: float) -> dict:
        return {"ceiling": {"mean": sharp}, "ceiling_blurred": {"mean": soft}}

    keys = ["chance_mean", "kid_mean", "two_sample_accuracy_mean", "domain_probe_accuracy_mean"]
    keys += ["attribute_probe_transfer_mean", "retrieval_top1_mean"]
    m = {
        "method": "m",
        "step": 1,
        "summary": {"attribute_preservation": {"a->b": 0.5}, **dict.fromkeys(keys)},
        "directions": {
            "a->b": {"attributes": attrs(0.99, 0.60)},
            "c->b": {"attributes": attrs(0.99, 0.60)},
            "b->a": {"attributes": attrs(0.99, 0.97)},  # robust: no note
            "b->c": {"attributes": None},  # no labels: no note
        },
    }
    print_summary(m, Path("out"))
    notes = [ln for ln in capsys.readouterr().out.splitlines() if "note:" in ln]
    assert len(notes) == 1 and "the b classifier" in notes[0] and "0.600 against 0.990" in notes[0]


def runs(out: Path) -> list[Path]:
    return sorted((out / "runs").iterdir())


def test_compare_tabulates_methods(
    faces: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cmp"
    argv = [
        "compare",
        "--data",
        str(faces),
        "--methods",
        "baseline,unit",
        "--steps",
        "1",
        "--seeds",
        "2",
        "--out",
        str(out),
        "--limit",
        "20",
        "--classifier-steps",
        "30",
        "--two-sample-steps",
        "10",
        "--device",
        "cpu",
        *SETS,
    ]
    assert main(argv) == 0
    assert "reusing" not in capsys.readouterr().err
    md = (out / "comparison.md").read_text()
    assert "| baseline | 2 |" in md and "| unit | 2 |" in md and "±" in md
    first = json.loads((out / "runs" / "baseline-s0" / "eval" / "metrics.json").read_text())
    copy = first["summary"]["untranslated_mean"]
    assert f"the source images untranslated {copy:.3f}" in md
    # below the table, each attribute's preservation: the mean over directions, then over seeds
    per = md.split("Preservation per attribute (mean over directions):")[1]
    skin = [
        statistics.mean(d["attributes"]["accuracy"]["skin_tone"] for d in r["directions"].values())
        for r in (
            json.loads((out / "runs" / f"baseline-s{s}" / "eval" / "metrics.json").read_text())
            for s in (0, 1)
        )
    ]
    assert f"| baseline | {statistics.mean(skin):.3f} ± {statistics.stdev(skin):.3f} |" in per
    assert "| unit | " in per and "| chance | " in per
    assert "<h2>Preservation per attribute" in (out / "comparison.html").read_text()
    assert (out / "comparison.html").is_file() and len(
        json.loads((out / "comparison.json").read_text())["unit"]
    ) == 2
    # an interrupted or split comparison picks up finished runs; another budget retrains
    (out / "comparison.md").unlink()
    assert main(argv) == 0
    assert capsys.readouterr().err.count("reusing the finished run") == 4
    assert (out / "comparison.md").read_text() == md
    # a run whose config.yaml predates a key (here sharing.tied_init) is trained again
    saved = out / "runs" / "unit-s0" / "config.yaml"
    saved.write_text(saved.read_text().replace("  tied_init: true\n", ""))
    assert main(argv) == 0
    assert capsys.readouterr().err.count("reusing the finished run") == 3
    assert "tied_init" in saved.read_text()
    # another instrument: the trained runs are evaluated again, not trained again
    argv[argv.index("--classifier-steps") + 1] = "20"
    trained = {r: (r / "checkpoints" / "last.pt").stat().st_mtime_ns for r in runs(out)}
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "reusing" not in err and err.count("evaluating the trained run") == 4
    assert {r: (r / "checkpoints" / "last.pt").stat().st_mtime_ns for r in runs(out)} == trained
    # so is a run evaluated before the classifiers learnt to read through blur
    budget = out / "runs" / "baseline-s1" / "budget.json"
    budget.write_text(
        json.dumps(
            {k: v for k, v in json.loads(budget.read_text()).items() if k != "classifier_blur"}
        )
    )
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert (
        err.count("reusing the finished run") == 3 and err.count("evaluating the trained run") == 1
    )
    # and one whose two-sample test trained another number of steps
    budget = out / "runs" / "baseline-s0" / "budget.json"
    budget.write_text(json.dumps({**json.loads(budget.read_text()), "two_sample_steps": 300}))
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert (
        err.count("reusing the finished run") == 3 and err.count("evaluating the trained run") == 1
    )
    again = json.loads((out / "runs" / "baseline-s0" / "eval" / "metrics.json").read_text())
    assert (
        again["two_sample_steps"] == 10 and json.loads(budget.read_text())["two_sample_steps"] == 10
    )
    argv[argv.index("--steps") + 1] = "2"
    assert (
        main([*argv[: argv.index("--seeds")], "--seeds", "1", *argv[argv.index("--seeds") + 2 :]])
        == 0
    )
    assert "reusing" not in capsys.readouterr().err


def test_comparison_table_shows_the_spread_over_seeds_and_the_references() -> None:
    from latentbridge.eval.compare import COLUMNS, comparison_table

    def run(value: float, **refs: float) -> dict[str, object]:
        return {"step": 10, "summary": {**dict.fromkeys(COLUMNS, value), **refs}}

    refs = {"chance_mean": 0.385, "untranslated_mean": 0.597}
    md, html = comparison_table({"one": [run(0.5, **refs)], "two": [run(0.5), run(0.6)]})
    one, two = md.splitlines()[2:4]
    assert one.startswith("| one | 1 | 10 | 0.500 | 0.500 |") and "±" not in one  # no spread
    assert two.startswith("| two | 2 | 10 | 0.550 ± 0.071 |")
    line = "chance 0.385; the source images untranslated 0.597"
    assert line in md and line in html
    # metrics written before the untranslated reference existed: chance alone
    md, _ = comparison_table({"old": [run(0.5, chance_mean=0.385)]})
    assert "for reference: chance 0.385." in md and "untranslated" not in md


def test_comparison_table_gives_each_direction_with_its_interval_or_spread() -> None:
    from latentbridge.eval.compare import COLUMNS, comparison_table

    def run(ab: float, ba: float, interval: bool = True) -> dict[str, object]:
        summary: dict[str, object] = {**dict.fromkeys(COLUMNS, (ab + ba) / 2)}
        summary["attribute_preservation"] = {"a->b": ab, "b->a": ba}
        if interval:
            summary["attribute_preservation_interval"] = {
                "a->b": [ab - 0.02, ab + 0.03],
                "b->a": [ba - 0.04, ba + 0.01],
            }
        return {"step": 10, "summary": summary}

    results = {
        "one": [run(0.8, 0.7)],
        "two": [run(0.8, 0.6), run(0.6, 0.6)],
        "old": [run(0.5, 0.4, interval=False)],
        "none": [{"step": 10, "summary": dict.fromkeys(COLUMNS)}],
    }
    md, html = comparison_table(results)
    head, _, one, two, old, none = md.splitlines()[:6]
    assert head.startswith(
        "| method | runs | steps | attribute preservation | preservation a->b | preservation b->a |"
    )
    assert one.startswith("| one | 1 | 10 | 0.750 | 0.800 (0.780–0.830) | 0.700 (0.660–0.710) |")
    assert two.startswith("| two | 2 | 10 | 0.650 ± 0.071 | 0.700 ± 0.141 | 0.600 ± 0.000 |")
    assert old.startswith("| old | 1 | 10 | 0.450 | 0.500 | 0.400 |")
    assert none.startswith("| none | 1 | 10 | — | — | — |")
    assert "<th>preservation a-&gt;b</th>" in html and "<td>0.800 (0.780–0.830)</td>" in html


def test_attribute_table_averages_directions_then_seeds() -> None:
    """compare's table per attribute: each run's directions averaged, then mean ± std over
    seeds; a direction without labels is left out; chance below; nothing with one attribute."""
    from latentbridge.eval.compare import attribute_table

    def run(ab: dict[str, float], ba: dict[str, float] | None) -> dict[str, object]:
        def attrs(acc: dict[str, float]) -> dict[str, object]:
            chance = {"x": 0.5, "y": 0.25, "mean": 0.375}
            return {"accuracy": {**acc, "mean": statistics.mean(acc.values())}, "chance": chance}

        directions = {"a->b": {"attributes": attrs(ab)}, "b->a": {"attributes": None}}
        if ba is not None:
            directions["b->a"] = {"attributes": attrs(ba)}
        return {"step": 10, "summary": {}, "directions": directions}

    results = {
        "one": [run({"x": 0.8, "y": 0.6}, {"x": 0.6, "y": 0.4})],
        "two": [run({"x": 0.9, "y": 0.5}, None), run({"x": 0.5, "y": 0.5}, {"x": 0.7, "y": 0.3})],
    }
    md, html = attribute_table(results)
    head, _, one, two, chance = md.splitlines()
    assert head == "| method | x | y |"
    assert one == "| one | 0.700 | 0.500 |"  # (0.8 + 0.6) / 2, (0.6 + 0.4) / 2
    assert two == "| two | 0.750 ± 0.212 | 0.450 ± 0.071 |"  # runs (0.9, 0.5) and (0.6, 0.4)
    assert chance == "| chance | 0.500 | 0.250 |"
    assert "<th>x</th>" in html and "<td>0.750 ± 0.212</td>" in html
    single = {"one": [run({"digit": 0.4}, {"digit": 0.3})]}
    assert attribute_table(single) == ("", "")


def test_preservation_plot_draws_the_interval_as_the_translations_error_bar() -> None:
    import matplotlib.pyplot as plt

    from latentbridge.eval.plots import preservation_figure, preservation_plot

    def attributes(value: float, interval: list[float] | None) -> dict[str, object]:
        at: dict[str, object] = {
            "accuracy": {"mean": value},
            "chance": {"mean": 0.4},
            "untranslated": {"mean": 0.6},
            "ceiling": {"mean": 0.99},
        }
        if interval:
            at["accuracy_interval"] = {"mean": interval}
        return at

    m = {
        "directions": {
            "a->b": {"attributes": attributes(0.8, [0.77, 0.84])},
            "b->a": {"attributes": attributes(0.7, [0.66, 0.72])},
        }
    }
    fig = preservation_figure(m)
    bars = {c.get_label(): c for c in fig.axes[0].containers}
    assert [p.get_height() for p in bars["translated"]] == pytest.approx([0.8, 0.7])
    (lines,) = bars["translated"].errorbar.lines[2]  # the vertical bar of each direction
    ends = [y for seg in lines.get_segments() for y in (seg[0][1], seg[1][1])]
    assert ends == pytest.approx([0.77, 0.84, 0.66, 0.72])
    assert all(bars[k].errorbar is None for k in ("chance", "untranslated", "ceiling"))
    plt.close(fig)
    # metrics written before intervals existed: bars without error bars; no attributes: no plot
    m["directions"]["b->a"]["attributes"] = attributes(0.7, None)
    fig = preservation_figure(m)
    assert all(c.errorbar is None for c in fig.axes[0].containers)
    plt.close(fig)
    assert preservation_plot({"directions": {"a->b": {"attributes": None}}}) is None


def test_comparison_plot_draws_the_references_as_lines() -> None:
    import matplotlib.pyplot as plt

    from latentbridge.eval.compare import COLUMNS
    from latentbridge.eval.plots import comparison_figure, comparison_plot

    def run(value: float, **refs: float) -> dict[str, object]:
        return {"step": 10, "summary": {**dict.fromkeys(COLUMNS, value), **refs}}

    refs = {"chance_mean": 0.385, "untranslated_mean": 0.597}
    fig = comparison_figure({"one": [run(0.5)], "two": [run(0.6, **refs), run(0.7, **refs)]})
    ax = fig.axes[0]
    lines = {ln.get_label(): set(ln.get_ydata()) for ln in ax.get_lines()}
    assert lines == {
        "preservation: chance": {0.385},
        "preservation: the source images untranslated": {0.597},
    }
    bars = [p.get_height() for p in ax.patches]  # preservation per method, then probe transfer
    assert bars == pytest.approx([0.5, 0.65, 0.5, 0.65])
    plt.close(fig)
    # metrics without either reference: bars alone; without any value to plot: no figure
    fig = comparison_figure({"old": [run(0.5)]})
    assert fig.axes[0].get_lines() == [] and len(fig.axes[0].patches) == 2
    plt.close(fig)
    assert comparison_plot({"none": [{"step": 1, "summary": dict.fromkeys(COLUMNS)}]}) is None
    assert comparison_plot({"old": [run(0.5)]}).startswith("data:image/png;base64,")


@pytest.mark.parametrize(
    ("methods", "budget", "message"),
    [
        ("baseline", ["--minutes", "0"], "needs a training budget"),
        ("baseline", ["--steps", "0"], "needs a training budget"),
        (" , ", ["--steps", "1"], "names no method"),
    ],
)
def test_compare_refuses_an_empty_budget_or_method_list(
    methods: str,
    budget: list[str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["compare", "--data", str(tmp_path), "--methods", methods, *budget]
    assert main([*argv, "--out", str(tmp_path / "cmp")]) == 2
    assert message in capsys.readouterr().err and not (tmp_path / "cmp").exists()


def test_compare_unknown_method(
    faces: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "compare",
                "--data",
                str(faces),
                "--methods",
                "baseline,nope",
                "--steps",
                "1",
                "--out",
                str(tmp_path),
            ]
        )
        == 2
    )
    assert "unknown method 'nope'" in capsys.readouterr().err


@pytest.mark.filterwarnings("error::UserWarning")  # e.g. an empty plot legend
def test_demo_end_to_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo trains the evaluation classifiers before the translator, and the evaluation
    then finds them cached (one training per domain in the whole command)."""
    from latentbridge.eval import classifier

    trained: list[str | None] = []
    real = classifier.train_attribute_classifier

    def spy(*args: object, **kw: object) -> classifier.AttributeClassifier:
        trained.append(kw.get("progress"))  # type: ignore[arg-type]
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(classifier, "train_attribute_classifier", spy)
    out = tmp_path / "demo"
    argv = [
        "demo",
        "--out",
        str(out),
        "--minutes",
        "0.02",
        "--n-train",
        "40",
        "--classifier-steps",
        "20",
        "--two-sample-steps",
        "10",
        "--device",
        "cpu",
        "--set",
        "train.ema=0.99",  # reaches the training ranks
        "--ranks",
        "2",  # training as two single-threaded ranks (the default on a 2-core CPU)
    ]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "2 ranks x" in text and (out / "run" / "checkpoints" / "last.pt").is_file()
    config = yaml.safe_load((out / "run" / "config.yaml").read_text())
    assert config["train"]["ema"] == 0.99 and config["model"]["width"] == 16  # and the demo's own
    assert config["model"]["norm"] == "lin"
    assert "model.norm=lin" in text and "train.ema=0.99" in text  # the demo says what it trains
    assert "attribute preservation photo->cartoon" in text and "report" in text
    metrics = json.loads((out / "run" / "eval" / "metrics.json").read_text())
    assert metrics["two_sample_steps"] == 10  # the demo's own options reach its evaluation
    assert (out / "run" / "eval" / "report.html").is_file() and (
        out / "faces" / "preview.png"
    ).is_file()
    # (unlabelled calls are the two-sample tests' real-vs-translated classifiers)
    assert sorted(t for t in trained if t) == ["classifier cartoon", "classifier photo"]
    assert text.index("[2/4] training the evaluation classifiers") < text.index("[3/4] training")
    # a second demo into the same folder: the data and classifiers are reused, and the run is
    # replaced, not appended to (marks of the first run: a later checkpoint, a later log line)
    stale = out / "run" / "checkpoints" / "step_9999999.pt"
    stale.write_bytes(b"")
    with (out / "run" / "log.jsonl").open("a") as log:
        log.write(json.dumps({"step": 9999999}) + "\n")
    second = ["--set", "model.disc_scales=2", "--set", "train.log_every=1"]  # a line per step
    assert main([*argv[:-1], "1", *second]) == 0  # trained in this process
    text = capsys.readouterr().out
    assert "generating" not in text and "attribute preservation photo->cartoon" in text
    assert sorted(t for t in trained if t) == ["classifier cartoon", "classifier photo"]
    steps = [json.loads(line)["step"] for line in (out / "run" / "log.jsonl").open()]
    assert not stale.exists() and steps and 9999999 not in steps
    config = yaml.safe_load((out / "run" / "config.yaml").read_text())
    assert config["model"]["disc_scales"] == 2 and config["train"]["ema"] == 0.99


@pytest.mark.parametrize(
    ("budget", "elapsed", "expected"), [(9.5, 2.0, 6.75), (9.5, 8.5, 0.5), (3.0, 0.5, 1.75)]
)
def test_demo_training_gets_what_the_budget_leaves(
    budget: float, elapsed: float, expected: float
) -> None:
    from latentbridge.demo import EVAL_RESERVE, MIN_TRAINING, training_minutes

    assert EVAL_RESERVE == 0.75 and MIN_TRAINING == 0.5
    assert training_minutes(budget, elapsed) == pytest.approx(expected)


def test_demo_trains_as_one_rank_per_core_up_to_four() -> None:
    from latentbridge.demo import cpu_ranks

    assert cpu_ranks(1, 16) == (1, 1)
    assert cpu_ranks(2, 16) == (2, 1)
    assert cpu_ranks(3, 16) == (2, 1)
    assert cpu_ranks(16, 16) == (4, 4)
    assert cpu_ranks(8, 6) == (2, 4)  # the batch must split evenly over the ranks


def test_demo_ranks_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for bad in ("-1", "3"):  # 3 does not divide the demo's batch of 16
        assert main(["demo", "--out", str(tmp_path / "d"), "--ranks", bad]) != 0
        assert "--ranks" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


def test_demo_says_when_its_training_ranks_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ranks run as a torchrun child with the demo's settings, one thread each; a failed
    child is one line, not a traceback of the launcher."""
    import subprocess

    from latentbridge import demo
    from latentbridge.errors import UserError

    seen: dict[str, object] = {}

    def fake_run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        seen.update(cmd=cmd, env=env)
        return subprocess.CompletedProcess(cmd, 1)

    monkeypatch.setattr(demo.subprocess, "run", fake_run)
    with pytest.raises(UserError, match="training as 2 ranks failed"):
        demo.train_as_ranks("bridge", tmp_path / "d", tmp_path / "r", 1.5, 2, 1)
    cmd = seen["cmd"]
    assert isinstance(cmd, list) and cmd[cmd.index("--nproc_per_node") + 1] == "2"
    assert cmd[cmd.index("--minutes") + 1] == "1.5000" and "model.width=16" in cmd
    assert seen["env"]["OMP_NUM_THREADS"] == "1"  # type: ignore[index]


def test_eval_reconstructs_and_cycles_with_the_source_style(
    faces: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With a style code (``model.style_dim``) the evaluation's reconstructions and cycles decode
    with the source image's own style, as training does, and its translations with s = 0: the
    reconstruction error is the one ``Translator.reconstruct`` gives, not the s = 0 one."""
    import latentbridge
    from latentbridge.eval.labelled import load_split
    from latentbridge.eval.metrics import paired_l1

    out = tmp_path / "style"
    style = ["--set", "model.style_dim=4", "--set", "loss.style=1", "--set", "train.ema=0"]
    common = ["--data", str(faces), "--device", "cpu"]
    train = ["train", *common, "--out", str(out), "--method", "baseline", "--steps", "3"]
    assert main([*train, "--no-progress", *SETS, *style]) == 0
    ev = ["eval", "--run", str(out), *common, "--out", str(out / "ev")]
    assert main([*ev, "--classifier-steps", "30", "--two-sample-steps", "10"]) == 0
    m = json.loads((out / "ev" / "metrics.json").read_text())
    gen = latentbridge.load(out, device="cpu").gen
    photos = load_split(faces, "test", 16, ["photo", "cartoon"])["photo"].images
    with torch.no_grad():
        own = paired_l1(gen.reconstruct(photos, "photo"), photos)
        zero = paired_l1(gen.decode(gen.encode(photos, "photo"), "photo"), photos)
        x_ab = gen.translate(photos, "photo", "cartoon")
        back = paired_l1(gen.cycle(x_ab, photos, "photo", "cartoon"), photos)
    # three steps of a tiny model: the style moves the error by ~4e-5 (seeded, so always that)
    assert abs(own - zero) > 1e-5  # the two ways differ by more than the check below allows
    assert m["reconstruction_l1"]["photo"] == pytest.approx(own, abs=1e-7)
    assert m["directions"]["photo->cartoon"]["cycle_l1"] == pytest.approx(back, abs=1e-7)
    assert (out / "ev" / "report.html").is_file()
    capsys.readouterr()


def _diagnostic(name: str, monkeypatch: pytest.MonkeyPatch) -> object:
    """A run diagnostic of benchmarks/, its evaluator's classifiers kept tiny."""
    import functools
    import importlib

    from latentbridge.eval.evaluate import evaluator

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    shared = importlib.import_module("_evaluated")
    tiny_fit = functools.partial(
        evaluator, classifier_steps=30, classifier_rounds=1, two_sample_steps=10
    )
    monkeypatch.setattr(shared, "evaluator", tiny_fit)
    module = importlib.import_module(name)
    if hasattr(module, "evaluator"):  # a script that builds its evaluators itself
        monkeypatch.setattr(module, "evaluator", tiny_fit)
    return module


def test_paired_difference_reads_two_runs_as_eval_does(
    run: Path,
    faces: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``benchmarks/paired_difference.py``: a run against itself differs by exactly 0 in every
    direction; against another run each side is eval's own preservation of that run, and the
    difference their difference; data without labels is refused."""
    import json
    import shutil

    from latentbridge.eval.evaluate import evaluator

    script = _diagnostic("paired_difference", monkeypatch)
    other = tmp_path / "other"
    train = ["train", "--data", str(faces), "--out", str(other), "--method", "xgan"]
    train += ["--steps", "2", "--device", "cpu", "--no-progress", *SETS, "--set", "train.seed=1"]
    assert main(train) == 0
    out = tmp_path / "pairs.json"
    argv = ["x", "--data", str(faces), "--device", "cpu", "--json", str(out), "--runs"]
    monkeypatch.setattr("sys.argv", [*argv, str(run), str(run)])
    script.main()  # type: ignore[attr-defined]
    rows = json.loads(out.read_text())["rows"]
    assert {r["direction"] for r in rows} == {"photo->cartoon", "cartoon->photo"}
    for r in rows:
        assert r["first"] == r["second"] and r["first_interval"] == r["second_interval"]
        assert all(v == [0.0, 0.0] for v in r["difference_interval"].values())
    monkeypatch.setattr("sys.argv", [*argv, str(run), str(other)])
    script.main()  # type: ignore[attr-defined]
    rows = json.loads(out.read_text())["rows"]
    tiny = {"classifier_steps": 30, "classifier_rounds": 1, "two_sample_steps": 10}
    evs = [evaluator(r, faces, device="cpu", **tiny) for r in (run, other)]
    for r in rows:
        a, b = r["direction"].split("->")
        first, second = (ev.direction(a, b)["attributes"] for ev in evs)
        assert r["first"] == pytest.approx(first["accuracy"]["mean"])
        assert r["second"] == pytest.approx(second["accuracy"]["mean"])
        assert r["first_interval"] == pytest.approx(first["accuracy_interval"]["mean"])
        low, high = r["difference_interval"]["mean"]
        assert low <= r["first"] - r["second"] <= high
    printed = capsys.readouterr().out
    assert "paired 95 % interval" in printed and "photo->cartoon:" in printed
    unlabelled = tmp_path / "unlabelled"
    shutil.copytree(faces, unlabelled)
    (unlabelled / "attributes.json").unlink()
    monkeypatch.setattr("sys.argv", ["x", "--data", str(unlabelled), "--runs", str(run), str(run)])
    with pytest.raises(SystemExit, match="no attribute labels"):
        script.main()  # type: ignore[attr-defined]


def test_attribute_grid_counts_what_eval_reads(
    run: Path,
    faces: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``benchmarks/attribute_grid.py`` reads the translations of one attribute value with eval's
    classifier: its counts are that row of eval's confusion table, its grid has a row of sources,
    of translations and of true counterparts, and bad choices name the valid ones."""
    from latentbridge.eval.evaluate import evaluator

    grid_script = _diagnostic("attribute_grid", monkeypatch)
    ev = evaluator(
        run, faces, device="cpu", classifier_steps=30, classifier_rounds=1, two_sample_steps=10
    )
    confusion = ev.direction("cartoon", "photo")["attributes"]["confusion"]["skin_tone"]
    out = tmp_path / "grid.png"
    argv = [
        "x",
        "--run",
        str(run),
        "--data",
        str(faces),
        "--device",
        "cpu",
        "--source",
        "cartoon",
        "--target",
        "photo",
        "--attribute",
        "skin_tone",
        "-n",
        "4",
        "--out",
        str(out),
    ]
    monkeypatch.setattr("sys.argv", [*argv, "--value", "beige"])
    grid_script.main()  # type: ignore[attr-defined]
    printed = capsys.readouterr().out
    names = ("pale", "beige", "brown", "dark")  # the faces data's skin tones
    expected = {n: confusion[1][i] for i, n in enumerate(names)}  # the row of beige sources
    assert f"their translations into photo are read as {expected}" in printed
    assert "their true counterparts in photo are read as" in printed
    assert Image.open(out).size == (96 * 4, 3 * (96 + 14))  # four columns, no blank ones
    for bad, message in (
        ("--value", "--value must be one of"),
        ("--attribute", "--attribute must"),
    ):
        wrong = [*argv, "--value", "beige"]
        wrong[wrong.index(bad) + 1] = "spectacles"
        monkeypatch.setattr("sys.argv", wrong)
        with pytest.raises(SystemExit, match=message):
            grid_script.main()  # type: ignore[attr-defined]


def test_mirror_average_reads_eval_s_translations_and_their_mirror(
    run: Path, faces: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``benchmarks/mirror_average.py``: the plain translations score what eval scores, an
    untrained translator is not mirror-symmetric, and the code average is the decoder's drawing
    of the mean of the code and its mirror image's code mirrored back."""
    import torch

    from latentbridge.eval.evaluate import evaluator

    script = _diagnostic("mirror_average", monkeypatch)
    ev = evaluator(
        run, faces, device="cpu", classifier_steps=30, classifier_rounds=1, two_sample_steps=10
    )
    mean = ev.direction("photo", "cartoon")["attributes"]["accuracy"]["mean"]
    monkeypatch.setattr(
        "sys.argv", ["x", "--run", str(run), "--data", str(faces), "--device", "cpu"]
    )
    script.main()  # type: ignore[attr-defined]
    lines = capsys.readouterr().out.splitlines()
    plain = next(x for x in lines if x.startswith("photo->cartoon: preservation of x_ab "))
    assert plain.endswith(f"mean {mean:.3f}")
    gap = next(x for x in lines if x.startswith("photo->cartoon: mean |x_ab - x_ab_mirror|"))
    assert float(gap.split("|")[2].split()[0]) > 1e-3
    assert any(x.startswith("cartoon->photo: preservation of average") for x in lines)
    imgs, gen = ev.test["photo"].images, ev.pipe.gen
    with torch.no_grad():
        z = (gen.encode(imgs, "photo") + gen.encode(imgs.flip(-1), "photo").flip(-1)) / 2
        read = ev.clf["cartoon"].predict(gen.decode(z, "cartoon"))
    codes = next(x for x in lines if x.startswith("photo->cartoon: preservation of code_average"))
    labels = ev.test["photo"].labels
    assert codes.endswith(f"mean {(read == labels).float().mean():.3f}")


def test_mirror_average_has_no_code_average_for_a_vector_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A vector code has no mirror image: ``code_average`` answers None, not a flipped vector."""
    from types import SimpleNamespace

    script = _diagnostic("mirror_average", monkeypatch)
    cfg = SimpleNamespace(model=SimpleNamespace(latent="vector"))
    ev = SimpleNamespace(pipe=SimpleNamespace(cfg=cfg, gen=None))
    assert script.code_average(ev, torch.zeros(2, 3, 8, 8), "photo", "cartoon") is None  # type: ignore[attr-defined]


def test_train_gap_reads_the_test_split_as_eval_and_the_training_images_with_their_labels(
    run: Path,
    faces: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``benchmarks/train_gap.py``: the test split scores what eval scores; the training images
    are the first --train-images of the split, translated and read against their own labels;
    data without labels is refused."""
    import shutil

    from latentbridge.eval import metrics as M
    from latentbridge.eval.evaluate import evaluator
    from latentbridge.eval.labelled import load_split

    script = _diagnostic("train_gap", monkeypatch)
    ev = evaluator(
        run, faces, device="cpu", classifier_steps=30, classifier_rounds=1, two_sample_steps=10
    )
    argv = ["x", "--run", str(run), "--data", str(faces), "--device", "cpu"]
    monkeypatch.setattr("sys.argv", [*argv, "--train-images", "24"])
    script.main()  # type: ignore[attr-defined]
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4  # two directions, two splits
    for a, b in (("photo", "cartoon"), ("cartoon", "photo")):
        mean = ev.direction(a, b)["attributes"]["accuracy"]["mean"]
        test = next(x for x in lines if x.startswith(f"{a}->{b}: test "))
        assert f"  40 images: mean {mean:.3f} (" in test
        s = load_split(faces, "train", ev.pipe.size, ev.pipe.domains, limit=24)[a]
        read = ev.clf[b].predict(ev.pipe.translate(s.images, a, b))
        acc = M.attribute_accuracy(read, s.labels, ev.attrs.names)["mean"]
        train = next(x for x in lines if x.startswith(f"{a}->{b}: train "))
        assert f"  24 images: mean {acc:.3f} (" in train
    unlabelled = tmp_path / "unlabelled"
    shutil.copytree(faces, unlabelled)
    (unlabelled / "attributes.json").unlink()
    monkeypatch.setattr("sys.argv", ["x", "--run", str(run), "--data", str(unlabelled)])
    with pytest.raises(SystemExit, match="no attribute labels"):
        script.main()  # type: ignore[attr-defined]


def test_exposure_response_reads_the_translations_of_re_exposed_images(
    run: Path, faces: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``benchmarks/exposure_response.py``: an exposure of 1 changes nothing (no brightness
    change, no attribute read otherwise, the same preservation); a darker exposure darkens the
    sources and is reported per direction with eval's preservation beside it."""
    script = _diagnostic("exposure_response", monkeypatch)
    argv = ["x", "--run", str(run), "--data", str(faces), "--device", "cpu"]
    monkeypatch.setattr("sys.argv", [*argv, "--factors", "1,0.5"])
    script.main()  # type: ignore[attr-defined]
    lines = capsys.readouterr().out.splitlines()
    same = next(x for x in lines if x.startswith("photo->cartoon exposure x1:"))
    assert abs(float(same.split("source brightness ")[1].split(",")[0])) < 1e-4
    assert "response n/a" in same  # the gamma round trip moves no brightness to divide by
    assert "mean |x_ab' - x_ab| 0.0000" in same
    assert "changed skin_tone 0.000 hair_color 0.000 glasses 0.000 hair_length 0.000" in same
    assert "difference +0.000" in same
    dark = next(x for x in lines if x.startswith("cartoon->photo exposure x0.5:"))
    shift = float(dark.split("source brightness ")[1].split(",")[0])
    assert shift < -0.05
    assert "response " in dark and "preservation " in dark


def test_code_variance_reads_how_much_of_a_code_the_attributes_explain(
    run: Path, faces: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``benchmarks/code_variance.py``: codes that are a function of the classes are explained
    whole, codes of pure noise about as much as chance says, and the script prints a line per
    labelled domain of a run."""
    script = _diagnostic("code_variance", monkeypatch)
    gen = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 3, (400, 2), generator=gen)
    table = torch.randn(2, 3, 5, generator=gen)
    coded = table[0, labels[:, 0]] + table[1, labels[:, 1]]  # (400, 5), additive in the classes
    assert script.explained(coded, labels, [3, 3]) == pytest.approx(1.0)  # type: ignore[attr-defined]
    noise = torch.randn(400, 50, generator=gen)
    chance = 4 / 399  # two attributes of three classes: four columns besides the intercept
    r2 = script.explained(noise, labels, [3, 3])  # type: ignore[attr-defined]
    assert abs(r2 - chance) < 0.005
    half = coded + noise[:, :5] * coded.std(0)  # as much noise as signal in every coordinate
    assert 0.4 < script.explained(half, labels, [3, 3]) < 0.6  # type: ignore[attr-defined]
    monkeypatch.setattr(
        "sys.argv", ["x", "--run", str(run), "--data", str(faces), "--device", "cpu"]
    )
    script.main()  # type: ignore[attr-defined]
    printed = capsys.readouterr().out
    assert "photo:" in printed and "cartoon:" in printed and "the attributes explain" in printed


def _code_lines(
    script: object,
    run: Path,
    faces: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> list[str]:
    """Run a code diagnostic (code_moments, code_snap) on the fixture's run, banks of 40 training
    images per domain; return its line per direction, each checked to hold the preservation
    and its paired interval."""
    argv = ["x", "--run", str(run), "--data", str(faces), "--device", "cpu", "--fit-images", "40"]
    monkeypatch.setattr("sys.argv", argv)
    script.main()  # type: ignore[attr-defined]
    lines = capsys.readouterr().out.splitlines()
    found = []
    for key in ("photo->cartoon", "cartoon->photo"):
        line = next(x for x in lines if x.startswith(f"{key}: domain probe"))
        assert "preservation" in line and "paired 95 % interval" in line
        found.append(line)
    return found


def test_code_moments_moves_codes_to_the_target_domains_moments(
    run: Path, faces: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``benchmarks/code_moments.py``: moved codes have the target's mean and spread in every
    coordinate, a linear domain probe that reads the plain codes perfectly reads the moved ones
    at chance, codes moved onto their own moments stay where they were, and the script prints
    a line per direction of a run."""
    script = _diagnostic("code_moments", monkeypatch)
    gen = torch.Generator().manual_seed(0)
    source = torch.randn(600, 4, 2, 2, generator=gen) * 0.5 + 3.0  # a's codes: shifted, narrow
    target = torch.randn(600, 4, 2, 2, generator=gen) * 2.0 - 1.0
    fit_s, fit_t = script.moments(source), script.moments(target)  # type: ignore[attr-defined]
    z = script.moved(source, fit_s, fit_t)  # type: ignore[attr-defined]
    assert torch.allclose(z.mean(0), fit_t[0], atol=1e-4)
    assert torch.allclose(z.std(0), fit_t[1], atol=1e-4)
    assert M.domain_probe_accuracy(source, target) > 0.99
    assert abs(M.domain_probe_accuracy(z, target) - 0.5) < 0.08
    same = script.moved(target, fit_t, fit_t)  # type: ignore[attr-defined]
    assert torch.allclose(same, target, atol=1e-5)
    constant = torch.zeros(10, 3)  # a coordinate with no spread keeps its offset
    ones = (torch.ones(3), torch.ones(3))
    flat = script.moved(constant + 1.0, script.moments(constant), ones)  # type: ignore[attr-defined]
    assert torch.allclose(flat, torch.full((10, 3), 2.0))
    for line in _code_lines(script, run, faces, monkeypatch, capsys):
        assert "paired retrieval top-1" in line  # the faces fixture's test split is paired


def test_code_snap_replaces_each_place_by_the_target_domains_nearest_vectors(
    run: Path, faces: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``benchmarks/code_snap.py``: codes that are in the bank come back unchanged; each place
    takes the nearest vector the bank has at that place (or, with ``anywhere``, at any place)
    and ``k`` averages the k nearest; the script prints a line per direction of a run."""
    script = _diagnostic("code_snap", monkeypatch)
    gen = torch.Generator().manual_seed(0)
    bank = torch.randn(50, 3, 2, 2, generator=gen)
    assert torch.equal(script.snapped(bank[:7], bank), bank[:7])  # type: ignore[attr-defined]
    near = bank[:7] + 1e-3 * torch.randn(7, 3, 2, 2, generator=gen)
    assert torch.allclose(script.snapped(near, bank), bank[:7])  # type: ignore[attr-defined]
    # two bank codes: place (0, 0) holds 0 or 10 in every channel, place (1, 1) holds 100
    two = torch.zeros(2, 3, 2, 2)
    two[1, :, 0, 0], two[:, :, 1, 1] = 10.0, 100.0
    query = torch.full((1, 3, 2, 2), 99.0)
    same = script.snapped(query, two)  # type: ignore[attr-defined]
    assert float(same[0, 0, 0, 0]) == 10.0 and float(same[0, 0, 1, 1]) == 100.0
    anywhere = script.snapped(query, two, anywhere=True)  # type: ignore[attr-defined]
    assert torch.equal(anywhere, torch.full((1, 3, 2, 2), 100.0))
    both = script.snapped(query, two, k=2)  # type: ignore[attr-defined]
    assert float(both[0, 0, 0, 0]) == 5.0
    assert len(_code_lines(script, run, faces, monkeypatch, capsys)) == 2


def test_photo_factors_holds_each_kind_of_variation_and_reads_the_translations(
    run: Path, faces: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``benchmarks/photo_factors.py``: no patch renders the benchmark's photos exactly; a flat
    background under a clean camera leaves the corners one colour; the held pose centres every
    head the same way; the renderer is restored after each variant, even after an error; and
    the script prints a line per variant, each paired with the photos as rendered."""
    import importlib

    import numpy as np

    import latentbridge.data.faces_photo as photo

    script = _diagnostic("photo_factors", monkeypatch)
    factors = importlib.import_module("_factors")
    attrs = {
        "skin_tone": np.array([0, 1, 2, 3]),
        "hair_color": np.array([0, 2, 3, 4]),
        "glasses": np.array([1, 0, 1, 0]),
        "hair_length": np.array([0, 0, 1, 0]),
    }
    render, variants = script.render, script.VARIANTS  # type: ignore[attr-defined]
    combined, patched = factors.combined, factors.patched
    plain = render(attrs, 32, 3, {})
    assert np.array_equal(plain, photo.render_photos(attrs, 32, np.random.default_rng(3)))
    flat = render(attrs, 32, 3, combined(variants["flat background"], variants["clean camera"]))
    corners = flat[:, :3, :3].reshape(4, -1, 3).astype(int)
    assert (corners.max(1) - corners.min(1)).max() <= 1  # one colour (up to rounding)
    plain_corners = plain[:, :3, :3].reshape(4, -1, 3).astype(int)
    assert (plain_corners.max(1) - plain_corners.min(1)).max() > 3
    drawn = photo._scene(np.random.default_rng(0), 4, 32)
    held = variants["frontal pose"]["_scene"](photo._scene)(np.random.default_rng(0), 4, 32)
    assert drawn.cx.std() > 0 and held.cx.std() == 0 and (held.yaw == 0).all()
    assert np.array_equal(held.light, drawn.light)  # the light is left as drawn
    original = photo._scene
    with pytest.raises(RuntimeError), patched(photo, variants["frontal pose"]):
        assert photo._scene is not original
        raise RuntimeError
    assert photo._scene is original
    monkeypatch.setattr(
        "sys.argv", ["x", "--run", str(run), "--data", str(faces), "--device", "cpu"]
    )
    script.main()  # type: ignore[attr-defined]
    out = capsys.readouterr().out.splitlines()
    lines = [x for x in out if "photo->cartoon" in x]
    assert len(lines) == 7 and "(" in lines[1] and " to " in lines[1]
    assert lines[-1].strip().startswith("all held") and "untranslated" in lines[-1]
    printed = _diagnostic("printed_factors", monkeypatch)  # a faces run is not a digits one
    with pytest.raises(SystemExit, match="not a digits benchmark"):
        printed.main()  # type: ignore[attr-defined]
    assert lines[0].strip().startswith("as rendered") and " to " not in lines[0]
    frames = [x for x in out if x.startswith("glasses read on the cartoons of wearers")]
    assert len(frames) == 1 and "non-wearers" in frames[0]
    counts = [int(c) for c in re.findall(r" of (\d+)", frames[0])]
    subjects = (faces / "test" / "photo" / "labels.csv").read_text().splitlines()[1:]
    assert sum(counts) == len(subjects)  # every test subject in one group
    # known answers: a cartoon classifier that reads exactly the subjects' glasses, then one
    # that reads glasses on everyone (the translator the identity: only the reading counts)
    from types import SimpleNamespace

    names = ["skin_tone", "hair_color", "glasses", "hair_length"]
    gen = SimpleNamespace(encode=lambda v, d: v, decode=lambda z, d: z)
    for reads, wearers, others in (
        (attrs["glasses"], "1.00", "0.00"),
        (np.ones(4), "1.00", "1.00"),
    ):
        column = torch.as_tensor(reads, dtype=torch.long)
        clf = SimpleNamespace(predict=lambda x, c=column: torch.stack([c * 0, c * 0, c, c * 0], 1))
        ev = SimpleNamespace(
            pipe=SimpleNamespace(size=32, gen=gen, device=torch.device("cpu")),
            attrs=SimpleNamespace(names=names),
            clf={"cartoon": clf},
        )
        line = script.glasses_by_frame(ev, attrs, 3)  # type: ignore[attr-defined]
        rates = re.findall(r"(\d\.\d\d) of", line)
        assert rates[:-1] == [wearers] * (len(rates) - 1) and rates[-1] == others, line


def test_printed_factors_holds_each_kind_of_variation_and_reads_the_translations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``benchmarks/printed_factors.py``: no patch renders the benchmark's printed digits
    exactly; white on black and black on white give those colours on a flat background; the
    light-ink variant swaps only colours whose ink is the darker; without neighbours the
    image's sides hold no ink; and the script prints a line per variant for a digits run."""
    import importlib

    import numpy as np

    import latentbridge.data.digits as digits

    script = _diagnostic("printed_factors", monkeypatch)
    factors = importlib.import_module("_factors")
    render, variants = script.render, script.VARIANTS  # type: ignore[attr-defined]
    plain, labels = render(16, 3, 40, {})
    again, same = digits.render_printed(16, np.random.default_rng(3), 40)
    assert np.array_equal(plain, again) and labels[:, 0].tolist() == same.tolist()
    flat = variants["flat background"]
    for name, level in (("white on black", 0), ("black on white", 255)):
        images, held = render(16, 3, 40, factors.combined(variants[name], flat))
        assert held.tolist() == labels.tolist()  # the same digits, whatever the colours
        corners = images[:, :2, :2].astype(float)  # background, up to the renderer's grain
        assert np.abs(corners - level).mean() < 8
    swap = script._light_ink  # type: ignore[attr-defined]
    light, dark = np.full(3, 200.0), np.full(3, 20.0)
    assert [c[0] for c in swap(lambda rng: (light, dark))(None)] == [20.0, 200.0]
    assert [c[0] for c in swap(lambda rng: (dark, light))(None)] == [20.0, 200.0]
    alone = factors.combined(variants["white on black"], flat, variants["no neighbours"])

    def sides(images: np.ndarray) -> np.ndarray:
        """Each image's brightest value in its two leftmost and two rightmost columns."""
        return images[:, :, [0, 1, -2, -1]].astype(float).max(axis=(1, 2, 3))

    with_neighbours, _ = render(16, 3, 40, factors.combined(variants["white on black"], flat))
    assert (sides(with_neighbours) > 128).mean() > 0.5  # neighbours reach the sides
    assert (sides(render(16, 3, 40, alone)[0]) > 128).mean() < 0.1
    data = digits.generate_digits(tmp_path / "digits", domains=["mnist", "printed"], size=16)
    out = tmp_path / "run"
    args = ["train", "--data", str(data), "--out", str(out), "--method", "bridge"]
    assert main([*args, "--steps", "2", "--device", "cpu", "--no-progress", *SETS]) == 0
    png = tmp_path / "grid.png"
    argv = ["x", "--run", str(out), "--data", str(data), "--device", "cpu", "-n", "30"]
    monkeypatch.setattr("sys.argv", [*argv, "--grid", str(png)])
    script.main()  # type: ignore[attr-defined]
    lines = [x for x in capsys.readouterr().out.splitlines() if "printed->mnist" in x]
    assert len(lines) == 8 and lines[-1].strip().startswith("all held")
    assert " to " in lines[1] and "untranslated" in lines[1]
    with Image.open(png) as sheet:  # 8 variants, two rows of twelve 16-px images each, doubled
        assert sheet.size == (2 * (12 * 18 + 2), 2 * (16 * 18 + 2))
    faces = _diagnostic("photo_factors", monkeypatch)  # a digits run is not a faces one
    monkeypatch.setattr("sys.argv", argv[:-2])  # without -n, which only printed_factors takes
    with pytest.raises(SystemExit, match="not a faces benchmark"):
        faces.main()  # type: ignore[attr-defined]


def test_paired_oracle_learns_the_pairs_and_writes_a_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``benchmarks/paired_oracle.py``: on domains where each B image is its A image's negative
    (same file name), the translation A→B trained against the pairs, with or without the GAN,
    comes far closer to the negative than the untrained networks do, in a run folder ``latentbridge.load`` reads at the
    steps asked; ``--weight 0`` leaves the networks as they were, ``--method`` picks the preset;
    folders whose file names do not pair up are refused."""
    import numpy as np

    import latentbridge
    from latentbridge import config as C

    rng = np.random.default_rng(0)
    data = tmp_path / "pairs"
    for name in ("A", "B"):
        (data / name).mkdir(parents=True)
    for i in range(12):  # 4 x 4 blocks of random colour, blown up to 16 px
        a = (rng.random((4, 4, 3)) * 255).astype(np.uint8).repeat(4, 0).repeat(4, 1)
        Image.fromarray(a).save(data / "A" / f"{i:02d}.png")
        Image.fromarray(255 - a).save(data / "B" / f"{i:02d}.png")
    script = _diagnostic("paired_oracle", monkeypatch)
    sets = [*SETS, "--set", "train.ema=0"]

    def distance(steps: int, *more: str) -> float:
        out = tmp_path / f"run{steps}{''.join(more)}"
        argv = ["x", "--pairs", str(data), "--out", str(out), "--steps", str(steps), *sets, *more]
        monkeypatch.setattr("sys.argv", argv)
        script.main()  # type: ignore[attr-defined]
        pipe = latentbridge.load(out, device="cpu")
        assert pipe.step == steps
        a = [Image.open(data / "A" / f"{i:02d}.png") for i in range(12)]
        b = [Image.open(data / "B" / f"{i:02d}.png") for i in range(12)]
        translated = np.stack([np.asarray(t, float) for t in pipe.translate(a, "A", "B")])
        return float(np.abs(translated - np.stack(b).astype(float)).mean())

    untrained = distance(0)
    assert distance(300) < 0.5 * untrained
    assert distance(300, "--gan", "1") < 0.5 * untrained  # the discriminators' step runs too
    assert "300 steps" in capsys.readouterr().out
    # --weight scales the L1 terms: at 0, with no GAN, nothing moves the networks
    assert distance(20, "--weight", "0") == pytest.approx(untrained, rel=1e-6)
    distance(1, "--method", "cogan")  # --method picks the preset whose networks train
    saved = C.load_yaml(tmp_path / "run1--methodcogan" / "config.yaml")
    assert saved["method"] == "cogan" and not saved["sharing"]["full"]
    (data / "B" / "00.png").rename(data / "B" / "zz.png")
    with pytest.raises(SystemExit, match="same file names"):
        distance(1)


def test_contrastive_teacher_writes_a_teacher_and_reads_it_across_domains(
    faces: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``benchmarks/contrastive_teacher.py``: nearest-neighbour agreement is 1 for features
    that are the labels and the label frequencies' overlap by chance; a few steps on a faces
    benchmark write a TorchScript network ``loss.teacher_net`` loads, and one line per
    direction with each attribute's agreement beside chance."""
    import torch

    from latentbridge.train.objectives import load_teacher

    script = _diagnostic("contrastive_teacher", monkeypatch)
    labels = torch.tensor([[0, 1], [1, 0], [2, 1], [0, 0]])
    onehot = torch.cat([torch.nn.functional.one_hot(labels[:, k], 3) for k in (0, 1)], 1).float()
    agree = script.neighbour_agreement(onehot, onehot.flip(0), labels, labels.flip(0))  # type: ignore[attr-defined]
    assert agree.tolist() == [1.0, 1.0]
    chance = script.chance_agreement(labels, labels, [3, 2])  # type: ignore[attr-defined]
    assert chance.tolist() == pytest.approx([0.5**2 + 0.25**2 + 0.25**2, 0.5])
    out = tmp_path / "teacher.ts"
    argv = ["x", "--data", str(faces), "--out", str(out), "--size", "16", "--steps", "2"]
    monkeypatch.setattr("sys.argv", [*argv, "--batch", "8"])
    script.main()  # type: ignore[attr-defined]
    teacher = load_teacher(str(out))
    assert teacher(torch.zeros(3, 3, 16, 16)).shape == (3, 128)
    lines = [x for x in capsys.readouterr().out.splitlines() if "nearest" in x]
    heads = ["cartoon->photo features", "cartoon->photo pixels", "photo->cartoon features"]
    assert [x.split(":")[0] for x in lines] == [*heads, "photo->cartoon pixels"]
    assert "glasses" in lines[0] and "(chance 0." in lines[0]
    monkeypatch.setattr("sys.argv", ["x", "--data", str(faces), "--size", "16", "--load", str(out)])
    script.main()  # type: ignore[attr-defined]
    assert capsys.readouterr().out.splitlines() == lines  # the same network, the same reading
    flat = tmp_path / "flat"  # a folder per domain, no labels, no test split
    for d, colour in (("A", 40), ("B", 200)):
        (flat / d).mkdir(parents=True)
        for i in range(4):
            Image.new("RGB", (16, 16), (colour + 10 * i, colour, 255 - colour)).save(
                flat / d / f"{i}.png"
            )
    monkeypatch.setattr("sys.argv", [*argv[:2], str(flat), "--out", str(out), "--steps", "1"])
    script.main()  # type: ignore[attr-defined]
    assert "has no labelled test split" in capsys.readouterr().out
    monkeypatch.setattr("sys.argv", ["x", "--data", str(flat)])
    with pytest.raises(SystemExit):  # neither --out nor --load
        script.main()  # type: ignore[attr-defined]
