"""What `nnbench verify` found, as a table, a summary for REPORT.md and two charts.

- the table: one row per implementation, preset and dtype: the status, the largest relative
  error of the judged quantities against the tolerance, the weights' drift at the end of the
  drift run, and the first problem;
- the heatmap (`verify_heatmap.png`): per implementation and preset, the largest error as a
  share of the tolerance (worst of the dtypes), on a log colour scale; cells it does not
  support are grey, a mismatch or failure is marked;
- the drift chart (`verify_drift.png`): float64 and float32 side by side, per implementation
  the largest relative difference of the weights from numpy's at each checkpoint epoch (the
  worst over the presets that reached it), log-log.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm

from .charts import DTYPE_COLOURS, LINESTYLES, MARKERS, save  # charts sets the Agg backend
from .tables import markdown_table
from .verify import FAILED, MISMATCH, OK, UNSUPPORTED, Finding, counts_text

CHARTS = ("verify_heatmap.png", "verify_drift.png")
FLOOR = 1e-18  # an error of exactly 0 is drawn here on a log scale


def frame(findings: list[Finding]) -> pd.DataFrame:
    """One row per finding: who, where, status, largest error, tolerance, drift, problem."""
    return pd.DataFrame([{
        "implementation": f.impl, "preset": f.preset, "dtype": f.dtype, "status": f.status,
        "largest error": f.largest if f.status in (OK, MISMATCH) else np.nan,
        "tolerance": f.tolerance,
        "drift": f.drift_weights[-1] if f.drift_weights else np.nan,
        "epochs": f"{f.epochs:,} of {f.preset_epochs:,}" if f.drift_epochs else "",
        "problem": f.problem,
    } for f in findings])


def text_table(findings: list[Finding]) -> str:
    """The table `nnbench verify` prints."""
    table = frame(findings)
    if table.empty:
        return "(nothing verified)"
    for column in ("largest error", "tolerance", "drift"):
        table[column] = table[column].map(lambda v: "" if pd.isna(v) else f"{v:.2g}")
    long = table["problem"].str.len() > 90  # the whole of the first one goes to stderr
    table.loc[long, "problem"] = table.loc[long, "problem"].str.slice(0, 89) + "…"
    return table.to_string(index=False)


def markdown_summary(findings: list[Finding], command: str) -> list[str]:
    """REPORT.md's section: the counts, a table per implementation, every problem."""
    if not findings:
        return []
    rows = []
    for (impl, dtype), group in pd.DataFrame([vars(f) for f in findings]).groupby(
            ["impl", "dtype"], sort=False):
        declined = group["status"] == UNSUPPORTED
        if declined.all():
            continue  # listed under "Not supported" below
        judged = group[group["status"].isin([OK, MISMATCH])]
        drifts = [drift[-1] for drift in group["drift_weights"] if drift]
        rows.append({
            "implementation": impl, "dtype": dtype,
            "agree": f"{(group['status'] == OK).sum()} of {(~declined).sum()}",
            "largest error": f"{judged['largest'].max():.2g}" if len(judged) else "",
            "tolerance": f"{judged['tolerance'].max():g}" if len(judged) else "",
            "weights' drift (largest, end of run)": f"{max(drifts):.2g}" if drifts else "",
            "not supported": ", ".join(group.loc[declined, "preset"]),
        })
    table = pd.DataFrame(rows)
    problems = [f"- **{f.impl}** {f.preset} {f.dtype}: {f.status}: {f.problem}"
                for f in findings if f.status in (MISMATCH, FAILED)]
    reasons = {}
    for f in findings:
        if f.status == UNSUPPORTED:
            reasons.setdefault((f.impl, f.problem), []).append(f"{f.preset} {f.dtype}")
    declined = [f"- {impl}: {reason} ({', '.join(places)})"
                for (impl, reason), places in reasons.items()]
    return ["## Equivalence (`nnbench verify`)", "",
            f"Every implementation against numpy from the same weights, on each preset's own "
            f"data (`{command}`): outputs, loss, gradients and the weights after a few steps, "
            f"held to the tolerance; and the drift of the weights over the preset's training "
            f"schedule, shown and not judged (docs/verify.md). {counts_text(findings)}.", "",
            markdown_table(table), "", *(["Disagreements:", "", *problems, ""] if problems
                                         else []),
            *(["Not supported:", "", *declined, ""] if declined else [])]


def chart_heatmap(findings: list[Finding], path: Path) -> Path | None:
    """The largest error over tolerance per implementation and preset (worst dtype)."""
    judged = [f for f in findings if f.status != UNSUPPORTED]
    if not judged:
        return None
    impls = list(dict.fromkeys(f.impl for f in findings))
    presets = list(dict.fromkeys(f.preset for f in findings))
    share = np.full((len(impls), len(presets)), np.nan)
    marks = []
    for f in judged:
        i, j = impls.index(f.impl), presets.index(f.preset)
        value = np.inf if f.status == FAILED else max(f.largest / f.tolerance, FLOOR)
        share[i, j] = np.nanmax([share[i, j], value])
        if f.status in (MISMATCH, FAILED):
            marks.append((j, i, "failed" if f.status == FAILED else "mismatch"))
    figure, axis = plt.subplots(figsize=(1.0 + 0.9 * len(presets), 1.2 + 0.45 * len(impls)))
    axis.set_facecolor("#d9d9d9")  # not supported
    finite = share[np.isfinite(share)]
    low = max(FLOOR, float(finite.min())) if finite.size else 1e-6
    shown = np.where(np.isinf(share), max(1.0, float(finite.max()) if finite.size else 1.0),
                     share)
    image = axis.imshow(np.ma.masked_invalid(shown), cmap="viridis", aspect="auto",
                        norm=LogNorm(vmin=min(low, 1e-6), vmax=max(1.0, np.nanmax(shown))))
    for j, i, label in marks:
        axis.text(j, i, label, ha="center", va="center", color="white", fontsize=7,
                  fontweight="bold")
    axis.set_xticks(range(len(presets)), presets, rotation=40, ha="right")
    axis.set_yticks(range(len(impls)), impls)
    figure.colorbar(image, ax=axis, label="largest relative error / tolerance (1 = the limit)")
    axis.set_title("Agreement with numpy (grey: not supported)")
    return save(figure, path)


def chart_drift(findings: list[Finding], path: Path) -> Path | None:
    """Per dtype, per implementation: the weights' largest relative difference by epoch."""
    drifted = [f for f in findings if f.drift_epochs]
    if not drifted:
        return None
    dtypes = [d for d in DTYPE_COLOURS if any(f.dtype == d for f in drifted)]
    impls = list(dict.fromkeys(f.impl for f in drifted))  # one colour and marker each
    figure, axes = plt.subplots(1, len(dtypes), figsize=(6.5 * len(dtypes), 4.5), squeeze=False)
    for axis, dtype in zip(axes[0], dtypes):
        worst: dict[str, dict[int, float]] = {}
        for f in drifted:
            if f.dtype == dtype:
                line = worst.setdefault(f.impl, {})
                for epoch, error in zip(f.drift_epochs, f.drift_weights):
                    line[epoch] = max(line.get(epoch, 0.0), error)
        for impl, line in worst.items():
            k, epochs = impls.index(impl), sorted(line)
            axis.plot(epochs, [max(line[e], FLOOR) for e in epochs], label=impl,
                      color=f"C{k % 10}", marker=MARKERS[k % len(MARKERS)], markersize=3,
                      linestyle=LINESTYLES[k // 10 % len(LINESTYLES)])
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("epoch of the preset's training")
        axis.set_ylabel("largest relative difference of the weights from numpy")
        axis.set_title(f"Drift, {dtype} (worst over the presets)")
        axis.grid(True, which="major", alpha=0.3)
        axis.legend(fontsize=7, ncol=2)
    return save(figure, path)


def draw(findings: list[Finding], directory: Path) -> list[Path]:
    """Both charts into `directory`; those with nothing to draw are left out."""
    drawn = [chart_heatmap(findings, Path(directory) / CHARTS[0]),
             chart_drift(findings, Path(directory) / CHARTS[1])]
    return [path for path in drawn if path is not None]
