"""The targets the project holds itself to, as data, and what one run measures of each.

Each row of TARGETS says what is measured (a measure of MEASURES, on which cases of the main
table), the threshold and the comparison. `findings` evaluates every row on a run with one
generic function; REPORT.md's "Targets" section shows each finding beside its target.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from .cases import ratio_of
from .checks import check_summary, check_values
from .formatting import range_text, ratio_text, seconds_text, share_text, whole_seconds_text
from .results import CLAIMS_STEP, Info, Kind, Run
from .tables import gemm_rates, ranked_case

AT_LEAST, AT_MOST = "at least", "at most"
DEFAULT_CLAIMS_BUDGET = 3.0  # seconds per claim and implementation: `nnbench run`'s default
UNITS = {"share": share_text, "ratio": ratio_text, "seconds": whole_seconds_text}


@dataclass(frozen=True)
class Target:
    """One target: what is measured (a measure, on the cases named here), the threshold, and
    the comparison."""

    what: str  # where its line starts: the figure's name (may name the run's {mode})
    measure: str  # how a run measures it: a key of MEASURES
    threshold: float | None = None  # None: a figure shown beside the targets, held to none
    comparison: str = AT_LEAST  # the figure is to be AT_LEAST or AT_MOST the threshold
    unit: str = "share"  # how the threshold reads: a key of UNITS
    network: str = ""  # the cases of the main table it measures
    op: str = ""
    dtypes: tuple[str, ...] = ()  # one finding per dtype; () for a figure of the whole run
    variants: tuple[str, ...] = ()  # the implementations it measures (none: the fastest)
    one_thread: bool = False  # its variant runs on one thread: also against that GEMM rate
    modes: tuple[str, ...] = ()  # the run modes it holds for (none: every one)
    stated: str = "{comparison} {threshold}"  # the target in words
    see: str = ""  # where the report says more (not said of a figure that meets its target)

    def target_text(self) -> str:
        return self.stated.format(comparison=self.comparison,
                                  threshold=UNITS[self.unit](self.threshold))


BOTH = ("float64", "float32")
BREAKDOWN = 'where the rest goes: "Where the time of a training step goes"'
TARGETS = (
    Target("Fastest MNIST training", "fastest_share", 0.9, network="mnist", op=Kind.TRAIN,
           dtypes=BOTH, see=BREAKDOWN),
    Target("NumPy at its best, MNIST training", "gemm_share", 0.9, network="mnist",
           op=Kind.TRAIN, dtypes=BOTH, variants=("numpy-fast",), see=BREAKDOWN),
    Target("XOR training per epoch", "speedup", 50, unit="ratio", network="xor",
           op=Kind.TRAIN, dtypes=("float64",), variants=("numba", "numpy")),
    Target("Numba's MNIST training", "gemm_share", 0.25, network="mnist", op=Kind.TRAIN,
           dtypes=BOTH, variants=("numba",), one_thread=True),
    Target("Numba's MNIST training", "gemm_share", 0.25, network="mnist", op=Kind.TRAIN,
           dtypes=BOTH, variants=("numba-parallel",)),
    Target("Keras MNIST training", "side_by_side", network="mnist", op=Kind.TRAIN,
           dtypes=BOTH, variants=("keras", "keras-fast")),
    Target("This {mode} run", "run_seconds", 600, AT_MOST, "seconds", modes=("default",)),
    Target("This {mode} run", "run_seconds", 60, AT_MOST, "seconds", modes=("quick",)),
    Target("Precision", "precision",
           see="docs/statistics.md says how to narrow it"),
    Target("Repeatability", "machine_check", 0.05, AT_MOST,
           stated="a repeat on a quiet machine moves no median over 1 ms by more than "
                  "{threshold}", see="`nnbench compare` measures it"),
)


@dataclass(frozen=True)
class Finding:
    """What one run measured of one target, and its line of REPORT.md."""

    target: Target
    text: str  # what the run measured, in words, from the start of the line
    value: float | None = None  # the figure held to the threshold (None: not measured here)
    condition: str = ""  # what the target assumes that this run did not
    after: str = ""  # what the line says after the target

    @property
    def met(self) -> bool | None:
        """Whether the figure meets its target (None: no figure, or no target)."""
        threshold = self.target.threshold
        if threshold is None or self.value is None or not math.isfinite(self.value):
            return None
        return self.value >= threshold if self.target.comparison == AT_LEAST else \
            self.value <= threshold

    def line(self) -> str:
        if self.target.threshold is None:
            return f"- {self.text}{self.after}"
        see = f"; {self.target.see}" if self.target.see and not self.met else ""
        return (f"- {self.text} (target: {self.target.target_text()}{self.condition}{see})"
                f"{self.after}")


def findings(run: Run, table: pd.DataFrame, cases: pd.DataFrame,
             targets: tuple[Target, ...] = TARGETS) -> list[Finding]:
    """What `run` measured of each target (per dtype where it is per dtype), for the targets
    of its mode; a target the run has no figure for has no finding."""
    found = []
    mode = run.manifest.get("mode")
    for target in targets:
        if target.modes and mode not in target.modes:
            continue
        for dtype in target.dtypes or ("",):
            finding = MEASURES[target.measure](target, dtype, run, table, cases)
            if finding is not None:
                found.append(finding)
    return found


def target_lines(run: Run, table: pd.DataFrame, cases: pd.DataFrame) -> list[str]:
    """REPORT.md's lines of the targets: each finding with its target."""
    return [finding.line() for finding in findings(run, table, cases)]


# ---- the measures: (target, dtype, run, main table, cases) -> a Finding, or None ----


def share_with_interval(case) -> str:
    """A case's share of the GEMM rate, and its interval when it has one."""
    bounds = range_text(case["gemm_share_low"], case["gemm_share_high"], share_text)
    return share_text(case["gemm_share"]) + (f" ({bounds})" if bounds != "-" else "")


def fastest_share(target: Target, dtype: str, run, table, cases) -> Finding | None:
    """The fastest ranked case's share of the GEMM rate."""
    best = ranked_case(table, target.network, target.op, dtype)
    if best is None:
        return None
    return Finding(target, f"{target.what}, {dtype}: {best['variant']} at "
                           f"{share_with_interval(best)} of the GEMM rate",
                   best["gemm_share"])


def speedup(target: Target, dtype: str, run, table, cases) -> Finding | None:
    """How many times faster the first variant ran than the second, with the interval."""
    fast, slow = (ranked_case(table, target.network, target.op, dtype, variant)
                  for variant in target.variants)
    if fast is None or slow is None:
        return None
    ratio = ratio_of(slow, fast)
    bounds = range_text(ratio.low, ratio.high, ratio_text)
    return Finding(target, f"{target.what}, {dtype}: {fast['variant']} "
                           f"{ratio_text(ratio.value)}{f' ({bounds})' if bounds != '-' else ''}"
                           f" faster than {slow['variant']}", ratio.value)


def gemm_share(target: Target, dtype: str, run, table, cases) -> Finding | None:
    """The variant's share of the GEMM rate (on one thread: of the one-thread rate too)."""
    case = ranked_case(table, target.network, target.op, dtype, target.variants[0])
    if case is None:
        return None
    threads = "one thread" if target.one_thread else f"{case['threads']:.0f} threads"
    text = (f"{target.what}, {dtype}: {case['variant']} ({threads}) at "
            f"{share_with_interval(case)} of the GEMM rate")
    one_thread = gemm_rates(cases, threads=1)
    if target.one_thread and dtype in one_thread:
        text += f", {share_text(case['gflops'] / one_thread[dtype])} of the one-thread GEMM rate"
    return Finding(target, text, case["gemm_share"])


def side_by_side(target: Target, dtype: str, run, table, cases) -> Finding | None:
    """The variants' times per sample, each with its setting."""
    found = [ranked_case(table, target.network, target.op, dtype, variant)
             for variant in target.variants]
    if any(case is None for case in found):
        return None
    parts = []
    for case in found:
        note = case.get("variant_note")
        setting = f" ({note})" if isinstance(note, str) and note else ""
        parts.append(f"{case['variant']}{setting} {seconds_text(case['time_per_unit_s'])} "
                     f"per sample")
    ratio = ratio_of(found[0], found[1])
    bounds = range_text(ratio.low, ratio.high, ratio_text)
    between = (f"; {found[0]['variant']} / {found[1]['variant']} {ratio_text(ratio.value)}"
               + (f" ({bounds})" if bounds != "-" else ""))
    return Finding(target, f"{target.what}, {dtype}: {', '.join(parts)}{between}")


def tta_seconds(cases) -> float:
    """The seconds the run spent training fresh processes to the accuracy targets."""
    if cases.empty or Info.KIND not in cases:
        return 0.0
    rows = cases[cases[Info.KIND] == Kind.TIME_TO_ACCURACY]
    return float(sum(sum(map(sum, row.values())) for row in rows["rounds_by_block"]))


def run_seconds(target: Target, dtype: str, run, table, cases) -> Finding | None:
    """How long the run took; without what the target does not cover: the claims step beyond
    the default budget, and the training to the accuracy targets (`--time-to-accuracy`)."""
    seconds = run.manifest.get("seconds")
    if not seconds:
        return None
    what = target.what.format(mode=run.manifest.get("mode"))
    claims = next((step for step in run.manifest.get("steps", [])
                   if step["name"] == CLAIMS_STEP), None)
    arguments = claims.get("arguments", []) if claims else []
    budget = (float(arguments[arguments.index("--budget") + 1]) if "--budget" in arguments
              else 0.0)
    left_out, condition = [], ""
    if budget > DEFAULT_CLAIMS_BUDGET:
        left_out.append(("its claims step", claims["seconds"],
                         f"the claims, at {budget:g} s per claim and implementation,"))
        condition = f" with the default {DEFAULT_CLAIMS_BUDGET:g} s claims budget"
    trained = tta_seconds(cases) if run.manifest.get("mode") == "default" else 0.0
    if trained:
        left_out.append(("training to the accuracy targets", trained,
                         "training to the accuracy targets"))
    if not left_out:
        return Finding(target, f"{what} took {whole_seconds_text(seconds)}", seconds)
    before = seconds - sum(extra for _, extra, _ in left_out)
    return Finding(target, f"{what} took {whole_seconds_text(before)} without "
                   + " and ".join(name for name, _, _ in left_out), before, condition,
                   "".join(f"; {said} took {whole_seconds_text(extra)} more"
                           for _, extra, said in left_out))


def machine_check(target: Target, dtype: str, run, table, cases) -> Finding | None:
    """How quiet the machine was (one run cannot measure a repeat; `nnbench compare` does)."""
    values = check_values(run, "run_threads_gflops")
    if len(values) < 2:
        return None
    return Finding(target, target.what, None, "",
                   f": how quiet the machine was, its check on the run's threads "
                   f"{check_summary(values)} (\"How steady the machine was\")")


def precision(target: Target, dtype: str, run, table, cases) -> Finding | None:
    """The median width of the 95% intervals, relative to their figures, over the cases over
    1 ms that every block measured (every case, in a run of one block)."""
    if cases.empty or "high_s" not in cases:
        return None
    most = cases["processes"].max()
    timed = cases[(cases["median_s"] > 1e-3) & (cases["processes"] == most)
                  & (cases[Info.KIND] != Kind.LOSS_CURVE)]
    widths = ((timed["high_s"] - timed["low_s"]) / timed["time_per_unit_s"]).dropna()
    if widths.empty:
        return None
    where = f"{most:.0f} processes each" if most > 1 else "one process each, within-process"
    return Finding(target, f"{target.what}: the median 95% interval spans "
                           f"{share_text(widths.median())} of its figure, over the "
                           f"{len(widths)} cases over 1 ms ({where}; 90th percentile "
                           f"{share_text(widths.quantile(0.9))})", widths.median(),
                   after=f"; {target.see}")


MEASURES: dict[str, Callable[..., Finding | None]] = {
    "fastest_share": fastest_share, "speedup": speedup, "gemm_share": gemm_share,
    "side_by_side": side_by_side, "run_seconds": run_seconds, "machine_check": machine_check,
    "precision": precision,
}
