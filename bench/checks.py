"""How steady the timings were: each step's process, the machine check's readings, and the
cases' first rounds.

The steps' table says how each process ran (status, wall and CPU time, load average, memory).
Every benchmark process times the same fixed work when it starts and ends, and around each
case in the default mode (bench/steadiness.py measures it): the report shows each step's check
and how far it moved, and `compare` sets the checks of two runs beside their cases. A case
whose first rounds ran slower than its later ones was measured while something still warmed
up, or while something that ran before it was still running.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .formatting import bytes_text, seconds_text
from .results import Info, Run, Section, Status


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
    """The check's rates worth showing for `run`, with their labels: in a one-thread run the
    products' two are one; runs made before the pure-Python check have none of it."""
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
        check = document[Section.NAME].get(Section.MACHINE_CHECK) or {}
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
    checks = [document[Section.NAME].get(Section.MACHINE_CHECK)
              for document in run.documents.values()]
    checks += [bench["extra_info"].get(Info.MACHINE_CHECK) for document in run.documents.values()
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



def implementations_table(run: Run) -> pd.DataFrame:
    """One row per step of the run: its status, times, load, machine checks, memory and
    reason (for a lone JSON file, what its nnbench section says of each variant)."""
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
    if not rows:
        for document in run.documents.values():
            section = document[Section.NAME]
            for variant in section.get(Section.VARIANTS, []):
                rows.append({"step": variant, "status": Status.RAN, "cases timed": sum(
                    1 for b in document["benchmarks"]
                    if b["extra_info"].get(Info.VARIANT) == variant), "reason": ""})
            for variant, reason in section.get(Section.UNAVAILABLE, {}).items():
                rows.append({"step": variant, "status": Status.UNAVAILABLE, "cases timed": 0,
                             "reason": reason})
    return pd.DataFrame(rows)


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
    variant = cases[Info.VARIANT].fillna("")
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
