"""The fixed cost of a call: t(B) = a + b·B fitted to the batch sweep, its table and chart.

A point of the batch sweep (bench/test_scaling.py) is one implementation (variant) training
one network at one batch size B; its time per call is the round's time over the calls of the
round, that is its time per sample times the rows one call handled (`samples` over the
epoch's `ceil(samples / batch_size)` calls: a sampled paradigm's subset can be smaller than
B, and then that is the batch it ran). Per variant and network, the points fit

    t(B) = a + b·B

where a is what a call costs whatever it carries (dispatch, validation, launching kernels,
Octave's round trip) and b what each sample adds. B* = a / b is the crossover batch at which
the two are equal: a call on fewer rows is mostly fixed cost. For XOR and digits, whose
workloads train full batch (4 and 1,078 rows, bench/workloads.py) at the shape the sweep
runs, share = a / (a + b·B_work) is how much of their time on that workload is fixed cost
(MNIST's sweep runs a narrower hidden layer than its workload, so it gets no share).

Each figure has a 95% interval (Student's t with n - 2 degrees of freedom from the fit's
residuals; B* and the share, ratios of two fitted quantities, by Fieller's method). Points
that disagree with numpy are left out. A fit on fewer than 3 batch sizes, or with b <= 0,
is shown as "-" with its reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import EngFormatter, FuncFormatter, LogLocator
from scipy import stats as scipy_stats

from .charts import MARKERS, save  # charts sets the Agg backend
from .formatting import number_text, range_text, share_text
from .results import Info, Kind
from .stats import LEVEL, NO_ESTIMATE, Estimate
from .tables import markdown_table
from .workloads import MODES, NETWORKS

MIN_POINTS = 3  # batch sizes a fit needs: two for the line, one for its scatter
SHARE_NETWORKS = ("xor", "digits")  # swept at their workload's own shape
TITLES = {"xor": "XOR", "digits": "Digits", "mnist": "MNIST"}
POINT_COLUMNS = ["variant", "network", "shape", "batch", "rows", "call_s", "ranked"]


# ---- the points ----


def call_points(cases: pd.DataFrame) -> pd.DataFrame:
    """The batch sweep's points: per variant, network and batch, `rows` per call, `call_s`."""
    sweep = cases[cases[Info.KIND] == Kind.BATCH] if Info.KIND in cases else cases.iloc[:0]
    if sweep.empty:
        return pd.DataFrame(columns=POINT_COLUMNS)
    samples = sweep[Info.SAMPLES].astype(float)
    rows = samples / np.ceil(samples / sweep[Info.BATCH_SIZE].astype(float))
    return pd.DataFrame({"variant": sweep[Info.VARIANT], "network": sweep[Info.NETWORK],
                         "shape": sweep["shape"], "batch": sweep["batch"], "rows": rows,
                         "call_s": sweep["time_per_unit_s"] * rows,
                         "ranked": sweep["ranked"].astype(bool)})


# ---- the fit ----


@dataclass(frozen=True)
class Line:
    """t = a + b·B fitted: `coef` (a in s, b in s per sample), its covariance, the points."""

    coef: np.ndarray
    cov: np.ndarray
    points: int

    @property
    def quantile(self) -> float:
        """Student's t for the 95% interval, with n - 2 degrees of freedom."""
        return float(scipy_stats.t.ppf(0.5 + LEVEL / 2, self.points - 2))


def fit_line(rows, call_s) -> Line:
    """Least squares weighted by 1/t², as a timing's noise is a share of it (unweighted, the
    largest batches, hundreds of times slower, would decide a alone); 3 points or more."""
    x, t = np.asarray(rows, dtype=float), np.asarray(call_s, dtype=float)
    design = np.column_stack([np.ones_like(x), x]) / t[:, None]
    coef = np.linalg.lstsq(design, np.ones_like(t), rcond=None)[0]
    residual = 1.0 - design @ coef
    variance = float(residual @ residual) / (len(t) - 2)
    return Line(coef, variance * np.linalg.inv(design.T @ design), len(t))


def coefficient(line: Line, index: int) -> Estimate:
    """a (index 0) or b (index 1) with its t interval."""
    value, error = line.coef[index], math.sqrt(max(line.cov[index, index], 0.0))
    half = line.quantile * error
    return Estimate(float(value), float(value - half), float(value + half), line.points)


def ratio(line: Line, top, bottom, low: float = 0.0, high: float = math.inf) -> Estimate:
    """(top·coef) / (bottom·coef), Fieller's interval within [low, high] (none if unbounded)."""
    top, bottom = np.asarray(top, dtype=float), np.asarray(bottom, dtype=float)
    u, v, q2 = top @ line.coef, bottom @ line.coef, line.quantile ** 2
    quadratic = v * v - q2 * (bottom @ line.cov @ bottom)
    linear = u * v - q2 * (top @ line.cov @ bottom)
    constant = u * u - q2 * (top @ line.cov @ top)
    if quadratic <= 0:
        return Estimate(float(u / v), math.nan, math.nan, line.points)
    root = math.sqrt(max(linear * linear - quadratic * constant, 0.0))
    return Estimate(float(u / v), float(max((linear - root) / quadratic, low)),
                    float(min((linear + root) / quadratic, high)), line.points)


@dataclass(frozen=True)
class Fit:
    """One variant on one network: the line fitted to its calls, or why there is none."""

    variant: str
    network: str
    shape: str
    points: int  # the points the fit rests on
    line: Line | None
    reason: str = ""  # why a, b (or B* and the share) are not shown

    @property
    def a(self) -> Estimate:
        """The fixed cost of a call, in seconds."""
        return coefficient(self.line, 0) if self.line is not None else NO_ESTIMATE

    @property
    def b(self) -> Estimate:
        """The cost of each sample, in seconds."""
        return coefficient(self.line, 1) if self.line is not None else NO_ESTIMATE

    @property
    def resolved(self) -> bool:
        """Whether a > 0: a fixed cost above what the fit can tell from nothing."""
        return self.line is not None and self.line.coef[0] > 0

    def crossover(self) -> Estimate:
        """B* = a / b: the batch whose samples cost as much as the call."""
        return ratio(self.line, (1, 0), (0, 1)) if self.resolved else NO_ESTIMATE

    def share(self, batch: int) -> Estimate:
        """a / (a + b·batch): the share of a call on `batch` rows that is fixed cost."""
        return ratio(self.line, (1, 0), (1, batch), 0.0, 1.0) if self.resolved else NO_ESTIMATE


def fit_points(variant: str, network: str, points: pd.DataFrame) -> Fit:
    """The fit of one variant's points on one network (those that agreed with numpy)."""
    used = points[points["ranked"] & np.isfinite(points["call_s"]) & (points["call_s"] > 0)]
    shape = str(points["shape"].iloc[0]) if len(points) else ""
    dropped = len(points) - len(used)
    left_out = f"; {dropped} point{'s' * (dropped > 1)} left out (disagree with numpy)" if (
        dropped) else ""
    sizes = used["rows"].nunique()
    if sizes < MIN_POINTS:
        return Fit(variant, network, shape, len(used), None,
                   f"{sizes} batch size{'s' * (sizes != 1)}: the fit needs {MIN_POINTS}"
                   + left_out)
    line = fit_line(used["rows"], used["call_s"])
    if line.coef[1] <= 0:
        return Fit(variant, network, shape, len(used), None,
                   "b ≤ 0: its time per call does not grow with the batch" + left_out)
    reason = "" if line.coef[0] > 0 else "a ≤ 0: no fixed cost above the scatter"
    return Fit(variant, network, shape, len(used), line, (reason + left_out).lstrip("; "))


def fits(cases: pd.DataFrame) -> list[Fit]:
    """Every variant's fit on every network of the batch sweep, in the networks' order."""
    points = call_points(cases)
    order = {name: i for i, name in enumerate(NETWORKS)}
    found = [fit_points(variant, network, group)
             for (network, variant), group in points.groupby(["network", "variant"])]
    return sorted(found, key=lambda f: (order.get(f.network, len(order)), f.network, f.variant))


def work_batch(network: str, mode: str) -> int | None:
    """The rows of one call of the network's workload (None: not swept at its shape)."""
    if network not in SHARE_NETWORKS:
        return None
    workload = MODES.get(mode, MODES["default"]).workloads[network]
    return workload.batch_size or workload.train_samples


# ---- the table ----


def with_interval(estimate: Estimate, scale: float, formatter: Callable) -> str:
    """A figure times `scale` with its interval in brackets ("-" without the figure)."""
    if not math.isfinite(estimate.value):
        return "-"
    interval = range_text(estimate.low * scale, estimate.high * scale, formatter)
    return formatter(estimate.value * scale) + (f" ({interval})" if interval != "-" else "")


def fit_row(fit: Fit, work: int | None) -> dict:
    """One fit as the table shows it: a in µs per call, b in ns per sample, B*, the share."""
    row = {"implementation": fit.variant, "points": f"{fit.points}",
           "a: µs per call": with_interval(fit.a, 1e6, number_text),
           "b: ns per sample": with_interval(fit.b, 1e9, number_text),
           "B* = a / b": with_interval(fit.crossover(), 1.0, number_text)}
    if work is not None:
        row[f"fixed share at B = {work:,}"] = with_interval(fit.share(work), 1.0, share_text)
    return {**row, "note": fit.reason}


def fit_table(found: list[Fit], work: int | None) -> pd.DataFrame:
    """One row per fit (of one network)."""
    return pd.DataFrame([fit_row(fit, work) for fit in found])


def share_line(found: list[Fit], network: str, work: int) -> str:
    """The network's summary: each implementation's share of fixed cost at its workload."""
    shares = sorted(((fit.share(work), fit.variant) for fit in found
                     if math.isfinite(fit.share(work).value)), key=lambda p: -p[0].value)
    listed = ", ".join(f"{variant} {with_interval(share, 1.0, share_text)}"
                       for share, variant in shares) or "none could be fitted"
    return (f"- {TITLES.get(network, network)} ({found[0].shape}, {work:,} rows per call): "
            f"share of time that is fixed cost: {listed}.")


# ---- the chart ----


def colours(variants) -> dict[str, tuple]:
    """One colour per implementation, the same in every network's chart."""
    palette = plt.get_cmap("tab10").colors + plt.get_cmap("Dark2").colors
    return {name: palette[i % len(palette)] for i, name in enumerate(sorted(set(variants)))}


def chart_fixed_cost(found: list[Fit], points: pd.DataFrame, work: int | None, path: Path,
                     palette: dict[str, tuple]) -> Path | None:
    """Time per call against batch size, log-log: points (hollow: left out), fitted lines."""
    if points.empty:
        return None
    figure, axis = plt.subplots(figsize=(8, 5.5))
    end = max(points["rows"].max(), work or 0)
    for fit in found:
        mine = points[points["variant"] == fit.variant]
        colour = palette[fit.variant]
        marker = MARKERS[list(palette).index(fit.variant) % len(MARKERS)]
        for ranked, face in ((True, colour), (False, "none")):
            shown = mine[mine["ranked"] == ranked]
            axis.scatter(shown["rows"], shown["call_s"], marker=marker, s=28, zorder=3,
                         edgecolors=[colour], facecolors=face)
        label = fit.variant + ("" if fit.line is not None else " (no fit)")
        if fit.line is not None:
            x = np.geomspace(mine["rows"].min(), end, 64)
            y = fit.line.coef[0] + fit.line.coef[1] * x
            axis.plot(x[y > 0], y[y > 0], color=colour, linewidth=1.2)
            label += f" (a = {number_text(fit.a.value * 1e6)} µs)"
        axis.plot([], [], color=colour, marker=marker, label=label)
    if work is not None:
        axis.axvline(work, color="grey", linestyle=":", label=f"the workload's batch ({work:,})")
    axis.set_xscale("log", base=2)
    axis.set_yscale("log")
    axis.xaxis.set_major_locator(LogLocator(base=2))
    axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.yaxis.set_major_formatter(EngFormatter(unit="s"))
    axis.set_xlabel("batch size B (rows per call)")
    axis.set_ylabel("time of one training call")
    axis.set_title(f"The fixed cost of a call: {found[0].network} {found[0].shape}, float64, "
                   f"points and the fitted t(B) = a + b·B", fontsize=10)
    axis.grid(which="major", alpha=0.3)
    axis.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return save(figure, path)


def chart_name(network: str) -> str:
    """The file of the network's chart."""
    return f"fixed_cost_{network}.png"


def draw(cases: pd.DataFrame, directory: Path, mode: str) -> list[Path]:
    """One chart per network of the batch sweep, in `directory`."""
    points, found = call_points(cases), fits(cases)
    palette = colours(points["variant"])
    drawn = [chart_fixed_cost([f for f in found if f.network == network],
                              points[points["network"] == network], work_batch(network, mode),
                              Path(directory) / chart_name(network), palette)
             for network in dict.fromkeys(f.network for f in found)]
    return [path for path in drawn if path is not None]


# ---- REPORT.md's section ----


def report_lines(cases: pd.DataFrame, link: Callable[[str], str], mode: str) -> list[str]:
    """REPORT.md's section: the shares, then per network its chart (`link`) and table."""
    found = fits(cases)
    if not found:
        return []
    networks = list(dict.fromkeys(fit.network for fit in found))
    by_network = {n: [fit for fit in found if fit.network == n] for n in networks}
    lines = ["## The fixed cost of a call", "",
             "From the batch sweep: per implementation and network, the time t of one "
             "training call (one mini-batch step of `fit`) at batch size B, fitted as "
             "t(B) = a + b·B by least squares weighted by 1/t² (a timing's noise is a share of "
             "it). a is the fixed cost of a call, b the cost of each sample, and B* = a / b the "
             "batch at which the two are equal: on fewer rows, a call is mostly fixed cost. "
             "In brackets the 95% interval (Student's t on the fit's n - 2 degrees of "
             "freedom; Fieller's for B* and the share, none where it is unbounded); "
             "\"points\" is the number of batch sizes the fit rests on. A fit on fewer than "
             "3, or with b ≤ 0, is not shown (docs/method.md).", ""]
    lines += [share_line(by_network[n], n, work) for n in networks
              if (work := work_batch(n, mode)) is not None]
    for network in networks:
        lines += ["", f"### {network} ({by_network[network][0].shape})", "",
                  link(chart_name(network)),
                  markdown_table(fit_table(by_network[network], work_batch(network, mode)))]
    return [*lines, ""]
