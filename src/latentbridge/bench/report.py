"""The bench's report: utilisation against the peaks, the machine's totals over data-parallel
ranks, and the plain-text table the command prints."""

from __future__ import annotations

from typing import Any

import torch


def utilisation(flops_per_s: float, peaks: dict[str, float], precision: str) -> dict[str, float]:
    """achieved / peak against the fp32 peak and against the peak of the precision used."""
    out = {"vs_fp32_peak": flops_per_s / peaks["fp32"]} if "fp32" in peaks else {}
    if precision in peaks:
        out["vs_precision_peak"] = flops_per_s / peaks[precision]
    return out


def combine_ranks(report: dict[str, Any]) -> dict[str, Any]:
    """The machine's report from every rank's own (a no-op outside ``torch.distributed``).

    Sums over ranks: peaks, FLOPs per step and FLOP/s of training and translation, translation
    images/s; the slowest rank's step time; the mean drift-matched utilisation. Utilisation is
    then recomputed from the sums, so it is machine FLOP/s against the machine's summed peak.
    """
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return report
    world = dist.get_world_size()

    def reduce(values: list[float], op: Any = dist.ReduceOp.SUM) -> list[float]:
        t = torch.tensor(values, dtype=torch.float64)
        dist.all_reduce(t, op=op)
        return t.tolist()

    peaks = report["peak_flops_per_s"]
    report["peak_flops_per_s"] = dict(zip(peaks, reduce(list(peaks.values())), strict=True))
    t = report["train"]
    t["flops_per_step"], t["flops_per_s"] = reduce([t["flops_per_step"], t["flops_per_s"]])
    (t["step_s"],) = reduce([t["step_s"]], dist.ReduceOp.MAX)
    matched = t["utilisation"].get("matched_fp32")
    precision = report["config"]["precision"]
    t["utilisation"] = utilisation(t["flops_per_s"], report["peak_flops_per_s"], precision)
    if matched is not None:
        t["utilisation"]["matched_fp32"] = reduce([matched])[0] / world
    for tr in report["translate"]:
        tr["flops_per_s"], tr["images_per_s"] = reduce([tr["flops_per_s"], tr["images_per_s"]])
        tr["utilisation"] = utilisation(tr["flops_per_s"], report["peak_flops_per_s"], precision)
    report["config"]["ranks"] = world
    return report


def _si(x: float, unit: str) -> str:
    """1.23e11 -> '123 G' + unit."""
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:.3g} {prefix}{unit}"
    return f"{x:.3g} {unit}"


def _pct(u: dict[str, float]) -> str:
    parts = [f"{u['vs_fp32_peak']:.0%} of fp32 peak"] if "vs_fp32_peak" in u else []
    if (
        "vs_precision_peak" in u
        and "vs_fp32_peak" in u
        and u["vs_precision_peak"] != u["vs_fp32_peak"]
    ):
        parts.append(f"{u['vs_precision_peak']:.0%} of its own")
    return ", ".join(parts) or "(no peak measured)"


def format_report(r: dict[str, Any]) -> str:
    """A plain-text table of :func:`run_bench`'s report."""
    m, c, t, d = r["machine"], r["config"], r["train"], r["data"]
    rows = [
        (
            "machine",
            f"{m['name']} ({m['device']}, {m['torch_threads']} threads, "
            f"load {m['loadavg_1min']:.2f}, torch {m['torch']})",
        ),
        (
            "run",
            f"{c['method']} {c['size']}px batch {c['batch_size']} {c['precision']}"
            + (f", compiled ({c['compile']})" if c.get("compile", "off") != "off" else "")
            + ", "
            f"{c['steps']} timed steps after {c['warmup']}"
            + (f", {c['ranks']} data-parallel ranks (machine totals)" if c["ranks"] > 1 else ""),
        ),
    ]
    for dtype, flops in r["peak_flops_per_s"].items():
        emulated = dtype == "bf16" and m.get("bf16") == "emulated"
        note = " (emulated; precision auto uses fp32 here)" if emulated else ""
        rows.append((f"matmul peak {dtype}", _si(flops, "FLOP/s") + note))
    rows += [
        ("train step", f"{t['step_s'] * 1e3:.1f} ms (median)"),
        ("train pairs/s", f"{t['pairs_per_s']:.1f}"),
        ("train FLOPs/step", _si(t["flops_per_step"], "FLOP")),
        ("train achieved", f"{_si(t['flops_per_s'], 'FLOP/s')} = {_pct(t['utilisation'])}"),
    ]
    if "matched_fp32" in t["utilisation"]:
        probes = t["probe_flops_per_s"]
        rows.append(
            (
                "train vs drift",
                f"{t['utilisation']['matched_fp32']:.0%} of the fp32 rate timed around each step "
                f"(median; bursts {_si(min(probes), '')}-{_si(max(probes), 'FLOP/s')})",
            )
        )
    for tr in r["translate"]:
        rows.append(
            (
                f"translate batch {tr['batch']}",
                f"{tr['images_per_s']:.1f} img/s, {tr['latency_ms']:.2f} ms/batch"
                + (
                    f" in chunks of {tr['chunk']}"
                    if tr.get("chunk", tr["batch"]) < tr["batch"]
                    else ""
                )
                + f", {_si(tr['flops_per_s'], 'FLOP/s')} = {_pct(tr['utilisation'])}",
            )
        )
    rows += [
        ("data decode", f"{d['decode_images_per_s']:.0f} img/s (from PNG folder)"),
        ("data batches", f"{d['batch_images_per_s']:.0f} img/s (cached, workers={d['workers']})"),
        ("step consumes", f"{d['consumed_images_per_s']:.0f} img/s"),
        ("compute share", f"{d['compute_fraction']:.1%} of training wall time"),
        ("peak memory", f"{r['peak_memory_mb']:.0f} MiB"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)
