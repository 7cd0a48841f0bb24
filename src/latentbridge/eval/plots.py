"""The report's and the comparison's plots, as inline PNGs: loss curves from a run's log,
attribute preservation per direction against its references, and a comparison per method."""

from __future__ import annotations

import base64
import io
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from latentbridge.train.log import read_log


def loss_plot(run: Path) -> str | None:
    """Loss curves (one line per term, summed over directions) as an inline PNG."""
    rows = read_log(run)
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for r in rows:
        for k, v in r.items():
            if k.count("/") == 2:
                phase, term, _ = k.split("/")
                series[f"{phase}/{term}"][r["step"]] += v
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
    for ax, phase in zip(axes, ("gen", "dis")):
        for name, s in sorted(series.items()):
            if name.startswith(phase):
                ax.plot(list(s), list(s.values()), label=name.split("/")[1], lw=1)
        ax.set_title(f"{phase} losses"), ax.set_xlabel("step")
        if ax.lines:
            ax.set_yscale("log")
            ax.legend(fontsize=7)
        else:  # e.g. a run that ended inside its auto-encoder warm-up: no discriminator steps
            ax.text(0.5, 0.5, "not logged", ha="center", va="center", transform=ax.transAxes)
    return fig_png(fig)


def fig_png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return png_uri(buf.getvalue())


def png_uri(png: bytes) -> str:
    """PNG bytes as a data URI, for an <img> of a self-contained page."""
    return "data:image/png;base64," + base64.b64encode(png).decode()


def preservation_plot(m: dict[str, Any]) -> str | None:
    """Attribute preservation per direction (with its 95 % interval over the test images),
    against chance, the untranslated source images (what copying the input scores) and the
    ceiling, as a PNG data URI; None where no direction has attributes."""
    fig = preservation_figure(m)
    return None if fig is None else fig_png(fig)


def preservation_figure(m: dict[str, Any]) -> Any:
    """The matplotlib figure of :func:`preservation_plot`: four bars per direction, the
    translated one with its interval as an error bar where ``metrics.json`` has one."""
    dirs = {k: v["attributes"] for k, v in m["directions"].items() if v["attributes"]}
    if not dirs:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(4, 2.2 * len(dirs)), 3.2))
    xs = np.arange(len(dirs))
    for off, key, label, colour in (
        (-0.3, "chance", "chance", "#bbb"),
        (-0.1, "untranslated", "untranslated", "#f9ab00"),
        (0.1, "accuracy", "translated", "#1a73e8"),
        (0.3, "ceiling", "ceiling", "#34a853"),
    ):
        vals = [(d.get(key) or {}).get("mean", 0) for d in dirs.values()]
        spans = [(d.get(f"{key}_interval") or {}).get("mean") for d in dirs.values()]
        err = None  # the translations' 95 % interval over the test images, where measured
        if all(spans):
            err = np.array([[v - s[0], s[1] - v] for v, s in zip(vals, spans, strict=True)]).T
        ax.bar(xs + off, vals, 0.2, label=label, color=colour, yerr=err, capsize=3)
    ax.set_xticks(xs, list(dirs)), ax.set_ylim(0, 1), ax.set_ylabel("mean attribute accuracy")
    ax.legend(fontsize=8)
    return fig


def preservation_references(results: dict[str, list[dict[str, Any]]]) -> dict[str, float]:
    """What attribute preservation a constant guess (chance) and the untranslated source images
    score, mean over directions: the same in every run on one dataset, so taken from the first
    run that has them."""
    names = {"chance_mean": "chance", "untranslated_mean": "the source images untranslated"}
    for ms in results.values():
        for m in ms:
            refs = {names[k]: m["summary"][k] for k in names if m["summary"].get(k) is not None}
            if refs:
                return refs
    return {}


def comparison_plot(results: dict[str, list[dict[str, Any]]]) -> str | None:
    """Attribute preservation and probe transfer per method (mean, with the spread over seeds),
    as a PNG data URI; None where no run has either."""
    fig = comparison_figure(results)
    return None if fig is None else fig_png(fig)


def comparison_figure(results: dict[str, list[dict[str, Any]]]) -> Any:
    """The matplotlib figure of :func:`comparison_plot`: a pair of bars per method, and the
    preservation that chance and the untranslated source images score as horizontal lines."""
    keys = ("attribute_preservation_mean", "attribute_probe_transfer_mean")
    if not any(m["summary"][k] is not None for ms in results.values() for m in ms for k in keys):
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(5, 1.2 * len(results)), 3.4))
    xs = np.arange(len(results))
    for off, key in zip((-0.2, 0.2), keys):
        vals = [[m["summary"][key] or 0 for m in ms] for ms in results.values()]
        ax.bar(
            xs + off,
            [np.mean(v) for v in vals],
            0.4,
            yerr=[np.std(v) for v in vals],
            label=key.replace("_mean", "").replace("_", " "),
        )
    for (name, value), style in zip(preservation_references(results).items(), (":", "--")):
        ax.axhline(value, color="#555", linestyle=style, linewidth=1, label=f"preservation: {name}")
    ax.set_xticks(xs, list(results), rotation=20), ax.set_ylim(0, 1), ax.legend(fontsize=8)
    return fig
