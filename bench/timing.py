"""How much work fits a time budget, from timings of it: the sizing shared by the benchmark's
rounds (bench/measure.py) and the claims' time estimates and timings (bench/claims.py).

It imports no pytest, so that the claims can use it outside a benchmark process. The clock a
sizing uses is handed in (`seconds_for(k)`), so that the tests can run it on a model clock.
"""

from __future__ import annotations

import gc
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass


def seconds(call: Callable[[], object]) -> float:
    """The wall-clock seconds of one `call()`."""
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def count_for(budget_s: float, each_s: float, least: int = 1, most: int = sys.maxsize,
              fill: bool = False) -> int:
    """How many pieces of `each_s` seconds fit in `budget_s` (`fill`: how many fill it, the
    last one in part), held between `least` and `most`; `most` when a piece takes no time."""
    if each_s <= 0:
        return most
    count = math.ceil(budget_s / each_s) if fill else int(budget_s / each_s)
    return max(least, min(most, count))


@dataclass(frozen=True)
class Cost:
    """What timing runs of k = 1, g, g², ... repeats found (`cost_of`): the largest k timed,
    the seconds of that run, and whether two counts were far enough apart to give the cost of
    one repeat (`settled`, then `per_repeat_s` is the slope between the last two)."""

    count: int
    seconds: float
    settled: bool = False
    per_repeat_s: float = 0.0

    @property
    def fixed_s(self) -> float:
        """What a run costs besides its repeats, paid once per run (0 when not settled)."""
        return max(self.seconds - self.per_repeat_s * self.count, 0.0) if self.settled else 0.0

    def seconds_for(self, repeats: float) -> float:
        """Seconds one run of `repeats` repeats is expected to take. Not settled (no two
        counts far enough apart): the last run's seconds per repeat, its fixed cost included,
        an upper bound."""
        if self.settled:
            return self.fixed_s + self.per_repeat_s * repeats
        return self.seconds / self.count * repeats

    def repeats_within(self, target_s: float, most: int) -> int:
        """How many repeats make the repeated work of one run take about `target_s`, 1 to
        `most`; not settled: the largest count timed (a run that took the target already, or
        `most`)."""
        if not self.settled:
            return self.count
        return count_for(target_s, self.per_repeat_s, 1, most)


def cost_of(seconds_for: Callable[[int], float], most: int, enough_s: float, growth: int = 2,
            long_enough_s: float = math.inf, cap_s: float = math.inf) -> Cost:
    """The cost of one repeat, from `seconds_for(k)`: the seconds of one run of k repeats, its
    compiling done. k starts at 1 and grows `growth`-fold, up to `most`, until the repeats
    added from one count to the next take `enough_s` (or a run takes `long_enough_s`).

    A run may cost a fixed amount besides its repeats (Octave's round trip to its process, a
    framework's dispatch), so one repeat does not cost a run's time divided by its k: a count
    sized that way would follow the overhead and change from one run to the next. It costs
    the slope between two counts, taken once their difference is well above the timer's and
    the machine's noise. With `cap_s`, k grows by less where the slope so far (at first, the
    whole run per repeat) says the next run would take longer than `cap_s`: probing slow
    repeats then costs little more than the cap, and a fixed cost still lets k grow.
    """
    count, elapsed = 1, seconds_for(1)
    slope = elapsed
    while elapsed < long_enough_s and count < most:
        more = min(count * growth, most)
        if slope > 0 and elapsed + (more - count) * slope > cap_s:
            more = min(more, count + max(1, int((cap_s - elapsed) / slope)))
        longer = seconds_for(more)
        slope = max((longer - elapsed) / (more - count), 0.0)
        if longer - elapsed >= enough_s:
            return Cost(more, longer, True, slope)
        count, elapsed = more, longer
    return Cost(count, elapsed)


def repeats_for(seconds_for: Callable[[int], float], most: int, target_s: float) -> int:
    """How many repeats (epochs, calls) make a run's repeated work take about `target_s`, at
    most `most`: k doubled until the k repeats added cost a tenth of the target."""
    cost = cost_of(seconds_for, most, target_s / 10, long_enough_s=target_s)
    return cost.repeats_within(target_s, most)


def best_of(call: Callable[[], object], repeats: int, number: int = 1,
            enough_s: float = math.inf) -> tuple[float, object]:
    """(the best seconds per call over up to `repeats` timings of `number` calls each, the
    last call's result). The best, not the mean: on a busy machine a call is only ever slowed
    down. It stops early once the timings have taken `enough_s` in all. The cyclic garbage
    collector waits while the calls are timed, as `timeit` makes it wait."""
    best, spent, result = math.inf, 0.0, None
    collecting = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            started = time.perf_counter()
            for _ in range(number):
                result = call()
            elapsed = time.perf_counter() - started
            best, spent = min(best, elapsed / number), spent + elapsed
            if spent > enough_s:
                break
    finally:
        if collecting:
            gc.enable()
    return best, result
