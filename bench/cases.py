"""A run's cases as frames (pandas): one row per case and process, then one per case.

A run measures every case in one process per block (bench/runner.py). `process_frame` has a
row for each case in each process, with the per-unit times of its rounds (a round's time over
its samples x epochs, or per call for the kinds timed per call). `cases_frame` folds the
processes of a case into one row: its figure and 95% interval (bench/stats.py), the first
block's fields (the sizes every block timed, the verification), and `rounds_by_block`, which
the ratios between cases are computed from (`ratio_of`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import stats
from .checks import CHECK_RATES, check_mean, first_rounds_ratio
from .results import PER_SAMPLE_KINDS, RANKABLE, Info, Kind, Run, Section, Verified


def shape_text(sizes) -> str:
    return "-".join(str(int(s)) for s in sizes) if isinstance(sizes, list) else ""


def step_blocks(run: Run) -> dict[str, tuple[str, int]]:
    """Each step's (group, block): its variant, or `gemm`, and the block it ran in. A step of
    a run made before blocks, or a lone JSON file's, is its own group in block 1."""
    steps = {step["name"]: step for step in run.manifest.get("steps", [])}
    return {name: (steps.get(name, {}).get("group") or name,
                   int(steps.get(name, {}).get("block") or 1)) for name in run.documents}


def process_frame(run: Run) -> pd.DataFrame:
    """One row per timed case and process: its stats, its extra_info, the per-unit times of
    its rounds (`unit_rounds`) and the machine check around it."""
    rows = []
    blocks = step_blocks(run)
    for step, document in run.documents.items():
        group, block = blocks[step]
        for bench in document["benchmarks"]:
            stats_, info = bench["stats"], bench["extra_info"]
            row = {"step": step, "group": group, "block": block, "name": bench.get("name", ""),
                   **info, "median_s": stats_["median"], "iqr_s": stats_.get("iqr", math.nan),
                   "min_s": stats_.get("min", math.nan), "rounds": stats_.get("rounds", 0),
                   "iterations": stats_.get("iterations", 1),
                   "data": stats_.get("data") or [stats_["median"]]}
            row["shape"] = shape_text(info.get(Info.SIZES))
            row["first_rounds"] = first_rounds_ratio(stats_.get("data"))
            for rate, check in CHECK_RATES.items():  # the machine check around the case
                row[check.case_column] = check_mean(info.get(Info.MACHINE_CHECK), rate)
            rows.append(row)
    processes = pd.DataFrame(rows)
    if processes.empty:
        return processes
    defaults = {Info.SAMPLES: math.nan, Info.EPOCHS: 1, Info.FLOPS: math.nan,
                Info.VERIFICATION: "", Info.REFUSED: "", Info.VARIANT: "", Info.NETWORK: "",
                Info.OP: "", Info.DTYPE: "", Info.SAMPLED: False}
    for column, default in defaults.items():
        if column not in processes:
            processes[column] = default
    processes[Info.REFUSED] = processes[Info.REFUSED].fillna("")
    processes[Info.VERIFICATION] = processes[Info.VERIFICATION].fillna("")
    per_call = processes[Info.KIND].isin(PER_SAMPLE_KINDS)
    processes["units"] = (processes[Info.SAMPLES] * processes[Info.EPOCHS].fillna(1)).where(
        per_call, 1.0)
    processes["unit_rounds"] = [np.asarray(data, dtype=float) / units for data, units
                                in zip(processes["data"], processes["units"])]
    return processes.drop(columns="data")


EMPTY_COLUMNS = [Info.KIND, Info.VARIANT, Info.NETWORK, Info.OP, Info.DTYPE, "median_s",
                 "time_per_unit_s", "rounds_by_block"]


def cases_frame(run: Run, processes: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per timed case: the first block's fields, and over its processes the figure
    (`time_per_unit_s`, and `median_s` for the first block's round), its 95% interval
    (`low_s`, `high_s`, per unit), the number of processes, and the per-sample figures."""
    processes = process_frame(run) if processes is None else processes
    if processes.empty:
        return pd.DataFrame(columns=EMPTY_COLUMNS)
    rows = []
    for _, part in processes.groupby(["group", "name"], sort=False):
        part = part.sort_values("block")
        row = part.iloc[0].to_dict()
        rounds = {int(block): values for block, values in zip(part["block"], part["unit_rounds"])}
        figure = stats.estimate(rounds)
        row.update(rounds_by_block=rounds, processes=len(rounds),
                   within_process=figure.within_process, time_per_unit_s=figure.value,
                   low_s=figure.low, high_s=figure.high, median_s=figure.value * row["units"],
                   min_s=part["min_s"].min(),
                   first_rounds=part["first_rounds"].median())
        mismatched = part[part[Info.VERIFICATION] == Verified.MISMATCH]
        if not mismatched.empty:  # a process that disagreed makes the case disagree
            row.update(mismatched.iloc[0][[Info.VERIFICATION, Info.MAX_ERROR,
                                           Info.VERIFICATION_DETAIL]].to_dict())
        if "peak_rss_bytes" in part:
            row["peak_rss_bytes"] = part["peak_rss_bytes"].max()
        for check in CHECK_RATES.values():
            row[check.case_column] = part[check.case_column].mean()
        rows.append(row)
    cases = pd.DataFrame(rows)
    per_call = cases[Info.KIND].isin(PER_SAMPLE_KINDS)
    cases["samples_per_s"] = (1 / cases["time_per_unit_s"]).where(per_call)
    cases["gflops"] = cases[Info.FLOPS] / cases["median_s"] / 1e9
    cases["ranked"] = cases[Info.VERIFICATION].isin(RANKABLE) & (cases[Info.REFUSED] == "")
    return cases


def ratio_of(a, b) -> stats.Estimate:
    """Case a's time over case b's, with its interval (two rows of `cases_frame`)."""
    return stats.ratio(a["rounds_by_block"], b["rounds_by_block"])


def gemm_by_block(processes: pd.DataFrame) -> dict[str, dict[int, float]]:
    """dtype -> block -> the best GEMM rate (GFLOP/s, best round) measured in that block."""
    if processes.empty or Info.KIND not in processes:
        return {}
    gemm = processes[processes[Info.KIND] == Kind.GEMM]
    rates = gemm[Info.FLOPS] / gemm["min_s"] / 1e9
    best = rates.groupby([gemm[Info.DTYPE], gemm["block"]]).max()
    found: dict[str, dict[int, float]] = {}
    for (dtype, block), rate in best.items():
        found.setdefault(dtype, {})[int(block)] = float(rate)
    return found


def gemm_share_of(case, rates: dict[int, float]) -> stats.Estimate:
    """A case's share of the GEMM rate, block by block: the time its FLOPs take at the block's
    GEMM rate over the time the case took there, with its interval."""
    flops_per_unit = case[Info.FLOPS] / case["units"]
    if not rates or not np.isfinite(flops_per_unit):
        return stats.NO_ESTIMATE
    ideal = {block: [flops_per_unit / (rate * 1e9)] for block, rate in rates.items()}
    if len(case["rounds_by_block"]) < 2:  # one process: the run's best rate, no interval
        best = max(rates.values())
        share = flops_per_unit / (best * 1e9) / case["time_per_unit_s"]
        return stats.Estimate(share, math.nan, math.nan, 1, True)
    return stats.ratio(ideal, case["rounds_by_block"])


def records_frame(run: Run) -> pd.DataFrame:
    """Results that are not timings (memory probes, refused sweep points), from every step."""
    rows = [record for document in run.documents.values()
            for record in document[Section.NAME].get(Section.RECORDS, [])]
    return pd.DataFrame(rows)


def failures_frame(run: Run) -> pd.DataFrame:
    """Every failed case, with its step and reason."""
    rows = [{"step": step, **failure} for step, document in run.documents.items()
            for failure in document[Section.NAME].get(Section.FAILURES, [])]
    return pd.DataFrame(rows)
