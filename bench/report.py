"""`nnbench report` and `nnbench compare`: tables and charts from a run's raw JSON alone.

A run is read from its directory (`runs/<machine>/<run-id>/`: the manifest and the raw
pytest-benchmark JSON of every step) or from one raw JSON file. Nothing is typed in: every
number of the report is computed here from the medians and `extra_info` the benchmark cases
recorded (bench/measure.py says what each field means):

    time per sample   median of a round / (samples x epochs of that round)
    samples/s         1 / time per sample
    ratio             time per sample / the fastest ranked one's, per network, operation, dtype
    GFLOP/s           FLOPs of the dense layers in a round (NetworkSpec.flops_per_sample) /
                      median, and its share of the best GEMM rate measured in the same run

A case is ranked only when it agreed with numpy and ran the network at its requested shape.

The report: `summary.csv` (one row per variant, network, operation and dtype), `REPORT.md`
(machine and versions, the tables, the charts, how the slow paradigms were sampled) and
`charts/*.png`. `compare` prints, for every case two runs share, the ratio of their times.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import EngFormatter, MaxNLocator  # noqa: E402
from nnbench.errors import DataError  # noqa: E402

from .files import replacing, write_text  # noqa: E402
from .formatting import (  # noqa: E402
    bytes_text,
    number_text,
    ratio_text,
    seconds_text,
    share_text,
)
from .workloads import MODES, SAMPLED  # noqa: E402

MANIFEST = "manifest.json"
OPS = ("predict", "train")
PER_SAMPLE_KINDS = ("predict", "train", "width", "batch")  # timed per sample, and verified
NETWORK_ORDER = ("xor", "mnist", "digits")


class RunDataError(DataError):
    """A run directory or benchmark JSON that is missing, empty, truncated or not nnbench's."""


# ---- reading a run ----


def read_json_file(path: Path, what: str) -> dict:
    path = Path(path)
    if not path.is_file():
        raise RunDataError(f"{what} {str(path)!r} does not exist")
    text = path.read_text(encoding="utf-8", errors="replace")
    if not text.strip():
        raise RunDataError(f"{what} {str(path)!r} is empty")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RunDataError(f"{what} {str(path)!r} is not valid JSON (truncated or corrupted?): "
                           f"{exc.msg} at line {exc.lineno}") from None
    if not isinstance(document, dict):
        raise RunDataError(f"{what} {str(path)!r} holds a JSON {type(document).__name__}, "
                           f"not an object")
    return document


def read_benchmark_json(path: Path) -> dict:
    """A raw JSON written by the benchmark suite (pytest-benchmark's, with nnbench's section)."""
    document = read_json_file(path, "benchmark JSON")
    if not isinstance(document.get("benchmarks"), list):
        raise RunDataError(f"{str(path)!r} is not a pytest-benchmark JSON: it has no "
                           f"'benchmarks' list")
    if not isinstance(document.get("nnbench"), dict):
        raise RunDataError(f"{str(path)!r} is a pytest-benchmark JSON but not nnbench's: it has "
                           f"no 'nnbench' section (was it written by `pytest bench/`?)")
    for bench in document["benchmarks"]:
        if not (isinstance(bench, dict) and isinstance(bench.get("stats"), dict)
                and "median" in bench["stats"] and isinstance(bench.get("extra_info"), dict)):
            raise RunDataError(f"{str(path)!r} has a benchmark without pytest-benchmark's "
                               f"fields (stats.median, extra_info): {str(bench)[:80]}")
    # A case that failed after its timing leaves stats without nnbench's fields; its failure
    # is in the nnbench section, and its timing is not a result.
    document["benchmarks"] = [b for b in document["benchmarks"] if "kind" in b["extra_info"]]
    return document


def read_manifest(path: Path) -> dict:
    manifest = read_json_file(path, "run manifest")
    if "nnbench_run" not in manifest or not isinstance(manifest.get("steps"), list):
        raise RunDataError(f"{str(path)!r} is not an nnbench run manifest")
    return manifest


@dataclass
class Run:
    source: Path  # the run directory, or the one JSON file
    manifest: dict = field(default_factory=dict)  # empty for a lone JSON file
    documents: dict[str, dict] = field(default_factory=dict)  # step name -> raw JSON

    @property
    def name(self) -> str:
        return self.manifest.get("run_id") or self.source.stem

    @property
    def machine_info(self) -> dict:
        for document in self.documents.values():
            if document.get("machine_info"):
                return document["machine_info"]
        return {}


def load_run(path) -> Run:
    """A run directory (or its manifest), or one raw benchmark JSON file."""
    path = Path(path)
    if not path.exists():
        raise RunDataError(f"{str(path)!r} does not exist; expected a run directory "
                           f"(results/runs/<machine>/<run-id>) or a benchmark JSON file")
    if path.is_file() and path.name != MANIFEST:
        return Run(path, {}, {path.stem: read_benchmark_json(path)})
    directory = path.parent if path.is_file() else path
    if not (directory / MANIFEST).is_file():
        raise RunDataError(f"{str(directory)!r} is not a run directory: it has no {MANIFEST}")
    manifest = read_manifest(directory / MANIFEST)
    run = Run(directory, manifest)
    for step in manifest["steps"]:
        if step.get("json") and step.get("kind") != "claims":  # claims.json: its own section
            run.documents[step["name"]] = read_benchmark_json(directory / step["json"])
    if not run.documents:
        raise RunDataError(f"run {str(directory)!r} has no benchmark results: every step "
                           f"failed or none has finished (see its {MANIFEST})")
    return run


def latest_run(root: Path) -> Path:
    """The most recently started run under `root/runs/`."""
    manifests = sorted(Path(root).glob(f"runs/*/*/{MANIFEST}"),
                       key=lambda p: (read_json_file(p, "run manifest").get("started") or "",
                                      p.parent.name))
    if not manifests:
        raise RunDataError(f"no runs under {str(Path(root) / 'runs')!r}; run `nnbench run` "
                           f"first, or name a run directory or benchmark JSON")
    return manifests[-1].parent


def default_output(run: Run) -> Path:
    """Where a report goes unless told: the results directory holding the run
    (`<root>/runs/<machine>/<run-id>` -> `<root>`), else beside the run."""
    directory = run.source if run.source.is_dir() else run.source.parent
    if directory.parent.parent.name == "runs":
        return directory.parent.parent.parent
    return directory


# ---- the run as tables ----


def shape_text(sizes) -> str:
    return "-".join(str(int(s)) for s in sizes) if isinstance(sizes, list) else ""


def cases_frame(run: Run) -> pd.DataFrame:
    """One row per timed case: its stats, its extra_info, and the per-sample figures."""
    rows = []
    for step, document in run.documents.items():
        for bench in document["benchmarks"]:
            stats, info = bench["stats"], bench["extra_info"]
            row = {"step": step, "name": bench.get("name", ""), **info,
                   "median_s": stats["median"], "iqr_s": stats.get("iqr", math.nan),
                   "min_s": stats.get("min", math.nan), "rounds": stats.get("rounds", 0),
                   "iterations": stats.get("iterations", 1)}
            row["shape"] = shape_text(info.get("sizes"))
            row["first_rounds"] = first_rounds_ratio(stats.get("data"))
            for rate, check in CHECK_RATES.items():  # the machine check around the case
                row[check.case_column] = check_mean(info.get("machine_check"), rate)
            rows.append(row)
    cases = pd.DataFrame(rows)
    if cases.empty:
        return pd.DataFrame(columns=["kind", "variant", "network", "op", "dtype", "median_s"])
    for column, default in (("samples", math.nan), ("epochs", 1), ("flops", math.nan),
                            ("verification", ""), ("refused", ""), ("variant", ""),
                            ("network", ""), ("op", ""), ("dtype", ""), ("sampled", False)):
        if column not in cases:
            cases[column] = default
    cases["refused"] = cases["refused"].fillna("")
    cases["verification"] = cases["verification"].fillna("")
    per_call = cases["kind"].isin(PER_SAMPLE_KINDS)
    units = (cases["samples"] * cases["epochs"].fillna(1)).where(per_call, 1.0)
    cases["time_per_unit_s"] = cases["median_s"] / units
    cases["samples_per_s"] = (1 / cases["time_per_unit_s"]).where(per_call)
    cases["gflops"] = cases["flops"] / cases["median_s"] / 1e9
    cases["spread"] = cases["iqr_s"] / cases["median_s"]
    cases["ranked"] = (cases["verification"].isin(["ok", "reference"])
                       & (cases["refused"] == ""))
    return cases


def records_frame(run: Run) -> pd.DataFrame:
    rows = [record for document in run.documents.values()
            for record in document["nnbench"].get("records", [])]
    return pd.DataFrame(rows)


def failures_frame(run: Run) -> pd.DataFrame:
    rows = [{"step": step, **failure} for step, document in run.documents.items()
            for failure in document["nnbench"].get("failures", [])]
    return pd.DataFrame(rows)


def gemm_table(cases: pd.DataFrame) -> pd.DataFrame:
    """Each measured product: its median rate, and its best round's (the machine's limit is
    what the machine can do, so the fastest round, not the typical one, measures it)."""
    gemm = cases[cases["kind"] == "gemm"].copy()
    if gemm.empty:
        return gemm
    gemm["shape"] = [f"({m:.0f}x{k:.0f}) @ ({k:.0f}x{n:.0f})"
                     for m, k, n in zip(gemm["m"], gemm["k"], gemm["n"])]
    gemm["best_gflops"] = gemm["flops"] / gemm["min_s"] / 1e9
    return gemm[["dtype", "shape", "step", "median_s", "gflops", "best_gflops", "threads"]
                ].sort_values(["dtype", "best_gflops"], ascending=[False, False])


def gemm_rates(cases: pd.DataFrame, threads: int | None = None) -> dict[str, float]:
    """The machine's limit per dtype: the best round's GFLOP/s over its GEMM shapes (with
    `threads`: over the products measured on that many threads only)."""
    gemm = gemm_table(cases)
    if threads is not None and not gemm.empty:
        gemm = gemm[gemm["threads"] == threads]
    return gemm.groupby("dtype")["best_gflops"].max().to_dict() if not gemm.empty else {}


def main_table(run: Run, cases: pd.DataFrame) -> pd.DataFrame:
    """predict and train per network, operation, dtype and variant, ranked within each group;
    failed cases are rows too, with their reason."""
    table = cases[cases["kind"].isin(OPS)].copy()
    failures = failures_frame(run)
    if not failures.empty and "test" in failures:
        failed = failures[failures["test"].isin(["test_predict", "test_train"])].copy()
        if not failed.empty:
            failed["op"] = failed["test"].str.replace("test_", "", regex=False)
            failed["kind"] = failed["op"]
            failed["failure"] = failed["reason"]
            failed["ranked"] = False
            table = pd.concat([table, failed[[c for c in ("step", "variant", "network", "dtype",
                                                          "op", "kind", "failure", "ranked")
                                              if c in failed]]], ignore_index=True)
    if table.empty:
        return table
    if "failure" not in table:
        table["failure"] = ""
    table["failure"] = table["failure"].fillna("")
    table["ranked"] = table["ranked"].fillna(False).astype(bool)
    fastest = (table[table["ranked"]].groupby(["network", "op", "dtype"])["time_per_unit_s"]
               .min().rename("fastest_s"))
    table = table.join(fastest, on=["network", "op", "dtype"])
    table["ratio"] = (table["time_per_unit_s"] / table["fastest_s"]).where(table["ranked"])
    rates = gemm_rates(cases)
    table["gemm_share"] = table["gflops"] / table["dtype"].map(rates)
    cold = cases[(cases["kind"] == "cold_start") & (cases["refused"] == "")]
    table = table.drop(columns=["cold_start_s", "peak_rss_bytes"], errors="ignore")
    if not cold.empty:
        cold_by = cold.set_index(["variant", "network"])
        table = table.join(cold_by["median_s"].rename("cold_start_s"), on=["variant", "network"])
        table = table.join(cold_by["peak_rss_bytes"].rename("peak_rss_bytes"),
                           on=["variant", "network"])
    for column in ("cold_start_s", "peak_rss_bytes"):
        if column not in table:
            table[column] = math.nan
    table["note"] = [case_note(row) for row in table.itertuples()]
    order = {name: i for i, name in enumerate(NETWORK_ORDER)}
    table["_network"] = table["network"].map(order).fillna(len(order))
    table["_op"] = table["op"].map({op: i for i, op in enumerate(OPS)})
    table["_rank"] = table["ratio"].fillna(math.inf)
    table = table.sort_values(["_network", "_op", "dtype", "_rank", "time_per_unit_s"],
                              ascending=[True, True, False, True, True])
    return table.drop(columns=["_network", "_op", "_rank"]).reset_index(drop=True)


def case_note(row) -> str:
    """Why a case is not ranked, how it was sampled, and which setting it is."""
    notes = []
    if getattr(row, "failure", ""):
        notes.append(f"failed: {row.failure}")
    if getattr(row, "verification", "") == "mismatch":
        notes.append(f"not ranked, disagrees with numpy: {row.verification_detail}")
    if getattr(row, "refused", ""):
        notes.append(f"not ranked: {row.refused}")
    if getattr(row, "sampled", False) is True:
        notes.append(f"sampled: {row.samples:,.0f} of {row.full_samples:,.0f} samples")
    note = getattr(row, "variant_note", "")
    if isinstance(note, str) and note:
        notes.append(note)
    return "; ".join(notes)


SUMMARY_COLUMNS = ["network", "op", "dtype", "variant", "impl", "shape", "samples", "epochs",
                   "sampled", "batch_size", "rounds", "median_s", "iqr_s", "time_per_unit_s",
                   "samples_per_s", "ratio", "gflops", "gemm_share", "peak_rss_bytes",
                   "cold_start_s", "verification", "max_error", "ranked", "device", "threads",
                   "note"]


def summary_frame(run: Run, table: pd.DataFrame) -> pd.DataFrame:
    summary = table.reindex(columns=SUMMARY_COLUMNS).rename(
        columns={"time_per_unit_s": "time_per_sample_s", "ratio": "ratio_to_fastest"})
    summary.insert(0, "run_id", run.name)
    summary.insert(1, "machine", run.manifest.get("machine", run.machine_info.get(
        "nnbench", {}).get("machine", "")))
    return summary


def markdown_table(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    lines = [header, rule]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |")
    return "\n".join(lines)


def work_text(row) -> str:
    """What one round did: samples (of how many), epochs or calls."""
    samples = f"{row.samples:,.0f}"
    if getattr(row, "sampled", False) is True:
        samples += f" of {row.full_samples:,.0f}"
    if getattr(row, "epochs", 1) > 1:
        samples += f" × {row.epochs:,.0f} epochs"
    iterations = getattr(row, "iterations", 1)
    if isinstance(iterations, (int, float)) and np.isfinite(iterations) and iterations > 1:
        samples += f" × {iterations:,.0f} calls"
    return samples


def verification_text(row) -> str:
    status = getattr(row, "verification", "")
    if getattr(row, "failure", ""):
        return "failed"
    if status == "ok":
        return "ok (exact)" if row.max_error == 0 else f"ok ({row.max_error:.1g})"
    if status == "mismatch":
        return f"**MISMATCH** ({row.max_error:.2g})"
    return status or "-"


def display_table(group: pd.DataFrame) -> pd.DataFrame:
    """A group of the main table as the report shows it."""
    rows = []
    rank = 0
    for row in group.itertuples():
        failed = bool(row.failure)
        rank += 1 if row.ranked else 0
        rows.append({
            "#": rank if row.ranked else "-",
            "implementation": row.variant,
            "time / sample": "-" if failed else seconds_text(row.time_per_unit_s),
            "spread (IQR)": "-" if failed else share_text(row.spread),
            "samples/s": "-" if failed else number_text(row.samples_per_s),
            "vs fastest": ratio_text(row.ratio),
            "GFLOP/s": "-" if failed else number_text(row.gflops),
            "of GEMM": share_text(row.gemm_share),
            "peak memory": bytes_text(row.peak_rss_bytes),
            "cold start": seconds_text(row.cold_start_s),
            "verified": verification_text(row),
            "round": "-" if failed else work_text(row),
            "shape": row.shape if isinstance(row.shape, str) else "-",
            "device": getattr(row, "device", "cpu"),
            "notes": row.note,
        })
    shown = pd.DataFrame(rows)
    on_cpu = shown["device"].fillna("cpu").astype(str).str.lower().isin(["cpu", "nan", ""])
    # The device column only when something ran elsewhere (TensorFlow on a GPU).
    return shown.drop(columns="device") if on_cpu.all() else shown


# ---- charts ----

DTYPE_COLOURS = {"float64": "#3b75af", "float32": "#ef8636"}
MARKERS = "osD^vP*Xh<>p"
LINESTYLES = ("-", "--", "-.", ":")


def save_figure(figure, path: Path) -> Path:
    with replacing(path) as temporary:
        figure.savefig(temporary, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path


def chart_speed(table: pd.DataFrame, network: str, path: Path) -> Path | None:
    """Per network: time per sample of every variant and dtype, log scale, the ratio to the
    fastest written on each bar (unranked bars hatched, with the reason)."""
    data = table[(table["network"] == network)]
    ops = [op for op in OPS if (data["op"] == op).any()]
    if not ops:
        return None
    heights = [max(1, (data["op"] == op).sum()) for op in ops]
    figure, axes = plt.subplots(len(ops), 1, figsize=(9, 0.38 * sum(heights) + 1.6 * len(ops)),
                                gridspec_kw={"height_ratios": heights}, squeeze=False)
    for axis, op in zip(axes[:, 0], ops):
        rows = data[data["op"] == op].iloc[::-1]
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
            text = ratio_text(row.ratio) if row.ranked else "not ranked: " + (
                "mismatch" if row.verification == "mismatch" else f"at {row.shape}")
            axis.text(value * 1.08, y, text, va="center", fontsize=8)
        axis.set_yticks(range(len(labels)), labels, fontsize=8)
        axis.set_xscale("log")
        axis.set_xlim(floor, (finite.max() if finite.size else 1) * 30)
        axis.xaxis.set_major_formatter(EngFormatter(unit="s"))
        axis.set_title(f"{network}: {op}, time per sample (lower is better)", fontsize=10)
        axis.grid(axis="x", which="major", alpha=0.3)
    figure.tight_layout()
    return save_figure(figure, path)


def fitted_slope(x: np.ndarray, y: np.ndarray) -> float:
    """The slope of log y against log x (how the time grows with the axis)."""
    keep = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if keep.sum() < 2:
        return math.nan
    return float(np.polyfit(np.log(x[keep]), np.log(y[keep]), 1)[0])


def chart_scaling(cases: pd.DataFrame, axis_name: str, path: Path, title: str, xlabel: str
                  ) -> tuple[Path | None, pd.DataFrame]:
    """Time per sample against `axis_name` (width or batch), log-log, one line per variant,
    its fitted slope in the legend. Returns the chart and the slopes."""
    sweep = cases[cases["kind"] == axis_name]
    if sweep.empty:
        return None, pd.DataFrame()
    figure, axis = plt.subplots(figsize=(8, 5))
    slopes = []
    for i, (variant, points) in enumerate(sweep.groupby("variant", sort=True)):
        points = points.sort_values(axis_name)
        x = points[axis_name].to_numpy(dtype=float)
        y = points["time_per_unit_s"].to_numpy(dtype=float)
        slope = fitted_slope(x, y)
        slopes.append({"implementation": variant, "slope": slope,
                       "points": len(points), "mismatches": int((~points["ranked"]).sum())})
        axis.plot(x, y, marker=MARKERS[i % len(MARKERS)], linestyle=LINESTYLES[i % 4],
                  label=f"{variant} (slope {slope:.2f})")
    axis.set_xscale("log", base=2)
    axis.set_yscale("log")
    axis.yaxis.set_major_formatter(EngFormatter(unit="s"))
    axis.set_xlabel(xlabel)
    axis.set_ylabel("time per sample")
    axis.set_title(title, fontsize=10)
    axis.grid(which="major", alpha=0.3)
    axis.legend(fontsize=8, loc="best")
    return save_figure(figure, path), pd.DataFrame(slopes)


def chart_memory(records: pd.DataFrame, path: Path) -> Path | None:
    """Peak memory of one training step against the hidden width, every variant probed; the
    Jacobian's own estimate of its long form and its budget beside it; refused widths marked."""
    if records.empty or "kind" not in records or not (records["kind"] == "memory").any():
        return None
    memory = records[records["kind"] == "memory"]
    figure, axis = plt.subplots(figsize=(8, 5))
    for i, (variant, points) in enumerate(memory.groupby("variant", sort=True)):
        points = points.sort_values("width")
        ran = points[points["refused"].fillna("") == ""]
        axis.plot(ran["width"], ran["peak_rss_bytes"], marker=MARKERS[i % len(MARKERS)],
                  label=f"{variant}: measured peak RSS")
        if "estimate_bytes" in points and points["estimate_bytes"].notna().any():
            axis.plot(points["width"], points["estimate_bytes"], linestyle="--", color="black",
                      label=f"{variant}: long-form estimate (one sample)")
            refused = points[points["refused"].fillna("") != ""]
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
    return save_figure(figure, path)


def chart_loss(cases: pd.DataFrame, path: Path) -> tuple[Path | None, pd.DataFrame]:
    """Training loss per epoch, every variant on one axis; and each curve's largest distance
    from numpy's."""
    curves = cases[cases["kind"] == "loss_curve"]
    if curves.empty:
        return None, pd.DataFrame()
    figure, axis = plt.subplots(figsize=(8, 5))
    reference = curves[curves["variant"] == "numpy"]["loss"]
    reference = np.asarray(reference.iloc[0], dtype=float) if not reference.empty else None
    distances = []
    for i, row in enumerate(curves.sort_values("variant").itertuples()):
        loss = np.asarray(row.loss, dtype=float)
        epochs = np.arange(1, len(loss) + 1)
        style = {"linewidth": 6, "alpha": 0.3, "color": "grey"} if row.variant == "numpy" else {
            "marker": MARKERS[i % len(MARKERS)], "linestyle": LINESTYLES[i % 4], "markersize": 5}
        axis.plot(epochs, loss, label=row.variant, **style)
        if reference is not None and len(reference) == len(loss):
            distances.append({"implementation": row.variant,
                              "largest difference from numpy": float(np.max(np.abs(
                                  loss - reference)))})
    first = curves.iloc[0]
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel("epoch")
    axis.set_ylabel("training loss (categorical cross-entropy)")
    axis.set_title(f"Loss per epoch, MNIST {first['shape']} on {first['samples']:.0f} samples, "
                   f"batch {first['batch_size']:.0f}, from the same weights", fontsize=10)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    return save_figure(figure, path), pd.DataFrame(distances)


def chart_cold_start(cases: pd.DataFrame, path: Path) -> Path | None:
    """Seconds from nothing to one trained mini-batch, per variant (and network), log scale;
    refused starts are left out."""
    cold = cases[(cases["kind"] == "cold_start") & (cases["refused"] == "")]
    if cold.empty:
        return None
    pivot = cold.pivot_table(index="variant", columns="network", values="median_s")
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
    return save_figure(figure, path)


# ---- where the time of a training step goes (bench/test_breakdown.py) ----

# The parts of a step's time, in the order the chart stacks them, with their labels.
STEP_PARTS = {
    "ideal": "its FLOPs at the best GEMM rate",
    "shortfall": "the products' shortfall at their shapes",
    "elementwise": "elementwise (bias, activations, loss, derivatives)",
    "update": "the update",
    "rest": "the rest (memory traffic between phases, calls)",
}


def step_breakdown(cases: pd.DataFrame, dtype: str) -> dict | None:
    """numpy_vec's MNIST training step taken apart, for `dtype`: the phases (a frame, one row
    each, timed alone), the whole step, and the step's time split into STEP_PARTS: what the
    best GEMM rate needs for the step's FLOPs, what the products lose at their own shapes, the
    elementwise work, the update, and the rest (the whole step minus its phases timed alone)."""
    phases = cases[(cases["kind"] == "phase") & (cases["dtype"] == dtype)]
    if phases.empty or not (phases["phase_kind"] == "step").any():
        return None
    phases = phases.sort_values("order")
    step = float(phases.loc[phases["phase_kind"] == "step", "median_s"].iloc[0])
    parts = phases[phases["phase_kind"] != "step"]
    by_kind = parts.groupby("phase_kind")["median_s"].sum()
    flops = float(parts["flops"].sum())
    rate = gemm_rates(cases).get(dtype, math.nan)
    ideal = flops / (rate * 1e9)
    products = float(by_kind.get("product", 0.0))
    return {"phases": parts, "step": step, "flops": flops, "rate": rate, "products": products,
            "batch": int(parts["batch_size"].iloc[0]), "shape": parts["shape"].iloc[0],
            "split": {"ideal": ideal, "shortfall": products - ideal,
                      "elementwise": float(by_kind.get("elementwise", 0.0)),
                      "update": float(by_kind.get("update", 0.0)),
                      "rest": step - float(parts["median_s"].sum())}}


def breakdown_table(parts: dict, table: pd.DataFrame, dtype: str) -> pd.DataFrame:
    """One row per phase, then the sums and the whole step, then the fits of the main table
    per batch, for the same dtype."""
    step, rate, batch = parts["step"], parts["rate"], parts["batch"]
    rows = []
    for phase in parts["phases"].itertuples():
        gflops = phase.flops / phase.median_s / 1e9 if phase.flops else math.nan
        rows.append({"phase": phase.phase, "time per batch": seconds_text(phase.median_s),
                     "share of the step": share_text(phase.median_s / step),
                     "GFLOP/s": number_text(gflops), "of GEMM": share_text(gflops / rate)})
    gflops = parts["flops"] / step / 1e9
    rows.append({"phase": "**whole step** (`_train_step`, timed as one)",
                 "time per batch": seconds_text(step), "share of the step": "100%",
                 "GFLOP/s": number_text(gflops), "of GEMM": share_text(gflops / rate)})
    trained = table[(table["network"] == "mnist") & (table["op"] == "train")
                    & (table["dtype"] == dtype) & table["ranked"]].sort_values("time_per_unit_s")
    for label, found in (("numpy's `fit`", trained[trained["variant"] == "numpy"]),
                         ("the fastest `fit`", trained.head(1))):
        if not found.empty:
            row = found.iloc[0]
            rows.append({"phase": f"{label} ({row['variant']}, main table), per batch of {batch}",
                         "time per batch": seconds_text(row["time_per_unit_s"] * batch),
                         "share of the step": share_text(row["time_per_unit_s"] * batch / step),
                         "GFLOP/s": number_text(row["gflops"]),
                         "of GEMM": share_text(row["gemm_share"])})
    return pd.DataFrame(rows)


def breakdown_summary(parts: dict, dtype: str) -> str:
    split, step = parts["split"], parts["step"]
    if split["rest"] >= 0:
        rest = (f"and {seconds_text(split['rest'])} that the phases timed alone do not show "
                f"(each finds its inputs in cache; in the step they come from the phase "
                f"before)")
    else:
        rest = (f"while the phases timed alone add up to {seconds_text(-split['rest'])} more "
                f"than the step (timing noise between cases)")
    return (f"- {dtype}: the step's {parts['flops'] / 1e6:.0f} MFLOP would take "
            f"{seconds_text(split['ideal'])} at the best GEMM rate ({parts['rate']:.0f} "
            f"GFLOP/s); the step takes {seconds_text(step)} "
            f"({share_text(split['ideal'] / step)} of the rate). The products at their own "
            f"shapes take {seconds_text(parts['products'])}: alone, with nothing else to do, "
            f"the step could reach {share_text(split['ideal'] / parts['products'])}. The "
            f"rest: elementwise work {seconds_text(split['elementwise'])}, the update "
            f"{seconds_text(split['update'])}, {rest}.")


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
    return save_figure(figure, path)


# ---- REPORT.md ----


def busy_warning(run: Run) -> list[str]:
    """A warning when other work competed for the CPU while this run measured."""
    threads = run.manifest.get("threads", {}).get("setting")
    loads = [value for step in run.manifest.get("steps", [])
             for value in step.get("load_average", [])]
    if not threads or not loads or max(loads) <= threads + 0.5:
        return []
    return [f"**The machine was busy**: its 1-minute load average reached {max(loads):.1f} "
            f"while this run used {threads} threads, so other work competed for the cores "
            f"and the timings are inflated and noisy. Repeat the run on a quiet machine "
            f"before publishing it.", ""]


def partial_warning(run: Run) -> list[str]:
    """A run that did not finish says so first: interrupted (SIGINT, SIGTERM), or with no end
    time (its runner killed hard, or still running), and which of its steps are missing."""
    manifest = run.manifest
    if not manifest or (manifest.get("finished") and not manifest.get("interrupted")):
        return []
    status = {step["name"]: step.get("status") for step in manifest.get("steps", [])}
    planned = manifest.get("planned_steps") or list(status)
    why = {"running": "was running", "interrupted": "interrupted"}
    missing = [f"{name} ({why.get(status.get(name), 'not run')})" for name in planned
               if status.get(name) in (None, "running", "interrupted")]
    how = (f"interrupted by {manifest['interrupted']}" if manifest.get("interrupted") else
           "never finished (its runner was stopped before the end, or is still running)")
    return [f"**Partial run**: {how}, after {len(planned) - len(missing)} of {len(planned)} "
            f"steps; missing: {', '.join(missing) or 'none'}. This report holds only the "
            f"steps that finished.", ""]


def skipped_lines(run: Run) -> list[str]:
    """The cases skipped for `--max-case-seconds`, each with its estimate."""
    return [f"- {step}: `{case['nodeid'].split('::')[-1]}`: {case['reason']}"
            for step, document in run.documents.items()
            for case in document["nnbench"].get("skipped", [])]


def machine_lines(run: Run) -> list[str]:
    info = run.machine_info
    ours = info.get("nnbench", {})
    versions = ours.get("versions", {})
    blas = ours.get("blas", {}).get("numpy_blas", {})
    threads = run.manifest.get("threads", {}).get("setting", ours.get("threads", {}).get(
        "setting", "?"))
    cpus = run.manifest.get("threads", {}).get("cpus")
    held = (f"; every step held to CPU{'s' * (len(cpus) > 1)} {', '.join(map(str, cpus))}"
            if cpus else "")
    cores = run.manifest.get("cores", ours.get("cores", "?"))  # a held step sees fewer
    lines = [
        f"- CPU: {ours.get('cpu_model', info.get('cpu', {}).get('brand_raw', '?'))}, "
        f"{cores} cores usable; {ours.get('platform', info.get('system', ''))}",
        f"- Threads: {threads} (OMP, OpenBLAS, MKL, Numba and TensorFlow variables set "
        f"alike{held})",
        f"- BLAS (NumPy's): {blas.get('name', '?')} {blas.get('version', '')}".rstrip(),
        "- Accelerators: " + (", ".join(ours.get("accelerators", [])) or
                              "none found (every case ran on the CPU)"),
        "- Versions: " + ", ".join(f"{name} {version}" for name, version in versions.items()),
    ]
    return lines


# ---- the machine's own speed during the run (bench/steadiness.py) ----

@dataclass(frozen=True)
class CheckRate:
    """One of the machine check's rates, and where the tables keep it."""

    label: str  # as the report names it
    case_column: str  # cases_frame: its mean over the checks made around the case
    ratio_column: str  # compare: how much longer it took in B than in A
    unit: str = "GFLOP/s"


CHECK_RATES = {  # keyed as bench/steadiness.py writes them
    "run_threads_gflops": CheckRate("run's threads", "check_run", "check_ratio"),
    "one_thread_gflops": CheckRate("one thread", "check_one", "check_ratio_one"),
    "python_mops": CheckRate("pure Python", "check_python", "check_ratio_python",
                             "M multiply-adds/s"),
}
RATIO_COLUMNS = [check.ratio_column for check in CHECK_RATES.values()]


def check_rates(run: Run) -> dict[str, str]:
    """The check's rates worth showing for `run`: in a one-thread run the products' two are one;
    runs made before the pure-Python check have none of it."""
    rates = {rate: check.label for rate, check in CHECK_RATES.items()}
    if run.manifest.get("threads", {}).get("setting") == 1:
        del rates["one_thread_gflops"]
        rates["run_threads_gflops"] = "run's threads (one)"
    return {rate: label for rate, label in rates.items() if len(check_values(run, rate))}


def check_mean(check, rate: str) -> float:
    """A machine check's mean rate over its start and end (NaN without one)."""
    values = [check[when][rate] for when in ("start", "end")
              if isinstance(check, dict) and rate in check.get(when, {})]
    return sum(values) / len(values) if values else math.nan


def machine_checks(run: Run) -> pd.DataFrame:
    """Each step's machine check: each rate at the start and at the end (steps written before
    the check, or one of its rates, existed have none)."""
    rows = []
    for step, document in run.documents.items():
        check = document["nnbench"].get("machine_check") or {}
        for rate in CHECK_RATES:
            values = [check.get(when, {}).get(rate, math.nan) for when in ("start", "end")]
            rows.append({"step": step, "rate": rate, "start": values[0], "end": values[1],
                         "mean": check_mean(check, rate)})
    return pd.DataFrame(rows, columns=["step", "rate", "start", "end", "mean"])


def check_text(checks: pd.DataFrame, step: str, rate: str) -> str:
    row = checks[(checks["step"] == step) & (checks["rate"] == rate)]
    if row.empty or not np.isfinite(row[["start", "end"]].to_numpy()).all():
        return "-"
    return f"{row['start'].iloc[0]:.0f} → {row['end'].iloc[0]:.0f}"


def check_values(run: Run, rate: str) -> np.ndarray:
    """Every machine check's rate in the run: each process's start and end, and each case's."""
    checks = [document["nnbench"].get("machine_check") for document in run.documents.values()]
    checks += [bench["extra_info"].get("machine_check") for document in run.documents.values()
               for bench in document["benchmarks"]]
    values = [check[when][rate] for check in checks if isinstance(check, dict)
              for when in ("start", "end") if rate in check.get(when, {})]
    return np.array(values, dtype=float)


def check_summary(values: np.ndarray, unit: str = "GFLOP/s") -> str:
    """The range of a machine check's rates, and how often it ran slow: more than 5% below its
    90th percentile (the machine's usual fast state, if it has one)."""
    fast = float(np.quantile(values, 0.9))
    slow = float(np.mean(values < 0.95 * fast))
    return (f"{values.min():.0f} to {values.max():.0f} {unit} over {len(values)} checks; "
            f"{slow:.0%} of them more than 5% below the 90th percentile ({fast:.0f})")


def steadiness_lines(run: Run) -> list[str]:
    """How far the machine check moved over the run, and what that means."""
    lines = [f"- {label}: {check_summary(values, CHECK_RATES[rate].unit)}"
             for rate, label in check_rates(run).items()
             if len(values := check_values(run, rate)) >= 2]
    if not lines:
        return []
    return ["## How steady the machine was", "",
            "Every process timed the same float64 product, (128x784) @ (784x512), and (in runs "
            "made since it was added) a pure-Python dot product, when it started and when it "
            "ended (the columns \"check\" of the table above, GFLOP/s or millions of "
            "multiply-adds per second, start → end), and in the default mode also just before "
            "and just after each predict, train, GEMM and step-phase case:", "", *lines, "",
            "A case's time moves with the machine's: a case measured while the check was slow "
            "is slow too. When two runs of the same code differ, `nnbench compare` sets the "
            "checks made around each case beside it, so that what the machine did can be told "
            "from what an implementation did.", ""]


# ---- do a case's first rounds run slower than its later ones? ----

FIRST_ROUNDS = 4  # set against the second half of the rounds
FEWEST_ROUNDS = 10  # with fewer rounds there is too little to tell


def first_rounds_ratio(rounds) -> float:
    """The median of a case's first FIRST_ROUNDS rounds over the median of its second half
    (NaN for fewer than FEWEST_ROUNDS rounds): above 1, the case started slow."""
    if not isinstance(rounds, list) or len(rounds) < FEWEST_ROUNDS:
        return math.nan
    return float(np.median(rounds[:FIRST_ROUNDS]) / np.median(rounds[len(rounds) // 2:]))


def implementation_of(cases: pd.DataFrame) -> pd.Series:
    """Each case's implementation, with the GEMM and step-phase cases (no variant) as one."""
    variant = cases["variant"].fillna("")
    return variant.where(variant != "", "GEMM and step phases")


def first_rounds_table(cases: pd.DataFrame) -> pd.DataFrame:
    """Per implementation, over its cases above 1 ms with enough rounds: how much slower the
    first rounds ran than the later ones (the median case, and the one farthest above 1)."""
    if "first_rounds" not in cases:
        return pd.DataFrame()
    long = cases[(cases["median_s"] > 1e-3) & cases["first_rounds"].notna()]
    groups = long["first_rounds"].groupby(implementation_of(long), sort=False)
    return pd.DataFrame({"cases": groups.size(), "median": groups.median(),
                         "largest": groups.max()}).rename_axis("implementation").reset_index()


def first_rounds_lines(cases: pd.DataFrame) -> list[str]:
    table = first_rounds_table(cases)
    if table.empty:
        return []
    shown = table.assign(**{column: table[column].map("{:.2f}".format)
                            for column in ("median", "largest")})
    return ["## Did the first rounds run slow?", "",
            f"For each case over 1 ms with {FEWEST_ROUNDS} timed rounds or more: the median of "
            f"its first {FIRST_ROUNDS} rounds over the median of its second half, per "
            "implementation. Well above 1, a case started slow: something was still warming "
            "up, or something that ran before it was still running (an OpenBLAS thread that the "
            "machine check left spinning on the other core made the first rounds of PyTorch "
            "and numba-parallel twice as slow, until the rounds waited for it to sleep).", "",
            markdown_table(shown.rename(columns={"median": "first / later, median case",
                                                 "largest": "largest"})), ""]


def implementations_table(run: Run) -> pd.DataFrame:
    rows = []
    checks, rates = machine_checks(run), check_rates(run)
    for step in run.manifest.get("steps", []):
        load = step.get("load_average") or []
        rows.append({"step": step["name"], "status": step["status"],
                     "cases timed": step.get("cases", 0),
                     "wall time": seconds_text(step.get("seconds", math.nan)),
                     "CPU time": seconds_text(step.get("cpu_seconds", math.nan)),
                     "load average": " → ".join(f"{value:.1f}" for value in load) or "-",
                     **{f"check, {label}": check_text(checks, step["name"], rate)
                        for rate, label in rates.items()},
                     "peak memory (process)": bytes_text(step.get("peak_rss_bytes", 0)),
                     "reason": step.get("reason", "")})
    if not rows:  # a lone JSON file: what its nnbench section says
        for document in run.documents.values():
            section = document["nnbench"]
            for variant in section.get("variants", []):
                rows.append({"step": variant, "status": "ran", "cases timed": sum(
                    1 for b in document["benchmarks"]
                    if b["extra_info"].get("variant") == variant), "reason": ""})
            for variant, reason in section.get("unavailable", {}).items():
                rows.append({"step": variant, "status": "unavailable", "cases timed": 0,
                             "reason": reason})
    return pd.DataFrame(rows)


def memory_table(records: pd.DataFrame) -> pd.DataFrame:
    """One row per hidden width, one column per implementation (refused widths say so), and
    the long-form estimate of those that make one."""
    memory = records[records["kind"] == "memory"].copy()
    refused = memory["refused"].fillna("") != ""
    memory["shown"] = memory["peak_rss_bytes"].map(bytes_text).where(~refused, "refused")
    table = memory.pivot_table(index="width", columns="variant", values="shown",
                               aggfunc="first", sort=False)
    table = table[list(dict.fromkeys(memory["variant"]))]  # in the run's order
    floor = memory.groupby("variant", sort=False)["rss_after_import_bytes"].min()
    rows = [{"hidden width": "after import", **{v: bytes_text(floor[v]) for v in table}}]
    rows += [{"hidden width": f"{width:.0f}", **row} for width, row in table.iterrows()]
    if "estimate_bytes" in memory:
        for variant, points in memory.dropna(subset=["estimate_bytes"]).groupby("variant"):
            estimate = points.set_index("width")["estimate_bytes"]
            for row in rows[1:]:
                row[f"{variant}'s estimate"] = bytes_text(estimate.get(float(row["hidden width"])))
    return pd.DataFrame(rows).fillna("-")


def network_title(table: pd.DataFrame, network: str) -> str:
    shapes = table[(table["network"] == network) & (table["refused"].fillna("") == "")]["shape"]
    shape = shapes.dropna().iloc[0] if not shapes.dropna().empty else ""
    return f"{network} ({shape})" if shape else network


def headline_lines(table: pd.DataFrame) -> list[str]:
    """Per network and operation (float64), the fastest and the slowest ranked variant."""
    lines = []
    for (network, op, dtype), group in table.groupby(["network", "op", "dtype"], sort=False):
        ranked = group[group["ranked"]].sort_values("time_per_unit_s")
        if dtype != "float64" or ranked.empty:
            continue
        best, worst = ranked.iloc[0], ranked.iloc[-1]
        line = (f"- {network} {op}: fastest **{best['variant']}**, "
                f"{seconds_text(best['time_per_unit_s'])} per sample")
        if np.isfinite(best["gemm_share"]):
            line += f" ({share_text(best['gemm_share'])} of the GEMM rate)"
        if len(ranked) > 1:
            line += (f"; slowest {worst['variant']}, {ratio_text(worst['ratio'])} "
                     f"the fastest's time")
        lines.append(line)
    return lines


def target_lines(run: Run, table: pd.DataFrame, cases: pd.DataFrame) -> list[str]:
    """The performance figures issue 4 asks of the suite, as measured in this run."""
    def case(network, op, dtype, variant):
        found = table[(table["network"] == network) & (table["op"] == op)
                      & (table["dtype"] == dtype) & (table["variant"] == variant)
                      & table["ranked"]]
        return found.iloc[0] if not found.empty else None

    lines = []
    for dtype in ("float64", "float32"):
        ranked = table[(table["network"] == "mnist") & (table["op"] == "train")
                       & (table["dtype"] == dtype) & table["ranked"]]
        if not ranked.empty:
            best = ranked.sort_values("time_per_unit_s").iloc[0]
            lines.append(f"- Fastest MNIST training, {dtype}: {best['variant']} at "
                         f"{share_text(best['gemm_share'])} of the GEMM rate (target: 90%; "
                         f"where the rest goes: \"Where the time of a training step goes\")")
    numba, numpy_ = case("xor", "train", "float64", "numba"), case("xor", "train", "float64",
                                                                   "numpy")
    if numba is not None and numpy_ is not None:
        lines.append(f"- XOR training per epoch, float64: numba "
                     f"{numpy_['time_per_unit_s'] / numba['time_per_unit_s']:.3g}× faster than "
                     f"numpy (target: 50×)")
    one_thread = gemm_rates(cases, threads=1)
    for dtype in ("float64", "float32"):
        serial, parallel = case("mnist", "train", dtype, "numba"), case("mnist", "train", dtype,
                                                                        "numba-parallel")
        parts = []
        if serial is not None:
            parts.append(f"numba (one thread) {share_text(serial['gemm_share'])}")
            if dtype in one_thread:
                parts[-1] += (f", {share_text(serial['gflops'] / one_thread[dtype])} of the "
                              f"one-thread GEMM rate")
        if parallel is not None:
            parts.append(f"numba-parallel ({parallel['threads']:.0f} threads) "
                         f"{share_text(parallel['gemm_share'])}")
        if parts:
            lines.append(f"- Numba's MNIST training, {dtype}, share of the GEMM rate: "
                         f"{'; '.join(parts)} (target: 25%)")
    for dtype in ("float64", "float32"):
        default, fast = case("mnist", "train", dtype, "keras"), case("mnist", "train", dtype,
                                                                     "keras-fast")
        if default is not None and fast is not None:
            lines.append(f"- Keras MNIST training, {dtype}: default "
                         f"{seconds_text(default['time_per_unit_s'])} per sample, fastest "
                         f"setting ({fast['variant_note']}) "
                         f"{seconds_text(fast['time_per_unit_s'])}")
    seconds = run.manifest.get("seconds")
    if seconds:
        mode = run.manifest.get("mode")
        limit = 60 if mode == "quick" else 600
        claims_step = next((s for s in run.manifest.get("steps", []) if s["name"] == "claims"),
                           None)
        arguments = claims_step.get("arguments", []) if claims_step else []
        budget = float(arguments[arguments.index("--budget") + 1]) if "--budget" in arguments \
            else 0.0
        if budget > 3:  # more than the default run's claims: the target is for the default
            lines.append(f"- This {mode} run took {seconds - claims_step['seconds']:.0f} s "
                         f"before its claims step (target: at most {limit} s with the default "
                         f"3 s claims budget); the claims, at {budget:g} s per claim and "
                         f"implementation, took {claims_step['seconds']:.0f} s more")
        else:
            lines.append(f"- This {mode} run took {seconds:.0f} s (target: at most {limit} s)")
    run_threads = check_values(run, "run_threads_gflops")
    if len(run_threads) >= 2:
        lines.append(f"- Repeatability (target: a repeat on a quiet machine moves no median over "
                     f"1 ms by more than 5%; `nnbench compare` measures it): how quiet the "
                     f"machine was, its check on the run's threads "
                     f"{check_summary(run_threads)} (\"How steady the machine was\")")
    return lines


def sampling_lines(table: pd.DataFrame, mode: str) -> list[str]:
    sampled = table[table["sampled"] == True]  # noqa: E712 (a column of objects)
    names = ", ".join(sorted(SAMPLED))
    typical = (f"about {seconds_text(sampled['median_s'].median())}" if not sampled.empty
               else "a fraction of a second")
    limit = (f"{MODES[mode].full_s:g} s (the {mode} mode's limit)" if mode in MODES
             else "the mode's limit")
    lines = [f"The slow paradigms ({names}) process one sample at a time, so their time per "
             f"sample does not depend on how many they get: they were timed on a subset sized "
             f"from the time of one sample to take {typical} per round, and their per-sample "
             f"figures are what is compared. Every other implementation ran the full workload, "
             f"unless one epoch of it would have taken longer than {limit}: then as many whole "
             f"batches as fit in that time."]
    if not sampled.empty:
        parts = [f"{r.variant} {r.network} {r.op} {r.dtype}: {r.samples:,.0f} of "
                 f"{r.full_samples:,.0f}" for r in sampled.itertuples()]
        lines.append("Samples used: " + "; ".join(parts) + ".")
    refused = table[table["refused"].fillna("") != ""]
    for row in refused.drop_duplicates("variant").itertuples():
        lines.append(f"{row.variant}: {row.refused} (its MNIST rows are not ranked; the width "
                     f"sweep compares it with the others at the widths it accepts).")
    if mode == "quick":
        lines.append("This was a `--quick` run: small sizes and few rounds, a smoke test of "
                     "the suite. Its numbers are not for publication.")
    return lines


@dataclass
class Report:
    out: Path
    files: list[Path]


def write_report(run: Run, out: Path) -> Report:
    """summary.csv, REPORT.md and charts/*.png of `run`, under `out`."""
    out = Path(out)
    charts = out / "charts"
    cases = cases_frame(run)
    records = records_frame(run)
    table = main_table(run, cases)
    mode = run.manifest.get("mode") or next(iter(run.documents.values()))["nnbench"].get(
        "mode", "")
    files: list[Path] = []

    summary = out / "summary.csv"
    with replacing(summary) as temporary:
        summary_frame(run, table).to_csv(temporary, index=False)
    files.append(summary)

    def chart(made) -> str:
        if made is None:
            return ""
        files.append(made)
        return f"![{made.stem}](charts/{made.name})\n"

    lines = [f"# nnbench report: run {run.name}", ""]
    if run.manifest:
        m = run.manifest
        lines.append(f"`{m.get('command', 'nnbench run')}` on {m.get('machine', '?')}, "
                     f"{m.get('mode')} mode, started {m.get('started')}, took "
                     f"{seconds_text(m.get('seconds') or math.nan)}. Raw data: "
                     f"`runs/{m.get('machine')}/{m.get('run_id')}/`.")
    else:
        lines.append(f"From `{run.source.name}`.")
    lines += ["", *partial_warning(run), *busy_warning(run), "## Machine and versions", "",
              *machine_lines(run), ""]
    lines += ["## Headlines", "", *(headline_lines(table) or ["- no ranked cases"]), ""]
    targets = target_lines(run, table, cases)
    if targets:
        lines += ["### The figures issue 4 asks for", "", *targets, ""]
    lines += [
        "## How this was measured", "",
        "- Every implementation ran in its own process (`nnbench run`: pytest-benchmark, one "
        "process per implementation), with the thread setting above; the GEMM rate was "
        "measured in the same run, under the same setting.",
        "- Before timing, each case checked the implementation against numpy_vec on the same "
        "data from the same weights: the outputs (predict) or the weights after one training "
        "step (train), within 1e-9 (float64) or 1e-4 (float32) of the largest value. A case "
        "that disagrees is shown but not ranked.",
        "- One warm-up round first (JIT compilation and graph tracing happen there; cold start "
        "measures them apart), then as many rounds as fit the case's time budget; tables show "
        "the median, and the spread as the interquartile range over the median.",
        "- Time per sample = median round / (samples × epochs) of the round; GFLOP/s counts the "
        "dense layers' multiply-adds (2 FLOPs each; training adds the two backward products).",
        "- Peak memory and cold start come from a fresh process that imports the "
        "implementation, builds the network and takes one training step of one mini-batch "
        "(float64).",
        "", *sampling_lines(table, mode), ""]

    implementations = implementations_table(run)
    if not implementations.empty:
        lines += ["## Implementations in this run", "", markdown_table(implementations), ""]
    lines += steadiness_lines(run)
    lines += first_rounds_lines(cases)
    gemm = gemm_table(cases)
    if not gemm.empty:
        shown = gemm.assign(median_s=gemm["median_s"].map(seconds_text),
                            gflops=gemm["gflops"].map(number_text),
                            best_gflops=gemm["best_gflops"].map(number_text),
                            threads=gemm["threads"].map("{:.0f}".format))
        shown.columns = ["dtype", "product", "measured in", "median", "GFLOP/s (median)",
                         "GFLOP/s (best round)", "threads"]
        lines += ["## The machine's GEMM rate (NumPy's BLAS)", "",
                  markdown_table(shown), "",
                  "The best round's rate, over the products, per dtype, is the machine's limit "
                  "that the tables' \"of GEMM\" column divides by. The one-thread rows "
                  "(when the run used more) are the yardstick for loops that run on one "
                  "thread by design, such as numba's.", ""]

    for network in [n for n in NETWORK_ORDER if (table.get("network") == n).any()]:
        lines += [f"## {network_title(table, network)}", ""]
        lines.append(chart(chart_speed(table, network, charts / f"speed_{network}.png")))
        for (op, dtype), group in table[table["network"] == network].groupby(
                ["op", "dtype"], sort=False):
            lines += [f"### {network} {op}, {dtype}", "", markdown_table(display_table(group)),
                      ""]

    breakdowns = {dtype: parts for dtype in ("float64", "float32")
                  if (parts := step_breakdown(cases, dtype)) is not None}
    if breakdowns:
        lines += ["## Where the time of a training step goes", "",
                  "numpy_vec's MNIST training step (the reference; the fastest implementations "
                  "run the same products) taken apart on one batch: each phase timed alone "
                  "in the GEMM step's process (bench/test_breakdown.py), then the whole step. "
                  "The matrix products are the step's FLOPs; everything else is time the GEMM "
                  "rate does not count.", "",
                  chart(chart_breakdown(breakdowns, charts / "step_breakdown.png")),
                  *[breakdown_summary(parts, dtype) for dtype, parts in breakdowns.items()],
                  ""]
        for dtype, parts in breakdowns.items():
            lines += [f"### The step's phases, {dtype}", "",
                      markdown_table(breakdown_table(parts, table, dtype)), ""]

    width_chart, width_slopes = chart_scaling(
        cases, "width", charts / "scaling_width.png",
        "Training time per sample against hidden width (MNIST 784-w-10, float64)",
        "hidden width")
    batch_shapes = cases.loc[cases["kind"] == "batch", "shape"].dropna().unique()
    batch_chart, batch_slopes = chart_scaling(
        cases, "batch", charts / "scaling_batch.png",
        f"Training time per sample against batch size (MNIST "
        f"{', '.join(batch_shapes) or 'shape'}, float64)", "batch size")
    if width_chart or batch_chart:
        lines += ["## Scaling", "",
                  "Log-log; the legend gives each implementation's fitted slope (1: time per "
                  "sample proportional to the width, as the FLOPs are; below 1 at small sizes: "
                  "overhead that the width amortises).", ""]
        lines.append(chart(width_chart))
        if not width_slopes.empty:
            lines += [markdown_table(width_slopes.assign(slope=width_slopes["slope"].map(
                "{:.2f}".format))), ""]
        lines.append(chart(batch_chart))
        refused = (records[records["kind"].isin(["width", "batch"])]
                   if not records.empty and "kind" in records else pd.DataFrame())
        for row in refused.itertuples():
            axis = "width" if row.kind == "width" else "batch"
            lines.append(f"- {row.variant} at {axis} {getattr(row, axis):.0f}: refused, "
                         f"{row.refused}")
        lines.append("")

    memory_chart = chart_memory(records, charts / "memory.png")
    if memory_chart:
        lines += ["## Memory against hidden width", "",
                  "Peak resident memory of a fresh process that takes one training step at "
                  "each hidden width (interpreter and libraries included; the first row is "
                  "each one's memory after its imports), beside the memory the explicit "
                  "Jacobian says its long form needs for one sample.", "",
                  chart(memory_chart), markdown_table(memory_table(records)), ""]

    loss_chart, distances = chart_loss(cases, charts / "loss_curve.png")
    if loss_chart:
        lines += ["## Training loss per epoch", "",
                  "Every implementation from the same starting weights on the same data: the "
                  "curves should lie on one another.", "", chart(loss_chart)]
        if not distances.empty:
            lines += [markdown_table(distances.assign(**{
                "largest difference from numpy": distances["largest difference from numpy"]
                .map("{:.2g}".format)})), ""]

    cold_chart = chart_cold_start(cases, charts / "cold_start.png")
    if cold_chart:
        cold = cases[cases["kind"] == "cold_start"].reindex(columns=[
            "variant", "network", "median_s", "import_s", "build_s", "first_step_s",
            "cached_wall_s", "peak_rss_bytes", "refused"])
        shown = pd.DataFrame({
            "implementation": cold["variant"], "network": cold["network"],
            "cold start": cold["median_s"].map(seconds_text),
            "import": cold["import_s"].map(seconds_text),
            "build": cold["build_s"].map(seconds_text),
            "first step": cold["first_step_s"].map(seconds_text),
            "with a warm compile cache": cold["cached_wall_s"].map(seconds_text),
            "peak memory": cold["peak_rss_bytes"].map(bytes_text),
            "refused": cold["refused"].fillna("")})
        lines += ["## Cold start", "",
                  "A fresh process: interpreter start, import, build, one training step of one "
                  "mini-batch (Numba compiles with an empty cache here, TensorFlow traces), "
                  "timed from outside. Import, build and first step are the process's own "
                  "timings of its phases.", "", chart(cold_chart), markdown_table(shown), ""]

    from nnbench.bench import claims

    claims_file = run.source / claims.RUN_FILE
    if claims_file.is_file():  # written by `nnbench run`, or by `nnbench claims --json`

        rows = claims.read_json(claims_file)
        drawn = claims.write_charts(rows, charts)  # [(caption, file name in charts/)]
        files += [charts / name for _, name in drawn]
        lines += claims.markdown_section(rows, drawn)

    failures = failures_frame(run)
    if not failures.empty:
        lines += ["## Failed cases", "", markdown_table(failures.reindex(
            columns=["step", "test", "variant", "network", "dtype", "reason"]).fillna("")), ""]
    skipped = skipped_lines(run)
    if skipped:
        lines += ["## Skipped cases", "", *skipped, ""]

    report_md = out / "REPORT.md"
    write_text(report_md, "\n".join(lines).replace("\n\n\n", "\n\n"))
    files.append(report_md)
    remove_stale_charts(charts, files)
    return Report(out, files)


def remove_stale_charts(charts: Path, written: list[Path]) -> None:
    """Charts a previous report made that this one did not (say, of a network not run now)."""
    keep = {path.resolve() for path in written}
    for path in charts.glob("*.png"):
        if path.resolve() not in keep:
            path.unlink()


# ---- compare ----

KEY = ["kind", "variant", "network", "op", "dtype", "shape", "axis"]


def comparable(cases: pd.DataFrame) -> pd.DataFrame:
    """Each timed case with a key that means the same case on another machine or run."""
    frame = cases.copy()
    for column in KEY + ["m", "k", "n", "width", "batch", "phase", "thread_setting"]:
        if column not in frame:
            frame[column] = ""
    axis = frame["batch"].where(frame["kind"] == "batch", "")
    axis = axis.where(frame["kind"] != "phase", frame["phase"])
    # The GEMM rate is measured on the run's threads and on one, before and after the others.
    axis = axis.where(frame["thread_setting"] != "one", "one thread")
    axis = axis.where(frame["step"] != "gemm-after", (axis.astype(str) + " (after)").str.strip())
    gemm = frame["kind"] == "gemm"
    frame.loc[gemm, "shape"] = [f"{m:.0f}x{k:.0f}x{n:.0f}" for m, k, n in
                                zip(frame.loc[gemm, "m"], frame.loc[gemm, "k"],
                                    frame.loc[gemm, "n"])]
    frame["axis"] = axis.astype(str)
    frame[KEY] = frame[KEY].fillna("").astype(str)
    return frame.drop_duplicates(KEY)  # one row per key, so runs pair up case by case


LONE_FILE = "(the file)"


def step_name(run: Run, step: str) -> str:
    """A step's name, to pair it with another run's: a lone JSON file's one step is named after
    the file, so two such files would never pair."""
    return step if run.manifest else LONE_FILE


def step_checks(run_a: Run, run_b: Run) -> pd.DataFrame:
    """Each step both runs have: its machine check (mean of start and end) in A and in B, per
    rate, and B / A."""
    means = []
    for run in (run_a, run_b):
        checks = machine_checks(run)
        checks["step"] = [step_name(run, step) for step in checks["step"]]
        means.append(checks.pivot_table(index="step", columns="rate", values="mean",
                                        dropna=False))
    joined = means[0].add_suffix("_a").join(means[1].add_suffix("_b"), how="inner")
    for rate in CHECK_RATES:
        joined[f"{rate}_ratio"] = joined[f"{rate}_b"] / joined[f"{rate}_a"]
    return joined


def compare(run_a: Run, run_b: Run) -> tuple[pd.DataFrame, dict]:
    """Every case both runs timed, with time per sample (or per call) in each and B / A, and
    how far the machine check of the case's step moved between the runs."""
    a, b = comparable(cases_frame(run_a)), comparable(cases_frame(run_b))
    columns = KEY + ["time_per_unit_s", "median_s", "ranked", "step",
                     *(check.case_column for check in CHECK_RATES.values())]
    merged = a[columns].merge(b[columns], on=KEY, suffixes=("_a", "_b"))
    merged["ratio"] = merged["time_per_unit_s_b"] / merged["time_per_unit_s_a"]
    for run, side in ((run_a, "step_a"), (run_b, "step_b")):
        merged[side] = [step_name(run, step) for step in merged[side]]
    # A check's rate is work per second: the machine was slower in B when B / A is below 1,
    # so the time it would explain is A / B. The checks made around the case itself where
    # both runs have them; else those made at the start and end of its step's process.
    checks = step_checks(run_a, run_b)
    for rate, check in CHECK_RATES.items():
        by_step = 1 / checks[f"{rate}_ratio"] if not checks.empty else pd.Series(dtype=float)
        step_ratio = merged["step_b"].map(by_step).where(merged["step_a"] == merged["step_b"])
        case_ratio = merged[f"{check.case_column}_a"] / merged[f"{check.case_column}_b"]
        merged[check.ratio_column] = case_ratio.fillna(step_ratio)
    # How far the machine moved for a case: its farthest rate (NaN when no rate was checked)
    merged["machine_move"] = (merged[RATIO_COLUMNS] - 1).abs().max(axis=1)
    keys_a, keys_b = set(map(tuple, a[KEY].to_numpy())), set(map(tuple, b[KEY].to_numpy()))
    ratios = merged["ratio"][np.isfinite(merged["ratio"]) & (merged["ratio"] > 0)]
    # Repeatability: a median of over 1 ms should move by no more than 5% between two runs
    # of the same thing on a quiet machine. A loss curve is one training run, timed once for
    # the record (its point is the losses): it has no median, and is not counted.
    long = merged[(merged["median_s_a"] > 1e-3) & (merged["median_s_b"] > 1e-3)
                  & (merged["kind"] != "loss_curve")]
    moved = (long["ratio"] - 1).abs()
    summary = {"shared": len(merged), "only_a": len(keys_a - keys_b),
               "only_b": len(keys_b - keys_a),
               "geometric_mean": float(np.exp(np.log(ratios).mean())) if len(ratios) else math.nan,
               "over_1ms": len(long), "moved_over_5pc": int((moved > 0.05).sum()),
               "median_move": float(moved.median()) if len(moved) else math.nan,
               "p90_move": float(moved.quantile(0.9)) if len(moved) else math.nan,
               "steps_machine_moved": int((checks.filter(like="_ratio") - 1).abs().gt(0.05)
                                          .any(axis=1).sum()) if not checks.empty else 0,
               "steps_checked": len(checks)}
    # The same counts, apart for the cases whose machine check stayed within 5% (a steady
    # machine: what moved there is the implementation's, or noise the check does not see)
    # and for those whose check moved (by any of its rates).
    checked = long["machine_move"].notna()
    for name, part in (("steady", checked & (long["machine_move"] <= 0.05)),
                       ("unsteady", checked & (long["machine_move"] > 0.05))):
        summary[f"{name}_cases"] = int(part.sum())
        summary[f"{name}_moved"] = int((moved[part] > 0.05).sum())
        summary[f"{name}_median_move"] = float(moved[part].median()) if part.any() else math.nan
    summary["checked"] = int(checked.sum())
    summary["by_implementation"] = moves_by_implementation(long)
    return merged, summary


def moves_by_implementation(long: pd.DataFrame) -> pd.DataFrame:
    """Per implementation (in the runs' order), its cases over 1 ms, how many moved by more
    than 5%, and the ratio farthest from 1: which rows of a table a comparison can trust."""
    groups = long["ratio"].groupby(implementation_of(long), sort=False)
    return pd.DataFrame({
        "cases": groups.size(),
        "moved": groups.agg(lambda ratios: int(((ratios - 1).abs() > 0.05).sum())),
        "farthest": groups.agg(lambda ratios: ratios.iloc[int(np.argmax(np.abs(np.log(ratios))))]),
    }).rename_axis("implementation").reset_index()


def ratios_text(ratios) -> str:
    """A case's check ratios, one per rate ("-" for a rate one of the runs did not check)."""
    if not any(math.isfinite(ratio) for ratio in ratios):
        return "-"
    return " / ".join(f"{ratio:.3f}" if math.isfinite(ratio) else "-" for ratio in ratios)


def compare_text(run_a: Run, run_b: Run) -> str:
    merged, summary = compare(run_a, run_b)

    def describe(run: Run) -> str:
        m = run.manifest
        if not m:
            return str(run.source)
        return (f"{m.get('run_id')} ({m.get('machine')}, {m.get('mode')}, "
                f"{m.get('threads', {}).get('setting')} threads)")

    lines = [f"A: {describe(run_a)}", f"B: {describe(run_b)}", ""]
    if merged.empty:
        lines.append("The two runs share no case.")
        return "\n".join(lines)
    timed = merged["kind"].isin(PER_SAMPLE_KINDS)
    shown = pd.DataFrame({
        "case": [" ".join(part for part in (r.kind, r.network, r.dtype, r.variant, r.shape,
                                            f"batch {r.axis}" if r.kind == "batch"
                                            else r.axis) if part)
                 for r in merged.itertuples()],
        "A": merged["time_per_unit_s_a"].map(seconds_text),
        "B": merged["time_per_unit_s_b"].map(seconds_text),
        "B/A": merged["ratio"].map(lambda r: f"{r:.3f}"),
        "check B/A": [ratios_text(ratios) for ratios
                      in merged[RATIO_COLUMNS].itertuples(index=False)],
        "": ["" if not is_timed or (ra and rb) else "not ranked in " + (
            "A and B" if not (ra or rb) else "A" if not ra else "B")
             for is_timed, ra, rb in zip(timed, merged["ranked_a"], merged["ranked_b"])],
    })
    lines.append("Time per sample (per call for cold start, GEMM and loss curves); "
                 "B/A below 1: B is faster. check B/A: how much longer the machine check took "
                 "in B (the product on the run's threads / on one thread / the pure-Python dot "
                 "product; bench/steadiness.py), as made "
                 "around the case, or at the start and end of its step for a case without.")
    lines.append(shown.to_string(index=False))
    lines += ["", f"{summary['shared']} shared cases; geometric mean of B/A "
                  f"{summary['geometric_mean']:.3f}; only in A: {summary['only_a']}, only in B: "
                  f"{summary['only_b']}",
              f"{summary['moved_over_5pc']} of the {summary['over_1ms']} cases with medians over "
              f"1 ms moved by more than 5% (by how much they moved: median "
              f"{summary['median_move']:.1%}, 90th percentile {summary['p90_move']:.1%}; loss "
              f"curves, timed once, not counted)"]
    by_implementation = summary["by_implementation"]
    if not by_implementation.empty:
        table = by_implementation.assign(farthest=by_implementation["farthest"].map(
            "{:.3f}".format)).rename(columns={"moved": "moved over 5%",
                                              "farthest": "B/A farthest from 1"})
        lines += ["By implementation, the cases over 1 ms:", table.to_string(index=False)]
    if summary["checked"]:
        lines.append(f"The machine check moved by more than 5% in "
                     f"{summary['steps_machine_moved']} of the {summary['steps_checked']} steps "
                     f"(their start and end).")
        for name, how in (("steady", "stayed within 5%"), ("unsteady", "moved by more than 5%")):
            if summary[f"{name}_cases"]:
                lines.append(f"Cases over 1 ms whose machine check {how}: "
                             f"{summary[f'{name}_moved']} of {summary[f'{name}_cases']} moved by "
                             f"more than 5% (median move {summary[f'{name}_median_move']:.1%})")
    else:
        lines.append("No machine check to compare (runs made before bench/steadiness.py)")
    return "\n".join(lines)
