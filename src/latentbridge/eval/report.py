"""``report.html``: one self-contained page (images inlined) with sample grids per direction,
metric tables, loss curves from the run's ``log.jsonl`` and plots."""

from __future__ import annotations

import html
import io
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from latentbridge.eval.evaluate import Evaluator
from latentbridge.eval.labelled import pairs_by_name
from latentbridge.eval.plots import loss_plot, png_uri, preservation_plot
from latentbridge.imaging import grid

STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}h2{border-bottom:1px solid #ddd;padding-bottom:4px}
img.grid{image-rendering:pixelated;max-width:100%}.note{color:#666;font-size:90%}
.good{background:#e6f4ea}.bad{background:#fce8e6}"""


def _png(image: np.ndarray | Image.Image, scale: int = 1) -> str:
    img = image if isinstance(image, Image.Image) else Image.fromarray(image)
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return png_uri(buf.getvalue())


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    return f"{v:.3f}" if isinstance(v, float) else html.escape(str(v))


def table_html(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def sample_grid(ev: Evaluator, a: str, b: str, n: int = 8) -> np.ndarray:
    """Rows: source x[a], translation x_ab, ground truth (paired sets), cycle x_aba."""
    sa, sb = ev.test[a], ev.test[b]
    ia, ib = pairs_by_name(sa, sb)
    paired = ev.attrs is not None and ev.attrs.paired_test and len(ia) >= 1
    idx = ia[:n] if paired else np.arange(min(n, len(sa.images)))
    x = sa.images[idx]
    x_ab = ev.x_ab[(a, b)][idx]
    rows = [x, x_ab]
    if paired:
        rows.append(sb.images[ib[:n]])
    import torch

    with torch.no_grad():
        dev = ev.pipe.device
        rows.append(ev.pipe.gen.cycle(x_ab.to(dev), x.to(dev), a, b).cpu())
    return grid(rows)


def _direction_html(ev: Evaluator, key: str, d: dict[str, Any]) -> str:
    a, b = key.split("->")
    parts = [f"<h3>{html.escape(key)}</h3>"]
    rows = "source, translation" + (", ground truth" if d["paired"] else "") + ", cycle"
    parts.append(
        f'<p class="note">rows: {rows}</p><img class="grid" src="{_png(sample_grid(ev, a, b), 3)}">'
    )
    if d["attributes"]:
        parts += _attributes_html(ev, d["attributes"])
    realism = [
        ["KID", d["kid"]["mean"]],
        ["FID", d["fid"]],
        [f"two-sample accuracy (0.5 best; {ev.two_sample_steps} steps)", d["two_sample_accuracy"]],
        ["cycle L1", d["cycle_l1"]],
    ]
    if d["paired"]:
        realism += [["paired L1", d["paired"]["l1"]], ["paired SSIM", d["paired"]["ssim"]]]
    parts.append(table_html(["metric", "value"], realism))
    return "\n".join(parts)


def _attributes_html(ev: Evaluator, at: dict[str, Any]) -> list[str]:
    """A direction's preservation per attribute beside its interval, ceilings, the untranslated
    source and chance; then its confusion counts and its accuracy per group."""
    parts: list[str] = []
    names = [k for k in at["accuracy"] if k != "mean"] + ["mean"]
    soft = at.get("ceiling_blurred") or {}
    copy = at.get("untranslated") or {}
    span = at.get("accuracy_interval") or {}
    rows_ = [
        [
            n,
            at["accuracy"][n],
            f"{span[n][0]:.3f}–{span[n][1]:.3f}" if n in span else None,
            (at["ceiling"] or {}).get(n),
            soft.get(n),
            copy.get(n),
            at["chance"].get(n),
        ]
        for n in names
    ]
    head = [
        "attribute",
        "preserved",
        "95 % interval (test images)",
        "ceiling (real)",
        "ceiling (real, blurred)",
        "untranslated source",
        "chance",
    ]
    parts.append(table_html(head, rows_))
    if at.get("confusion"):
        parts.append(_confusion_html(at["confusion"], ev.attrs.classes if ev.attrs else None))
    if at.get("by_group") and ev.attrs is not None:
        parts.append(
            _by_group_html(
                at["by_group"], at.get("ceiling_by_group"), ev.attrs.names, ev.attrs.classes
            )
        )
    return parts


def _confusion_html(confusion: dict[str, list[list[int]]], classes: list[list[str]] | None) -> str:
    """One small table per attribute: rows the source's class, columns what the target's
    classifier reads on the translation (folded: details a reader opens when a number is low)."""
    tables = []
    for k, (name, counts) in enumerate(confusion.items()):
        labels = classes[k] if classes and len(classes[k]) == len(counts) else None
        labels = labels or [str(i) for i in range(len(counts))]
        rows = [[labels[i], *row] for i, row in enumerate(counts)]
        tables.append(
            f"<p>{html.escape(name)}</p>" + table_html(["source \\ read as", *labels], rows)
        )
    body = "".join(tables)
    return f"<details><summary>how each attribute was read (counts)</summary>{body}</details>"


def _by_group_html(
    by_group: dict[str, dict[str, list[float | None]]],
    ceiling: dict[str, dict[str, list[float | None]]] | None,
    names: list[str],
    classes: list[list[str]] | None,
) -> str:
    """Per attribute that splits the test subjects, a table: rows the other attributes, columns
    that attribute's classes (of the source), cells the accuracy within the group and, in
    brackets, the classifier's on the same group of real target images (folded)."""

    def cell(name: str, other: str, c: int) -> str:
        v = by_group[name][other][c]
        real = ceiling[name][other][c] if ceiling and name in ceiling else None
        return _fmt(v) + (f" ({_fmt(real)})" if real is not None else "")

    tables = []
    for j, other in enumerate(names):
        rows = [
            [name, *(cell(name, other, c) for c in range(len(by_group[name][other])))]
            for name in names
            if other in by_group.get(name, {})
        ]
        if not rows:
            continue
        n = len(rows[0]) - 1
        labels = classes[j] if classes and len(classes[j]) == n else [str(c) for c in range(n)]
        tables.append(
            f"<p>by {html.escape(other)}</p>"
            + table_html(["preserved (real) \\ source's class", *labels], rows)
        )
    body = "".join(tables)
    return (
        "<details><summary>who loses what: accuracy per group of subjects (in brackets the "
        f"classifier's on real images of the group)</summary>{body}</details>"
    )


def _latent_html(m: dict[str, Any]) -> str:
    rows = []
    for pair, v in m["latent"].items():
        transfer = v["attribute_probe_transfer"] or {}
        for direction, t in transfer.items() or [("", None)]:
            rows.append(
                [
                    f"{pair} {direction}",
                    v["domain_probe_accuracy"],
                    t["within"]["mean"] if t else None,
                    t["transfer"]["mean"] if t else None,
                    v["retrieval_top1"],
                ]
            )
        if not transfer:
            rows.append([pair, v["domain_probe_accuracy"], None, None, v["retrieval_top1"]])
    head = [
        "pair",
        "domain probe (0.5 = aligned)",
        "attr. probe within",
        "attr. probe transfer",
        "retrieval top-1",
    ]
    return table_html(head, rows)


def _classifier_note(classifiers: dict[str, dict[str, Any]]) -> str:
    """One line on how each evaluation classifier was trained (steps, held-out accuracy)."""
    if not classifiers:
        return ""
    items = []
    for d, r in classifiers.items():
        held = r.get("holdout_accuracy") or []
        acc = f", held-out accuracy {held[-1]:.3f}" if held else ""
        items.append(f"{html.escape(d)}: {r.get('steps')} steps in {r.get('rounds')} round(s){acc}")
    return f"<p class='note'>evaluation classifiers — {'; '.join(items)}</p>"


def _summary_value(v: Any) -> Any:
    """A summary entry as the table shows it: a number, or per direction a number or an
    interval ``[low, high]``."""
    if not isinstance(v, dict):
        return v
    cell = {
        a: f"{b[0]:.3f}–{b[1]:.3f}" if isinstance(b, list) else f"{b:.3f}" for a, b in v.items()
    }
    return ", ".join(f"{a}: {b}" for a, b in cell.items())


def write_report(m: dict[str, Any], ev: Evaluator, run: Path, path: Path) -> None:
    """Write the self-contained HTML report of metrics ``m``."""
    s = m["summary"]
    parts = [
        f"<!doctype html><meta charset='utf-8'><title>latentbridge report: {html.escape(m['method'])}</title>",
        f"<style>{STYLE}</style><h1>{html.escape(m['method'])} — step {m['step']}</h1>",
        f"<p class='note'>run {html.escape(m['run'])}; data {html.escape(m['data'])} ({m['split']} split, "
        f"{m['n_images']}); realism features: {html.escape(m['feature_network'])}</p>",
        _classifier_note(m.get("classifiers") or {}),
        "<h2>Summary</h2>",
        table_html(
            ["metric", "value"],
            [[k.replace("_", " "), _summary_value(v)] for k, v in s.items()],
        ),
    ]
    plot = preservation_plot(m)
    if plot:
        parts.append(f"<img src='{plot}'>")
    parts.append("<h2>Directions</h2>")
    parts += [_direction_html(ev, k, d) for k, d in m["directions"].items()]
    parts += ["<h2>Latent alignment</h2>", _latent_html(m), "<h2>Reconstruction</h2>"]
    kept = m.get("reconstruction_attributes") or {}
    parts.append(
        table_html(
            ["domain", "reconstruction L1", "attributes kept by the reconstruction (mean)"],
            [
                [d, v, kept[d]["mean"] if kept.get(d) else "—"]
                for d, v in m["reconstruction_l1"].items()
            ],
        )
    )
    curves = loss_plot(run)
    parts += ["<h2>Training</h2>", f"<img src='{curves}'>" if curves else "<p>no training log</p>"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts))
