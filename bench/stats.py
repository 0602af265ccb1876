"""The statistics of a figure: its 95% interval, the ratio of two figures, ties, and change.

A case is measured in several processes (the runner's blocks), each timing a few rounds. The
process is the level that varies most on a shared machine, so it is the unit every interval
here rests on: a process's figure is the median of its rounds, a case's figure is the
geometric mean of its processes' figures, and the interval is Student's t over their logs
(scipy.stats). A ratio of two cases of one run pairs their processes by block, so that a
slow minute that fell on both cancels; two runs have no blocks in common, so `change` compares
their processes unpaired (Welch's t). A case measured in one process only gets the median of
its rounds with a bootstrap interval over them, and says so (`within_process`): such an
interval is too narrow. Its ratios and tests fall back to the rounds likewise.
docs/statistics.md explains the choices.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVEL = 0.95  # of every interval
ALPHA = 0.01  # `change`: the significance a change needs
MIN_EFFECT = 0.05  # `change`: and the least relative move


@dataclass(frozen=True)
class Estimate:
    """A figure and its interval; `n` units (processes, or rounds when `within_process`)."""

    value: float
    low: float
    high: float
    n: int
    within_process: bool = False

    @property
    def width(self) -> float:
        """The interval's width relative to the figure (NaN without an interval)."""
        return (self.high - self.low) / self.value if self.value else math.nan

    def includes(self, x: float) -> bool:
        """Whether `x` lies in the interval (False without one)."""
        return bool(self.low <= x <= self.high)

    def inverted(self) -> Estimate:
        """The estimate of 1 / the figure."""
        return Estimate(1 / self.value, 1 / self.high, 1 / self.low, self.n,
                        self.within_process)


NO_ESTIMATE = Estimate(math.nan, math.nan, math.nan, 0)


def _log(values) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return np.log(values[np.isfinite(values) & (values > 0)])


def log_estimate(logs: np.ndarray) -> Estimate:
    """exp of the mean of `logs`, with the t interval of that mean (no interval from one)."""
    n = len(logs)
    if n == 0:
        return NO_ESTIMATE
    centre = float(np.mean(logs))
    if n == 1:
        return Estimate(math.exp(centre), math.nan, math.nan, 1)
    if np.ptp(logs) == 0:  # identical values: t is undefined, the interval a point
        return Estimate(math.exp(centre), math.exp(centre), math.exp(centre), n)
    with warnings.catch_warnings():  # nearly identical values: scipy warns, the interval holds
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = stats.ttest_1samp(logs, 0.0).confidence_interval(LEVEL)
    return Estimate(math.exp(centre), math.exp(low), math.exp(high), n)


# A case's measurements: block -> the per-unit times of the rounds its process timed there.
Rounds = Mapping[int, Sequence[float]]


def process_figures(rounds: Rounds) -> dict[int, float]:
    """Each process's figure: the median of its rounds."""
    return {block: float(np.median(values)) for block, values in rounds.items()
            if len(values)}


def estimate(rounds: Rounds) -> Estimate:
    """A case's figure with its interval: over its processes' medians when it has two or
    more, else over the rounds of its one process (`within_process`)."""
    figures = process_figures(rounds)
    if len(figures) >= 2:
        return log_estimate(_log(list(figures.values())))
    values = np.exp(_log(next((values for values in rounds.values() if len(values)), [])))
    return median_estimate(values)


def median_estimate(values: np.ndarray) -> Estimate:
    """One process: the median of its rounds, with a percentile bootstrap interval over them
    (`within_process`; seeded, so the same rounds give the same interval)."""
    if len(values) == 0:
        return NO_ESTIMATE
    centre = float(np.median(values))
    if len(values) == 1:
        return Estimate(centre, math.nan, math.nan, 1, True)
    if np.ptp(values) == 0:
        return Estimate(centre, centre, centre, len(values), True)
    found = stats.bootstrap((values,), np.median, confidence_level=LEVEL, method="percentile",
                            n_resamples=2000, random_state=0)
    low, high = found.confidence_interval
    return Estimate(centre, min(float(low), centre), max(float(high), centre), len(values),
                    True)


def ratio(a: Rounds, b: Rounds) -> Estimate:
    """a / b for two cases of one run: the geometric mean of the ratio of their processes'
    medians in each block both have, with its t interval; with fewer than two such blocks,
    Welch's interval over their processes, unpaired, or over their rounds when either has one
    process only (`within_process`)."""
    figures_a, figures_b = process_figures(a), process_figures(b)
    shared = sorted(set(figures_a) & set(figures_b))
    if len(shared) >= 2:
        return log_estimate(_log([figures_a[k] for k in shared])
                            - _log([figures_b[k] for k in shared]))
    return unpaired(a, b)[0]


def unpaired(a: Rounds, b: Rounds) -> tuple[Estimate, float]:
    """a / b by Welch's t over the logs of the processes' medians (of the rounds, marked
    `within_process`, when either has one process), and the p-value of no difference."""
    figures_a, figures_b = process_figures(a), process_figures(b)
    if len(figures_a) >= 2 and len(figures_b) >= 2:
        return welch(_log(list(figures_a.values())), _log(list(figures_b.values())))
    return welch(_log([v for values in a.values() for v in values]),
                 _log([v for values in b.values() for v in values]), within_process=True)


def welch(logs_a: np.ndarray, logs_b: np.ndarray, within_process: bool = False
          ) -> tuple[Estimate, float]:
    """(exp(mean a - mean b) with Welch's interval, the two-sided p-value of no difference)."""
    n = min(len(logs_a), len(logs_b))
    if n == 0:
        return NO_ESTIMATE, math.nan
    centre = math.exp(float(np.mean(logs_a) - np.mean(logs_b)))
    if len(logs_a) < 2 or len(logs_b) < 2:
        return Estimate(centre, math.nan, math.nan, n, within_process), math.nan
    if np.ptp(logs_a) == 0 and np.ptp(logs_b) == 0:
        p = 1.0 if centre == 1 else 0.0
        return Estimate(centre, centre, centre, n, within_process), p
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = stats.ttest_ind(logs_a, logs_b, equal_var=False)
        low, high = result.confidence_interval(LEVEL)
    return Estimate(centre, math.exp(low), math.exp(high), n, within_process), float(result.pvalue)


# ---- between two runs ----

FASTER, SLOWER, NO_CHANGE, UNKNOWN = "faster", "slower", "no change", "unknown"


@dataclass(frozen=True)
class Change:
    """How a case moved from run A to run B: B / A with its interval, the test's p-value and
    the verdict."""

    ratio: Estimate
    p_value: float
    verdict: str


def change(a: Rounds, b: Rounds, alpha: float = ALPHA, min_effect: float = MIN_EFFECT
           ) -> Change:
    """B / A and its verdict: slower or faster only when Welch's t-test on the logs of the
    processes' medians gives p < `alpha` and the ratio is beyond 1 +- `min_effect`; runs with
    one process per case are tested over their rounds (`within_process`)."""
    moved, p = unpaired(b, a)
    return Change(moved, p, verdict_of(moved.value, p, alpha, min_effect))


def verdict_of(ratio_value: float, p_value: float, alpha: float = ALPHA,
               min_effect: float = MIN_EFFECT) -> str:
    """The rule `change` applies: a change needs both the significance and the effect."""
    if not (math.isfinite(ratio_value) and math.isfinite(p_value)):
        return UNKNOWN
    if p_value >= alpha or abs(math.log(ratio_value)) < math.log1p(min_effect):
        return NO_CHANGE
    return SLOWER if ratio_value > 1 else FASTER


# ---- ranks ----


def tie_ranks(order: Sequence[object], tied: Callable[[object, object], bool]) -> list[int]:
    """Ranks of the entries of `order` (fastest first): an entry tied with the first entry of
    the rank before it shares that rank; the next one that is not takes its own place."""
    ranks: list[int] = []
    leader = None
    for place, entry in enumerate(order, start=1):
        if leader is not None and tied(leader, entry):
            ranks.append(ranks[-1])
        else:
            ranks.append(place)
            leader = entry
    return ranks
