"""A run as tables (pandas): the DataFrames that the report is built from (the cases are in
bench/cases.py; the steps, the machine check and the first rounds in bench/checks.py).

Nothing is typed in: every number is computed from the rounds and `extra_info` the benchmark
cases recorded (bench/measure.py says what each field means), and each comes with its 95%
interval over the processes that measured it (bench/stats.py):

    time per sample   per process, the median round / (samples x epochs of that round); the
                      case's figure is their geometric mean
    samples/s         1 / time per sample
    ratio             time per sample / the fastest ranked one's, per network, operation,
                      dtype, paired by block; an interval that holds 1 is a tie, and a tie
                      shares its rank
    GFLOP/s           FLOPs of the dense layers in a round (NetworkSpec.flops_per_sample) /
                      its time, and its share of the GEMM rate measured in the same blocks

A case is ranked only when it agreed with numpy and ran the network at its requested shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import stats
from .cases import (
    cases_frame,
    failures_frame,
    gemm_by_block,
    gemm_share_of,
    process_frame,
    ratio_of,
    records_frame,
)
from .formatting import (
    bytes_text,
    number_text,
    range_text,
    ratio_text,
    seconds_text,
    share_text,
)
from .results import OPS, Info, Kind, Phase, Run, Verified
from .workloads import NETWORKS

DTYPE_ORDER = ("float64", "float32")
REFERENCE_VARIANT = "numpy"  # what every case is verified against, and the loss curves too


# ---- the machine's GEMM rate ----


def gemm_table(cases: pd.DataFrame) -> pd.DataFrame:
    """Each measured product: its median rate, and its best round's (the machine's limit is
    what the machine can do, so the fastest round, not the typical one, measures it)."""
    gemm = cases[cases[Info.KIND] == Kind.GEMM].copy()
    if gemm.empty:
        return gemm
    gemm["shape"] = [f"({m:.0f}x{k:.0f}) @ ({k:.0f}x{n:.0f})"
                     for m, k, n in zip(gemm["m"], gemm["k"], gemm["n"])]
    gemm["best_gflops"] = gemm[Info.FLOPS] / gemm["min_s"] / 1e9
    return gemm[[Info.DTYPE, "shape", "step", "median_s", "gflops", "best_gflops", Info.THREADS]
                ].sort_values([Info.DTYPE, "best_gflops"], ascending=[False, False])


def gemm_rates(cases: pd.DataFrame, threads: int | None = None) -> dict[str, float]:
    """The machine's limit per dtype: the best round's GFLOP/s over its GEMM shapes (with
    `threads`: over the products measured on that many threads only)."""
    gemm = gemm_table(cases)
    if threads is not None and not gemm.empty:
        gemm = gemm[gemm[Info.THREADS] == threads]
    return gemm.groupby(Info.DTYPE)["best_gflops"].max().to_dict() if not gemm.empty else {}


def gemm_display(cases: pd.DataFrame) -> pd.DataFrame:
    """The GEMM table as the report shows it (empty without GEMM cases)."""
    gemm = gemm_table(cases)
    if gemm.empty:
        return gemm
    shown = gemm.assign(median_s=gemm["median_s"].map(seconds_text),
                        gflops=gemm["gflops"].map(number_text),
                        best_gflops=gemm["best_gflops"].map(number_text),
                        threads=gemm[Info.THREADS].map("{:.0f}".format))
    shown.columns = ["dtype", "product", "measured in", "median", "GFLOP/s (median)",
                     "GFLOP/s (best round)", "threads"]
    return shown


# ---- the main table: predict and train ----


def main_table(run: Run, cases: pd.DataFrame, processes: pd.DataFrame | None = None
               ) -> pd.DataFrame:
    """predict and train per network, operation, dtype and variant, ranked within each group
    (ties share a rank); failed cases are rows too, with their reason. `processes`: the run's
    process_frame, made here when not given."""
    table = with_failures(cases[cases[Info.KIND].isin(OPS)].copy(), failures_frame(run))
    if table.empty:
        return table
    if "failure" not in table:
        table["failure"] = ""
    table["failure"] = table["failure"].fillna("")
    table["ranked"] = table["ranked"].fillna(False).astype(bool)
    table = with_ranks(table)
    rates = gemm_by_block(process_frame(run) if processes is None else processes)
    shares = [gemm_share_of(row, rates.get(row[Info.DTYPE], {})) if row["failure"] == ""
              else stats.NO_ESTIMATE for _, row in table.iterrows()]
    table["gemm_share"] = [share.value for share in shares]
    table["gemm_share_low"] = [share.low for share in shares]
    table["gemm_share_high"] = [share.high for share in shares]
    table = with_cold_start(table, cases)
    table["note"] = [case_note(row) for row in table.itertuples()]
    order = {name: i for i, name in enumerate(NETWORKS)}
    table["_network"] = table[Info.NETWORK].map(order).fillna(len(order))
    table["_op"] = table[Info.OP].map({op: i for i, op in enumerate(OPS)})
    table["_rank"] = table["ratio"].fillna(math.inf)
    table = table.sort_values(["_network", "_op", Info.DTYPE, "_rank", "time_per_unit_s"],
                              ascending=[True, True, False, True, True])
    return table.drop(columns=["_network", "_op", "_rank"]).reset_index(drop=True)


def with_ranks(table: pd.DataFrame) -> pd.DataFrame:
    """Each ranked case's ratio to the fastest of its network, operation and dtype, with the
    ratio's interval, its rank, and whether it shares the rank (`tied`)."""
    for column in ("ratio", "ratio_low", "ratio_high", "rank"):
        table[column] = math.nan
    table["tied"] = False
    for _, group in table[table["ranked"]].groupby([Info.NETWORK, Info.OP, Info.DTYPE]):
        group = group.sort_values("time_per_unit_s")
        rows = [row for _, row in group.iterrows()]
        fastest = rows[0]
        found = [stats.Estimate(1.0, 1.0, 1.0, fastest["processes"])]
        found += [ratio_of(row, fastest) for row in rows[1:]]
        table.loc[group.index, "ratio"] = group["time_per_unit_s"] / fastest["time_per_unit_s"]
        table.loc[group.index, "ratio_low"] = [ratio.low for ratio in found]
        table.loc[group.index, "ratio_high"] = [ratio.high for ratio in found]
        ranks = stats.tie_ranks(rows, lambda a, b: ratio_of(b, a).includes(1.0))
        table.loc[group.index, "rank"] = ranks
        shared = pd.Series(ranks).duplicated(keep=False).to_numpy()
        table.loc[group.index, "tied"] = shared
    return table


def with_failures(table: pd.DataFrame, failures: pd.DataFrame) -> pd.DataFrame:
    """The predict and train cases, and a row for each of those that failed."""
    if failures.empty or "test" not in failures:
        return table
    failed = failures[failures["test"].isin([f"test_{op}" for op in OPS])].copy()
    failed = failed.drop_duplicates([c for c in ("test", Info.VARIANT, Info.NETWORK, Info.DTYPE)
                                     if c in failed])  # the same case in every block
    if not table.empty and not failed.empty:  # timed in another block: its timing stands
        timed = set(zip(table[Info.VARIANT], table[Info.NETWORK], table[Info.DTYPE],
                        table[Info.OP]))
        failed = failed[[(v, n, d, t.replace("test_", "")) not in timed for v, n, d, t in zip(
            failed[Info.VARIANT], failed[Info.NETWORK], failed[Info.DTYPE], failed["test"])]]
    if failed.empty:
        return table
    failed[Info.OP] = failed["test"].str.replace("test_", "", regex=False)
    failed[Info.KIND] = failed[Info.OP]
    failed["failure"] = failed["reason"]
    failed["ranked"] = False
    columns = ["step", Info.VARIANT, Info.NETWORK, Info.DTYPE, Info.OP, Info.KIND, "failure",
               "ranked"]
    return pd.concat([table, failed[[c for c in columns if c in failed]]], ignore_index=True)


def with_cold_start(table: pd.DataFrame, cases: pd.DataFrame) -> pd.DataFrame:
    """The table with each variant's cold start and its peak memory on the row's network."""
    cold = cases[(cases[Info.KIND] == Kind.COLD_START) & (cases[Info.REFUSED] == "")]
    table = table.drop(columns=["cold_start_s", "peak_rss_bytes"], errors="ignore")
    if not cold.empty:
        key = [Info.VARIANT, Info.NETWORK]
        cold_by = cold.set_index(key)
        table = table.join(cold_by["median_s"].rename("cold_start_s"), on=key)
        table = table.join(cold_by["peak_rss_bytes"].rename("peak_rss_bytes"), on=key)
    for column in ("cold_start_s", "peak_rss_bytes"):
        if column not in table:
            table[column] = math.nan
    return table


def case_note(row) -> str:
    """Why a case is not ranked, how it was sampled, and which setting it is."""
    notes = []
    if getattr(row, "failure", ""):
        notes.append(f"failed: {row.failure}")
    if getattr(row, "verification", "") == Verified.MISMATCH:
        notes.append(f"not ranked, disagrees with numpy: {row.verification_detail}")
    if getattr(row, "refused", ""):
        notes.append(f"not ranked: {row.refused}")
    if getattr(row, "sampled", False) is True:
        notes.append(f"sampled: {row.samples:,.0f} of {row.full_samples:,.0f} samples")
    note = getattr(row, "variant_note", "")
    if isinstance(note, str) and note:
        notes.append(note)
    return "; ".join(notes)


def ranked_case(table: pd.DataFrame, network: str, op: str, dtype: str,
                variant: str | None = None):
    """The main table's ranked row of `variant` (None: the fastest one) on the network,
    operation and dtype, or None when there is none."""
    found = table[(table[Info.NETWORK] == network) & (table[Info.OP] == op)
                  & (table[Info.DTYPE] == dtype) & table["ranked"]].sort_values("time_per_unit_s")
    if variant is not None:
        found = found[found[Info.VARIANT] == variant]
    return found.iloc[0] if not found.empty else None


# summary.csv's columns, from the main table's (renamed in summary_frame).
SUMMARY_COLUMNS = ["network", "op", "dtype", "variant", "impl", "shape", "samples", "epochs",
                   "sampled", "batch_size", "rounds", "processes", "within_process",
                   "time_per_unit_s", "low_s", "high_s", "samples_per_s", "rank", "tied",
                   "ratio", "ratio_low", "ratio_high", "gflops", "gemm_share",
                   "gemm_share_low", "gemm_share_high", "peak_rss_bytes", "cold_start_s",
                   "verification", "max_error", "ranked", "device", "threads", "note"]


def summary_frame(run: Run, table: pd.DataFrame) -> pd.DataFrame:
    """summary.csv: the main table's columns, with the run and the machine first; every
    figure's 95% interval is in the `_low` and `_high` columns beside it."""
    summary = table.reindex(columns=SUMMARY_COLUMNS).rename(
        columns={"time_per_unit_s": "time_per_sample_s", "low_s": "time_per_sample_low_s",
                 "high_s": "time_per_sample_high_s", "ratio": "ratio_to_fastest",
                 "ratio_low": "ratio_to_fastest_low", "ratio_high": "ratio_to_fastest_high"})
    summary.insert(0, "run_id", run.name)
    summary.insert(1, "machine", run.manifest.get("machine", run.machine_info.get(
        "nnbench", {}).get("machine", "")))
    return summary


# ---- the main table as the report shows it ----


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
    if status == Verified.OK:
        return "ok (exact)" if row.max_error == 0 else f"ok ({row.max_error:.1g})"
    if status == Verified.MISMATCH:
        return f"**MISMATCH** ({row.max_error:.2g})"
    return status or "-"


def rank_text(row) -> str:
    """A ranked case's place, with "=" when it shares it ("-" when not ranked)."""
    if not row.ranked or not np.isfinite(row.rank):
        return "-"
    return f"{row.rank:.0f}{'=' if row.tied else ''}"


def display_table(group: pd.DataFrame) -> pd.DataFrame:
    """A group of the main table as the report shows it: every figure with its 95%
    interval, and the processes it rests on."""
    rows = []
    for row in group.itertuples():
        failed = bool(row.failure)
        rows.append({
            "#": rank_text(row),
            "implementation": row.variant,
            "time / sample": "-" if failed else seconds_text(row.time_per_unit_s),
            "95% interval": "-" if failed else range_text(row.low_s, row.high_s, seconds_text),
            "processes": "-" if failed else f"{row.processes:.0f}",
            "samples/s": "-" if failed else number_text(row.samples_per_s),
            "vs fastest": ratio_text(row.ratio) + (
                f" ({range_text(row.ratio_low, row.ratio_high, ratio_text)})"
                if np.isfinite(row.ratio_low) and row.ratio != 1 else ""),
            "GFLOP/s": "-" if failed else number_text(row.gflops),
            "of GEMM": share_text(row.gemm_share) + (
                f" ({range_text(row.gemm_share_low, row.gemm_share_high, share_text)})"
                if np.isfinite(row.gemm_share_low) else ""),
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


def network_title(table: pd.DataFrame, network: str) -> str:
    shapes = table[(table[Info.NETWORK] == network)
                   & (table[Info.REFUSED].fillna("") == "")]["shape"]
    shape = shapes.dropna().iloc[0] if not shapes.dropna().empty else ""
    return f"{network} ({shape})" if shape else network


# ---- where the time of a training step goes (bench/test_breakdown.py) ----

# The parts of a step's time, in the order the chart stacks them, with their labels.
STEP_PARTS = {
    "ideal": "its FLOPs at the best GEMM rate",
    "shortfall": "the products' shortfall at their shapes",
    "elementwise": "elementwise (bias, activations, loss, derivatives)",
    "update": "the update",
    "rest": "the rest (memory traffic between phases, calls)",
}


def stepped_impl(phases: pd.DataFrame) -> pd.Series:
    """Each phase case's implementation, whose step it is part of (numpy where a run from before
    numpy-fast's breakdown recorded none)."""
    impl = phases[Info.IMPL] if Info.IMPL in phases else pd.Series("", index=phases.index)
    return impl.fillna("").replace("", REFERENCE_VARIANT)


def stepped_impls(cases: pd.DataFrame) -> list[str]:
    """The implementations whose MNIST step the run took apart: the reference first, then the
    others in the run's order."""
    found = dict.fromkeys(stepped_impl(cases[cases[Info.KIND] == Kind.PHASE]))
    return sorted(found, key=lambda impl: impl != REFERENCE_VARIANT)


def step_breakdown(cases: pd.DataFrame, dtype: str,
                   impl: str = REFERENCE_VARIANT) -> dict | None:
    """`impl`'s MNIST training step taken apart, for `dtype`: the phases (a frame, one row
    each, timed alone), the whole step, and the step's time split into STEP_PARTS: what the
    best GEMM rate needs for the step's FLOPs, what the products lose at their own shapes, the
    elementwise work, the update, and the rest (the whole step minus its phases timed alone)."""
    phases = cases[(cases[Info.KIND] == Kind.PHASE) & (cases[Info.DTYPE] == dtype)]
    phases = phases[stepped_impl(phases) == impl]
    if phases.empty or not (phases[Info.PHASE_KIND] == Phase.STEP).any():
        return None
    phases = phases.sort_values("order")
    step = float(phases.loc[phases[Info.PHASE_KIND] == Phase.STEP, "median_s"].iloc[0])
    parts = phases[phases[Info.PHASE_KIND] != Phase.STEP]
    by_kind = parts.groupby(Info.PHASE_KIND)["median_s"].sum()
    flops = float(parts[Info.FLOPS].sum())
    rate = gemm_rates(cases).get(dtype, math.nan)
    ideal = flops / (rate * 1e9)
    products = float(by_kind.get(Phase.PRODUCT, 0.0))
    return {"impl": impl, "phases": parts, "step": step, "flops": flops, "rate": rate,
            "products": products, "batch": int(parts[Info.BATCH_SIZE].iloc[0]),
            "shape": parts["shape"].iloc[0],
            "split": {"ideal": ideal, "shortfall": products - ideal,
                      "elementwise": float(by_kind.get(Phase.ELEMENTWISE, 0.0)),
                      "update": float(by_kind.get(Phase.UPDATE, 0.0)),
                      "rest": step - float(parts["median_s"].sum())}}


def step_breakdowns(cases: pd.DataFrame, impl: str = REFERENCE_VARIANT) -> dict[str, dict]:
    """`step_breakdown` of `impl` for every dtype that has one."""
    return {dtype: parts for dtype in DTYPE_ORDER
            if (parts := step_breakdown(cases, dtype, impl)) is not None}


def every_step_breakdown(cases: pd.DataFrame) -> dict[str, dict[str, dict]]:
    """`step_breakdowns` of every implementation whose step the run took apart."""
    return {impl: found for impl in stepped_impls(cases)
            if (found := step_breakdowns(cases, impl))}


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
    trained = table[(table[Info.NETWORK] == "mnist") & (table[Info.OP] == Kind.TRAIN)
                    & (table[Info.DTYPE] == dtype) & table["ranked"]].sort_values("time_per_unit_s")
    impl = parts.get("impl", REFERENCE_VARIANT)
    for label, found in ((f"{impl}'s `fit`", trained[trained[Info.VARIANT] == impl]),
                         ("the fastest `fit`", trained.head(1))):
        if not found.empty:
            row = found.iloc[0]
            rows.append({"phase": f"{label} ({row[Info.VARIANT]}, main table), per batch of "
                                  f"{batch}",
                         "time per batch": seconds_text(row["time_per_unit_s"] * batch),
                         "share of the step": share_text(row["time_per_unit_s"] * batch / step),
                         "GFLOP/s": number_text(row["gflops"]),
                         "of GEMM": share_text(row["gemm_share"])})
    return pd.DataFrame(rows)


# ---- scaling, memory, loss curves, cold start ----


def fitted_slope(x: np.ndarray, y: np.ndarray) -> float:
    """The slope of log y against log x (how the time grows with the axis)."""
    keep = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if keep.sum() < 2:
        return math.nan
    return float(np.polyfit(np.log(x[keep]), np.log(y[keep]), 1)[0])


def sweep_points(cases: pd.DataFrame, axis: str):
    """(variant, its points sorted along `axis`) of the sweep over `axis` (width or batch)."""
    sweep = cases[cases[Info.KIND] == axis]
    for variant, points in sweep.groupby(Info.VARIANT, sort=True):
        yield variant, points.sort_values(axis)


def scaling_slopes(cases: pd.DataFrame, axis: str) -> pd.DataFrame:
    """Per variant of the sweep over `axis`: the fitted slope of its time per sample, its
    points, and how many of them disagree with numpy or were refused."""
    return pd.DataFrame([
        {"implementation": variant, "slope": fitted_slope(
            points[axis].to_numpy(dtype=float), points["time_per_unit_s"].to_numpy(dtype=float)),
         "points": len(points), "mismatches": int((~points["ranked"]).sum())}
        for variant, points in sweep_points(cases, axis)])


def refused_points(records: pd.DataFrame) -> pd.DataFrame:
    """The sweep points a variant refused (over its memory budget)."""
    if records.empty or Info.KIND not in records:
        return pd.DataFrame()
    return records[records[Info.KIND].isin([Kind.WIDTH, Kind.BATCH])]


def memory_table(records: pd.DataFrame) -> pd.DataFrame:
    """One row per hidden width, one column per implementation (refused widths say so), and
    the long-form estimate of those that make one."""
    memory = records[records[Info.KIND] == Kind.MEMORY].copy()
    refused = memory[Info.REFUSED].fillna("") != ""
    memory["shown"] = memory["peak_rss_bytes"].map(bytes_text).where(~refused, "refused")
    table = memory.pivot_table(index="width", columns=Info.VARIANT, values="shown",
                               aggfunc="first", sort=False)
    table = table[list(dict.fromkeys(memory[Info.VARIANT]))]  # in the run's order
    floor = memory.groupby(Info.VARIANT, sort=False)["rss_after_import_bytes"].min()
    rows = [{"hidden width": "after import", **{v: bytes_text(floor[v]) for v in table}}]
    rows += [{"hidden width": f"{width:.0f}", **row} for width, row in table.iterrows()]
    if "estimate_bytes" in memory:
        for variant, points in memory.dropna(subset=["estimate_bytes"]).groupby(Info.VARIANT):
            estimate = points.set_index("width")["estimate_bytes"]
            for row in rows[1:]:
                row[f"{variant}'s estimate"] = bytes_text(estimate.get(float(row["hidden width"])))
    return pd.DataFrame(rows).fillna("-")


def loss_distances(cases: pd.DataFrame) -> pd.DataFrame:
    """Each loss curve's largest distance from numpy's (of the same length)."""
    curves = cases[cases[Info.KIND] == Kind.LOSS_CURVE]
    reference = curves[curves[Info.VARIANT] == REFERENCE_VARIANT]["loss"]
    if curves.empty or reference.empty:
        return pd.DataFrame()
    reference = np.asarray(reference.iloc[0], dtype=float)
    distances = []
    for row in curves.sort_values(Info.VARIANT).itertuples():
        loss = np.asarray(row.loss, dtype=float)
        if len(reference) == len(loss):
            distances.append({"implementation": row.variant,
                              "largest difference from numpy": float(np.max(np.abs(
                                  loss - reference)))})
    return pd.DataFrame(distances)


def cold_starts(cases: pd.DataFrame) -> pd.DataFrame:
    """The cold starts that ran (none refused)."""
    return cases[(cases[Info.KIND] == Kind.COLD_START) & (cases[Info.REFUSED] == "")]


def cold_start_table(cases: pd.DataFrame) -> pd.DataFrame:
    """Every cold start with its phases, as the report shows them."""
    cold = cases[cases[Info.KIND] == Kind.COLD_START].reindex(columns=[
        Info.VARIANT, Info.NETWORK, "median_s", "low_s", "high_s", "processes", "import_s",
        "build_s", "first_step_s", "cached_wall_s", "peak_rss_bytes", Info.REFUSED])
    return pd.DataFrame({
        "implementation": cold[Info.VARIANT], "network": cold[Info.NETWORK],
        "cold start": cold["median_s"].map(seconds_text),
        "95% interval": [range_text(low, high, seconds_text)
                         for low, high in zip(cold["low_s"], cold["high_s"])],
        "processes": cold["processes"].map(lambda n: f"{n:.0f}" if n == n else "-"),
        "import": cold["import_s"].map(seconds_text),
        "build": cold["build_s"].map(seconds_text),
        "first step": cold["first_step_s"].map(seconds_text),
        "with a warm compile cache": cold["cached_wall_s"].map(seconds_text),
        "peak memory": cold["peak_rss_bytes"].map(bytes_text),
        "refused": cold[Info.REFUSED].fillna("")})


# ---- everything a report needs, computed once ----


@dataclass
class Frames:
    """The frames of one run that the report's sections and charts are drawn from."""

    run: Run
    cases: pd.DataFrame  # cases_frame
    records: pd.DataFrame  # records_frame
    table: pd.DataFrame  # main_table
    breakdowns: dict[str, dict]  # step_breakdowns: numpy_vec's, drawn in the chart
    every_breakdown: dict[str, dict[str, dict]] = field(default_factory=dict)  # by impl

    @classmethod
    def of(cls, run: Run) -> Frames:
        processes = process_frame(run)
        cases = cases_frame(run, processes)
        every = every_step_breakdown(cases)
        return cls(run, cases, records_frame(run), main_table(run, cases, processes),
                   every.get(REFERENCE_VARIANT, {}), every)
