"""Every chart of the report (matplotlib, PNG files only), the claims' charts included.

`draw_charts` draws them all, from a run's frames (bench/tables.py) and its claims findings,
into one directory, and says which it drew (the fixed cost's charts with them: they are
drawn by bench/fixed_cost.py, with this module's helpers); REPORT.md's sections only link
them. Each chart function returns its file, or None (False for the claims' charts) when it
has nothing to draw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import (  # noqa: E402
    EngFormatter,
    LogLocator,
    MaxNLocator,
    NullFormatter,
    ScalarFormatter,
)

from .files import replacing  # noqa: E402
from .formatting import bytes_text, ratio_text, seconds_text, share_text  # noqa: E402
from .results import OPS, Info, Kind, Verified  # noqa: E402
from .tables import (  # noqa: E402
    REFERENCE_VARIANT,
    STEP_PARTS,
    Frames,
    cold_starts,
    fitted_slope,
    sweep_points,
)
from .verdicts import NOT_RUN  # noqa: E402
from .workloads import NETWORKS, SWEEP_NETWORK  # noqa: E402

DTYPE_COLOURS = {"float64": "#3b75af", "float32": "#ef8636"}
MARKERS = "osD^vP*Xh<>p"
LINESTYLES = ("-", "--", "-.", ":")


def save(figure, path) -> Path:
    """Save `figure` as a PNG through a temporary file (see bench/files.py), and close it."""
    path = Path(path)
    with replacing(path) as temporary:
        figure.savefig(temporary, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path


# ---- the run's charts ----


def chart_speed(table: pd.DataFrame, network: str, path: Path) -> Path | None:
    """Per network: time per sample of every variant and dtype, log scale, its 95% interval as
    a whisker, the ratio to the fastest written on each bar (unranked bars hatched, with the
    reason)."""
    data = table[(table[Info.NETWORK] == network)]
    ops = [op for op in OPS if (data[Info.OP] == op).any()]
    if not ops:
        return None
    heights = [max(1, (data[Info.OP] == op).sum()) for op in ops]
    figure, axes = plt.subplots(len(ops), 1, figsize=(9, 0.38 * sum(heights) + 1.6 * len(ops)),
                                gridspec_kw={"height_ratios": heights}, squeeze=False)
    for axis, op in zip(axes[:, 0], ops):
        rows = data[data[Info.OP] == op].iloc[::-1]
        labels = [f"{r.variant} {r.dtype}" for r in rows.itertuples()]
        times = rows["time_per_unit_s"].to_numpy(dtype=float)
        finite = times[np.isfinite(times)]
        floor = finite.min() / 3 if finite.size else 1e-6
        for y, row in enumerate(rows.itertuples()):
            value = row.time_per_unit_s
            if not np.isfinite(value):
                axis.text(floor, y, "  failed", va="center", fontsize=8, color="#b22222")
                continue
            axis.barh(y, value, left=0, color=DTYPE_COLOURS.get(row.dtype, "grey"),
                      hatch=None if row.ranked else "///", alpha=1 if row.ranked else 0.45,
                      edgecolor="white" if row.ranked else "black")
            low, high = getattr(row, "low_s", np.nan), getattr(row, "high_s", np.nan)
            if np.isfinite(low) and np.isfinite(high):
                axis.errorbar(value, y, xerr=[[value - low], [high - value]], fmt="none",
                              ecolor="black", elinewidth=0.8, capsize=2)
            end = high if np.isfinite(high) else value
            text = ratio_text(row.ratio) if row.ranked else "not ranked: " + (
                "mismatch" if row.verification == Verified.MISMATCH else f"at {row.shape}")
            axis.text(end * 1.08, y, text + ("=" if getattr(row, "tied", False) else ""),
                      va="center", fontsize=8)
        axis.set_yticks(range(len(labels)), labels, fontsize=8)
        axis.set_xscale("log")
        axis.set_xlim(floor, (finite.max() if finite.size else 1) * 30)
        axis.xaxis.set_major_formatter(EngFormatter(unit="s"))
        axis.set_title(f"{network}: {op}, time per sample (lower is better)", fontsize=10)
        axis.grid(axis="x", which="major", alpha=0.3)
    figure.tight_layout()
    return save(figure, path)


def chart_scaling(cases: pd.DataFrame, axis_name: str, path: Path, title: str, xlabel: str
                  ) -> Path | None:
    """Time per sample against `axis_name` (width or batch), log-log, one line per variant,
    its fitted slope in the legend."""
    if not (cases[Info.KIND] == axis_name).any():
        return None
    figure, axis = plt.subplots(figsize=(8, 5))
    for i, (variant, points) in enumerate(sweep_points(cases, axis_name)):
        x = points[axis_name].to_numpy(dtype=float)
        y = points["time_per_unit_s"].to_numpy(dtype=float)
        axis.plot(x, y, marker=MARKERS[i % len(MARKERS)], linestyle=LINESTYLES[i % 4],
                  label=f"{variant} (slope {fitted_slope(x, y):.2f})")
    axis.set_xscale("log", base=2)
    axis.set_yscale("log")
    axis.yaxis.set_major_formatter(EngFormatter(unit="s"))
    axis.set_xlabel(xlabel)
    axis.set_ylabel("time per sample")
    axis.set_title(title, fontsize=10)
    axis.grid(which="major", alpha=0.3)
    axis.legend(fontsize=8, loc="best")
    return save(figure, path)


def chart_memory(records: pd.DataFrame, path: Path) -> Path | None:
    """Peak memory of one training step against the hidden width, every variant probed; the
    Jacobian's own estimate of its long form and its budget beside it; refused widths marked."""
    if records.empty or Info.KIND not in records or not (records[Info.KIND] == Kind.MEMORY).any():
        return None
    memory = records[records[Info.KIND] == Kind.MEMORY]
    figure, axis = plt.subplots(figsize=(8, 5))
    for i, (variant, points) in enumerate(memory.groupby(Info.VARIANT, sort=True)):
        points = points.sort_values("width")
        ran = points[points[Info.REFUSED].fillna("") == ""]
        axis.plot(ran["width"], ran["peak_rss_bytes"], marker=MARKERS[i % len(MARKERS)],
                  label=f"{variant}: measured peak RSS")
        if "estimate_bytes" in points and points["estimate_bytes"].notna().any():
            axis.plot(points["width"], points["estimate_bytes"], linestyle="--", color="black",
                      label=f"{variant}: long-form estimate (one sample)")
            refused = points[points[Info.REFUSED].fillna("") != ""]
            axis.scatter(refused["width"], refused["estimate_bytes"], marker="x", s=80,
                         color="#b22222", zorder=3, label=f"{variant}: refused (over budget)")
            if "budget_bytes" in points and points["budget_bytes"].notna().any():
                axis.axhline(points["budget_bytes"].dropna().iloc[0], color="#b22222",
                             linestyle=":", label=f"{variant}: memory budget")
    axis.set_xscale("log", base=2)
    axis.set_yscale("log")
    axis.yaxis.set_major_formatter(EngFormatter(unit="B"))
    axis.set_xlabel("hidden width (MNIST 784-w-10)")
    axis.set_ylabel("bytes")
    axis.set_title("Memory of one training step against the hidden width", fontsize=10)
    axis.grid(which="major", alpha=0.3)
    axis.legend(fontsize=8, loc="upper left")
    return save(figure, path)


def chart_loss(cases: pd.DataFrame, path: Path) -> Path | None:
    """Training loss per epoch, every variant on one axis (numpy's as a wide grey band)."""
    curves = cases[cases[Info.KIND] == Kind.LOSS_CURVE]
    if curves.empty:
        return None
    figure, axis = plt.subplots(figsize=(8, 5))
    for i, row in enumerate(curves.sort_values(Info.VARIANT).itertuples()):
        loss = np.asarray(row.loss, dtype=float)
        epochs = np.arange(1, len(loss) + 1)
        style = ({"linewidth": 6, "alpha": 0.3, "color": "grey"}
                 if row.variant == REFERENCE_VARIANT else
                 {"marker": MARKERS[i % len(MARKERS)], "linestyle": LINESTYLES[i % 4],
                  "markersize": 5})
        axis.plot(epochs, loss, label=row.variant, **style)
    first = curves.iloc[0]
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel("epoch")
    axis.set_ylabel("training loss (categorical cross-entropy)")
    axis.set_title(f"Loss per epoch, MNIST {first['shape']} on {first[Info.SAMPLES]:.0f} "
                   f"samples, batch {first[Info.BATCH_SIZE]:.0f}, from the same weights",
                   fontsize=10)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    return save(figure, path)


def chart_cold_start(cases: pd.DataFrame, path: Path) -> Path | None:
    """Seconds from nothing to one trained mini-batch, per variant (and network), log scale;
    refused starts are left out."""
    cold = cold_starts(cases)
    if cold.empty:
        return None
    pivot = cold.pivot_table(index=Info.VARIANT, columns=Info.NETWORK, values="median_s")
    pivot = pivot.loc[pivot.max(axis=1).sort_values(ascending=False).index]
    figure, axis = plt.subplots(figsize=(8, 0.35 * len(pivot) * len(pivot.columns) + 1.5))
    pivot.plot.barh(ax=axis, logx=True, legend=len(pivot.columns) > 1,
                    color=[DTYPE_COLOURS["float64"], DTYPE_COLOURS["float32"]][:len(pivot.columns)])
    for container in axis.containers:
        axis.bar_label(container, labels=[seconds_text(v) for v in container.datavalues],
                       padding=3, fontsize=8)
    axis.set_xlim(right=pivot.max().max() * 4)
    axis.xaxis.set_major_formatter(EngFormatter(unit="s"))
    axis.set_xlabel("import + build + first training step, fresh process (lower is better)")
    axis.set_ylabel("")
    axis.set_title(f"Cold start ({', '.join(pivot.columns)})", fontsize=10)
    axis.grid(axis="x", alpha=0.3)
    return save(figure, path)


def chart_breakdown(breakdowns: dict[str, dict], path: Path) -> Path | None:
    """Per dtype, one bar: the step's time stacked by STEP_PARTS (a negative rest, when the
    phases alone took longer than the step, is drawn as nothing)."""
    if not breakdowns:
        return None
    figure, axis = plt.subplots(figsize=(9, 1.0 + 0.7 * len(breakdowns)))
    colours = ["#4c72b0", "#8fa9d6", "#dd8452", "#c44e52", "#999999"]
    for y, parts in enumerate(breakdowns.values()):
        left = 0.0
        for (key, label), colour in zip(STEP_PARTS.items(), colours):
            width = max(parts["split"][key], 0.0)
            axis.barh(y, width, left=left, color=colour, label=label if y == 0 else None)
            left += width
        axis.text(left, y, f"  {seconds_text(parts['step'])}, "
                  f"{share_text(parts['split']['ideal'] / parts['step'])} of the GEMM rate",
                  va="center", fontsize=8)
    axis.set_yticks(range(len(breakdowns)), list(breakdowns), fontsize=9)
    axis.xaxis.set_major_formatter(EngFormatter(unit="s"))
    axis.set_xlim(right=max(p["step"] for p in breakdowns.values()) * 1.45)
    first = next(iter(breakdowns.values()))
    axis.set_title(f"Where the time of one training step goes: numpy_vec, MNIST "
                   f"{first['shape']}, batch {first['batch']}", fontsize=10)
    axis.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=2)
    axis.grid(axis="x", alpha=0.3)
    return save(figure, path)


# ---- the claims' charts: each draws from the rows alone (a claims.json), or returns False ----


def write_charts(rows: list[dict], directory) -> list[tuple[str, str]]:
    """Every chart the claims rows allow, as PNG files in `directory`: [(caption, file name)].

    A chart needs its claim's rows with numbers: `value` for the accuracy claims, `data` for
    A2 and B2 (claims files written before `data` existed draw the accuracy chart only).
    """
    directory = Path(directory)
    drawn = []
    for name, draw, caption in CHARTS:
        if draw(rows, directory / name):
            drawn.append((caption, name))
    return drawn


ACCURACY_CLAIMS = {"A1": (0.92, 0.95), "B3": (0.86, 0.86), "A1+": (0.98, 0.98)}


def chart_accuracy(rows: list[dict], path) -> bool:
    """Test accuracy per implementation for A1, B3 and A1+, against the published figure."""
    measured = [r for r in rows if r["id"] in ACCURACY_CLAIMS and r["value"] is not None]
    if not measured:
        return False
    ids = [i for i in ACCURACY_CLAIMS if any(r["id"] == i for r in measured)]
    figure, axes = plt.subplots(1, len(ids), figsize=(4.5 * len(ids), 3.6), squeeze=False)
    for axis, claim_id in zip(axes[0], ids):
        block = [r for r in measured if r["id"] == claim_id]
        names = [r["impl"] for r in block]
        values = [100 * r["value"] for r in block]
        axis.bar(names, values, color="#4c72b0")
        low, high = ACCURACY_CLAIMS[claim_id]
        if low == high:
            axis.axhline(100 * low, color="#c44e52", linestyle="--", label=f"{100 * low:g}%")
        else:
            axis.axhspan(100 * low, 100 * high, color="#c44e52", alpha=0.2,
                         label=f"published {100 * low:g}-{100 * high:g}%")
        axis.set_ylim(min(values + [100 * low]) - 3, 100)
        axis.set_title(f"{claim_id}: test accuracy")
        axis.set_ylabel("%")
        axis.tick_params(axis="x", rotation=45)
        axis.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    save(figure, path)
    return True


def with_data(rows: list[dict], claim_id: str) -> list[dict]:
    """The claim's rows that carry numbers (`data`), in their order."""
    return [row for row in rows if row["id"] == claim_id and row.get("data")]


def chart_a2(rows: list[dict], path) -> bool:
    """A2 on two log-log panels against the hidden width: the memory the long form needs for
    one sample (the widths run, any refused, the seed's 784-512-10, the budget), and the time
    per sample of the long and the short form."""
    points = sorted(with_data(rows, "A2"), key=lambda row: row["data"]["width"])
    if not points:
        return False
    figure, (memory, timing) = plt.subplots(1, 2, figsize=(11, 4.4), sharex=True)
    a2_memory(memory, points)
    ran = [p["data"] for p in points if p["data"].get("long_seconds_per_sample") is not None]
    a2_timing(timing, ran)
    for axis in (memory, timing):
        axis.legend(fontsize=8, loc="lower right")
        axis.set_xscale("log", base=2)
        axis.xaxis.set_major_locator(LogLocator(base=2))
        axis.xaxis.set_major_formatter(ScalarFormatter())
        axis.set_xlabel("hidden width w (MNIST 784-w-10, float64)")
        axis.yaxis.set_minor_formatter(NullFormatter())
        axis.grid(which="major", alpha=0.3)
    if ran:
        long_s = [d["long_seconds_per_sample"] for d in ran]
        short_s = [d["short_seconds_per_sample"] for d in ran]
        timing.set_ylim(top=max(long_s) * 2)  # room for the ratio above the highest point
        if max(long_s) / min(short_s) < 10:  # under a decade: label the minor ticks too
            timing.yaxis.set_minor_formatter(EngFormatter(unit="s"))
    else:
        timing.text(0.5, 0.5, "no width ran here", transform=timing.transAxes, ha="center")
    figure.suptitle("A2: long-form backpropagation against hidden width", fontsize=11)
    figure.tight_layout()
    save(figure, path)
    return True


def a2_memory(axis, points: list[dict]) -> None:
    """A2's left panel: the bytes the long form holds for one sample, at each width run, each
    refused by the budget, and the seed's network; the budget as a line."""
    every = [p["data"] for p in points]
    ran = [d for d in every if d.get("long_seconds_per_sample") is not None]
    seed = [d for d in every if d.get("seed")]
    refused = [d for d, p in zip(every, points) if p["verdict"] == NOT_RUN and not d.get("seed")]
    axis.plot([d["width"] for d in every], [d["long_form_bytes"] for d in every],
              color="grey", linestyle="--", linewidth=1, zorder=1,
              label="grows as w\u00b2 (dz/dW holds w \u00d7 784w numbers)")
    axis.plot([d["width"] for d in ran], [d["long_form_bytes"] for d in ran], "o",
              color="#4c72b0", label="widths run here")
    if refused:
        axis.plot([d["width"] for d in refused], [d["long_form_bytes"] for d in refused],
                  "x", color="#c44e52", markersize=9, mew=2, label="refused by the budget")
    for d in seed:
        axis.plot(d["width"], d["long_form_bytes"], "*", color="#c44e52", markersize=14,
                  label="the seed's 784-512-10 (not run)")
        axis.annotate(f"would need {bytes_text(d['long_form_bytes'])}",
                      (d["width"], d["long_form_bytes"]), textcoords="offset points",
                      xytext=(-12, 0), ha="right", va="center", fontsize=8, color="#c44e52")
    for budget in sorted({d["budget_bytes"] for d in every}):
        size = f"{budget / 2**30:g} GiB" if budget % 2**30 == 0 else f"{budget / 1e6:.3g} MB"
        axis.axhline(budget, color="#c44e52", linestyle=":", label=f"memory budget ({size})")
    axis.set_yscale("log")
    axis.yaxis.set_major_formatter(EngFormatter(unit="B"))
    axis.set_ylabel("bytes the long form holds for one sample")
    axis.set_title("Memory: one sample's explicit Jacobians", fontsize=10)


def a2_timing(axis, ran: list[dict]) -> None:
    """A2's right panel: seconds per sample of the long and the short form at each width run,
    the ratio above each point."""
    widths = [d["width"] for d in ran]
    long_s = [d["long_seconds_per_sample"] for d in ran]
    short_s = [d["short_seconds_per_sample"] for d in ran]
    axis.plot(widths, long_s, "o-", color="#c44e52", label="long form (Jacobian products)")
    axis.plot(widths, short_s, "s-", color="#4c72b0", label="short form (delta rule)")
    for width, slow, fast in zip(widths, long_s, short_s):
        axis.annotate(ratio_text(slow / fast), (width, slow), textcoords="offset points",
                      xytext=(0, 7), ha="center", fontsize=8)
    axis.set_yscale("log")
    axis.yaxis.set_major_formatter(EngFormatter(unit="s"))
    axis.set_ylabel("time per sample (gradient of one sample)")
    axis.set_title("Time: long against short form (ratio above each point)", fontsize=10)


def chart_b2(rows: list[dict], path) -> bool:
    """B2 per network: looped time / vectorised time, measured here beside the published one,
    log scale, the ratio written on each bar."""
    points = [row["data"] for row in with_data(rows, "B2")]
    if not points:
        return False
    figure, axis = plt.subplots(figsize=(8, 4.4))
    positions = np.arange(len(points))
    bar_width = 0.38
    bars = [(-bar_width / 2, "measured here", "#4c72b0", [d["ratio"] for d in points]),
            (bar_width / 2, "published", "#dd8452",
             [d.get("published_ratio") for d in points])]
    for offset, label, color, ratios in bars:
        shown = [(x + offset, r) for x, r in zip(positions, ratios) if r is not None]
        drawn = axis.bar([x for x, _ in shown], [r for _, r in shown], bar_width, color=color,
                         label=label)
        axis.bar_label(drawn, labels=[ratio_text(r) for _, r in shown], fontsize=8, padding=2)
    axis.axhline(1, color="black", linewidth=0.8, linestyle=":",
                 label="same speed (above: vectorised is faster)")
    axis.set_yscale("log")
    top = max(r for _, _, _, ratios in bars for r in ratios if r is not None)
    axis.set_ylim(top=top * 3)  # room for the labels
    axis.set_xticks(positions, [d["network"] + ("" if d.get("published_ratio") else
                                                "\n(no published vectorised time)")
                                for d in points])
    axis.set_xlabel("network (sigmoid layers, one sample)")
    axis.set_ylabel("looped time / vectorised time (log)")
    axis.set_title("B2: looped time / vectorised time of one forward pass (a pure Python loop "
                   "against NumPy)", fontsize=10)
    axis.grid(axis="y", which="major", alpha=0.3)
    axis.legend(fontsize=8, loc="upper left")
    save(figure, path)
    return True


# (file name, drawing function, caption) of every claims chart, in the report's order.
CHARTS = [
    ("claims_accuracy.png", chart_accuracy, "A1, B3, A1+: claimed and measured test accuracy"),
    ("claims_a2_jacobian.png", chart_a2, "A2: the long form's memory and time per sample "
     "against hidden width"),
    ("claims_b2_vectorised.png", chart_b2, "B2: looped / vectorised forward pass, measured and "
     "published"),
]


# ---- every chart of a report, in one step ----


@dataclass
class Drawn:
    """The charts drawn into one directory, in the report's order."""

    files: list[Path] = field(default_factory=list)
    claims: list[tuple[str, str]] = field(default_factory=list)  # (caption, file name)

    def link(self, name: str) -> str:
        """Markdown embedding the run's chart `name` (a file name), or "" if it was not drawn."""
        if not any(path.name == name for path in self.files):
            return ""
        return f"![{Path(name).stem}](charts/{name})\n"


def draw_charts(frames: Frames, claims_rows: list[dict] | None, directory: Path) -> Drawn:
    """Every chart of the run (and of its claims findings, when it has them) in `directory`."""
    from .fixed_cost import draw as draw_fixed_cost  # here: it draws with this module's helpers

    cases, table = frames.cases, frames.table
    # The batch sweep's MNIST points (its other networks are drawn by bench/fixed_cost.py).
    swept = cases[(cases[Info.KIND] != Kind.BATCH) | (cases[Info.NETWORK] == SWEEP_NETWORK)]
    batch_shapes = swept.loc[swept[Info.KIND] == Kind.BATCH, "shape"].dropna().unique()
    made = [chart_speed(table, network, directory / f"speed_{network}.png")
            for network in NETWORKS if (table.get(Info.NETWORK) == network).any()]
    made += [
        chart_breakdown(frames.breakdowns, directory / "step_breakdown.png"),
        chart_scaling(cases, Kind.WIDTH, directory / "scaling_width.png",
                      "Training time per sample against hidden width (MNIST 784-w-10, "
                      "float64)", "hidden width"),
        chart_scaling(swept, Kind.BATCH, directory / "scaling_batch.png",
                      f"Training time per sample against batch size (MNIST "
                      f"{', '.join(batch_shapes) or 'shape'}, float64)", "batch size"),
        *draw_fixed_cost(cases, directory, frames.run.mode),
        chart_memory(frames.records, directory / "memory.png"),
        chart_loss(cases, directory / "loss_curve.png"),
        chart_cold_start(cases, directory / "cold_start.png"),
    ]
    drawn = Drawn([path for path in made if path is not None])
    if claims_rows is not None:
        drawn.claims = write_charts(claims_rows, directory)
        drawn.files += [directory / name for _, name in drawn.claims]
    return drawn
