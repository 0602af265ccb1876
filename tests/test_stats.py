"""The suite's statistics (nnbench.bench.stats) on fixed numbers and seeded simulated timings."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nnbench.bench import stats
from scipy import stats as sps

SIMULATIONS = 400


def simulate(rng, true, process_sd, round_sd=0.01, processes=3, rounds=5, blocks=None):
    """Rounds of one case: log time = log(true) + block + process effect + round noise."""
    blocks = np.zeros(processes) if blocks is None else blocks
    return {k: list(true * np.exp(blocks[k - 1] + rng.normal(0, process_sd)
                                  + rng.normal(0, round_sd, rounds)))
            for k in range(1, processes + 1)}


def test_estimate_is_the_geometric_mean_of_process_medians_with_a_t_interval():
    """Over 2+ processes: the geometric mean of their medians, Student's t over their logs."""
    rounds = {1: [1.0, 1.2, 1.1], 2: [2.0, 2.2, 1.9], 3: [1.5, 1.4, 1.6, 9.0]}
    logs = np.log([1.1, 2.0, 1.55])
    half = sps.t.ppf(0.975, 2) * logs.std(ddof=1) / math.sqrt(3)
    e = stats.estimate(rounds)
    assert (e.n, e.within_process) == (3, False)
    assert e.value == pytest.approx(math.exp(logs.mean()))
    assert (e.low, e.high) == pytest.approx((math.exp(logs.mean() - half),
                                             math.exp(logs.mean() + half)))
    assert e.low < e.value < e.high and e.includes(e.value)


def test_one_process_rests_on_its_rounds_and_says_so():
    """One process: the interval is over its rounds, marked within_process."""
    e = stats.estimate({1: [1.0, 2.0, 4.0]})
    assert (e.n, e.within_process) == (3, True)
    assert e.value == pytest.approx(2.0) and e.low < 2.0 < e.high


def test_one_round_has_no_interval_and_identical_values_a_point():
    """One round: NaN bounds; identical values: a zero-width interval."""
    one = stats.estimate({1: [3.0]})
    assert one.value == pytest.approx(3.0) and math.isnan(one.low) and math.isnan(one.high)
    assert not one.includes(3.0) and math.isnan(one.width)
    same = stats.estimate({1: [2.0, 2.0], 2: [2.0, 2.0, 2.0]})
    assert (same.value, same.low, same.high, same.width) == pytest.approx((2.0, 2.0, 2.0, 0.0))


def test_one_process_with_rounds_is_estimated_whatever_the_block_order():
    """A case whose other block timed nothing is still estimated from its one process."""
    assert stats.estimate({1: [], 2: [1.0, 1.2, 1.1]}).value == pytest.approx(1.1)


def test_the_interval_of_estimate_covers_the_true_median_about_95_percent():
    """3 processes x 5 rounds: the 95% interval covers the true figure 90-99% of the time."""
    rng = np.random.default_rng(1)
    covered = np.mean([stats.estimate(simulate(rng, 2.0, 0.05)).includes(2.0)
                       for _ in range(SIMULATIONS)])
    assert 0.90 <= covered <= 0.99


def test_a_ratio_paired_by_block_covers_the_truth_and_is_narrower_than_unpaired():
    """A slow block that hits both cases cancels: coverage 90-99%, narrower than Welch."""
    rng = np.random.default_rng(2)
    covered, paired, unpaired = [], [], []
    for _ in range(SIMULATIONS):
        blocks = rng.normal(0, 0.1, 3)
        a, b = simulate(rng, 3.0, 0.03, blocks=blocks), simulate(rng, 1.5, 0.03, blocks=blocks)
        r = stats.ratio(a, b)
        assert not r.within_process
        covered.append(r.includes(2.0))
        paired.append(r.width)
        fa, fb = stats.process_figures(a), stats.process_figures(b)
        unpaired.append(stats.welch(np.log(list(fa.values())), np.log(list(fb.values())))[0].width)
    assert 0.90 <= np.mean(covered) <= 0.99
    assert np.median(paired) < 0.6 * np.median(unpaired)


def verdicts(seed, factor, process_sd, round_sd=0.01, processes=3):
    """The verdicts and p-values of `change` over seeded pairs of runs, B = factor * A."""
    rng = np.random.default_rng(seed)
    changes = [stats.change(simulate(rng, 1.0, process_sd, round_sd, processes),
                            simulate(rng, factor, process_sd, round_sd, processes))
               for _ in range(SIMULATIONS)]
    return [c.verdict for c in changes], np.array([c.p_value for c in changes])


def test_identical_runs_are_rarely_called_changed():
    """Same distribution in A and B: a change is called in at most 3% of pairs."""
    found, _ = verdicts(3, 1.0, 0.02)
    assert np.mean([v != stats.NO_CHANGE for v in found]) <= 0.03


@pytest.mark.parametrize("factor, expected", [(1.1, stats.SLOWER), (1 / 1.1, stats.FASTER)])
def test_a_ten_percent_move_is_found(factor, expected):
    """B 10% slower (or faster): called so in at least 90% of pairs of 3-process runs."""
    # process effect N(0, 0.01): with N(0, 0.02) Welch's 3-against-3 at alpha 0.01 finds ~52%
    found, _ = verdicts(4, factor, 0.01)
    assert np.mean([v == expected for v in found]) >= 0.90


def test_a_significant_move_below_min_effect_is_no_change():
    """A 2% shift measured so finely that it is significant is still no change."""
    found, p = verdicts(5, 1.02, 0.002, round_sd=0.001)
    assert np.mean(p < stats.ALPHA) > 0.5
    assert set(found) == {stats.NO_CHANGE}


def test_change_is_welchs_test_on_process_medians_and_falls_back_to_rounds():
    """Its p is Welch's on the medians' logs; one process per case tests the rounds."""
    a = {1: [1.0, 1.01], 2: [1.03, 1.02], 3: [0.99, 1.0]}
    b = {1: [1.2, 1.21], 2: [1.15, 1.16], 3: [1.25, 1.24]}
    medians = [np.log(list(stats.process_figures(x).values())) for x in (b, a)]
    c = stats.change(a, b)
    assert c.p_value == pytest.approx(sps.ttest_ind(*medians, equal_var=False).pvalue)
    assert c.ratio.value == pytest.approx(math.exp(medians[0].mean() - medians[1].mean()))
    single = stats.change({1: [1.0, 1.01, 0.99, 1.0]}, {1: [1.2, 1.21, 1.19, 1.2]})
    assert single.ratio.within_process and single.ratio.n == 4
    assert single.verdict == stats.SLOWER


@pytest.mark.parametrize("ratio, p, expected", [
    (1.06, 0.001, stats.SLOWER), (1 / 1.06, 0.001, stats.FASTER),
    (1.06, stats.ALPHA, stats.NO_CHANGE), (1.049, 1e-12, stats.NO_CHANGE),
    (1 / 1.049, 1e-12, stats.NO_CHANGE), (2.0, 0.5, stats.NO_CHANGE),
    (math.nan, 0.001, stats.UNKNOWN), (1.06, math.nan, stats.UNKNOWN)])
def test_a_verdict_needs_significance_and_an_effect(ratio, p, expected):
    """p < alpha and |log ratio| >= log1p(min_effect); NaN is unknown."""
    assert stats.verdict_of(ratio, p) == expected


def test_verdict_of_takes_its_alpha_and_min_effect():
    """The thresholds are parameters."""
    assert stats.verdict_of(1.03, 0.03, alpha=0.05, min_effect=0.02) == stats.SLOWER
    assert stats.verdict_of(1.03, 0.03, alpha=0.05, min_effect=0.04) == stats.NO_CHANGE


@pytest.mark.parametrize("pairs, expected", [
    ({"ab", "bc", "cd"}, [1, 1, 3, 3]),  # b~c does not chain c onto a's rank
    (set(), [1, 2, 3, 4]), ({"ab", "ac", "ad", "bc", "bd", "cd"}, [1, 1, 1, 1])])
def test_tie_ranks_ties_each_entry_to_the_leader_of_the_rank_before(pairs, expected):
    """An entry shares a rank only when tied with that rank's first entry."""
    assert stats.tie_ranks("abcd", lambda x, y: x + y in pairs) == expected


figures = st.lists(st.floats(1e-6, 1e6), min_size=1, max_size=8)


@given(figures)
def test_the_figure_lies_in_its_interval(values):
    """For any positive finite process figures, low <= value <= high when there are bounds."""
    e = stats.estimate({k: [v] for k, v in enumerate(values, start=1)})
    assert e.n == len(values)
    if not math.isnan(e.low):
        assert e.low <= e.value <= e.high


@given(st.lists(st.tuples(st.floats(1e-6, 1e6), st.floats(1e-6, 1e6)), min_size=2, max_size=8))
def test_the_inverted_ratio_is_the_ratio_the_other_way(pairs):
    """Paired by block, ratio(a, b).inverted() is ratio(b, a)."""
    a = {k: [x] for k, (x, _) in enumerate(pairs, start=1)}
    b = {k: [y] for k, (_, y) in enumerate(pairs, start=1)}
    forward, backward = stats.ratio(a, b).inverted(), stats.ratio(b, a)
    assert not backward.within_process and forward.n == backward.n
    assert (forward.value, forward.low, forward.high) == pytest.approx(
        (backward.value, backward.low, backward.high), rel=1e-9)
