"""The fixed cost of a call (bench/fixed_cost.py): t(B) = a + b·B fitted to the batch sweep.

Synthetic sweeps whose calls take exactly, or about, a + b·B: the fit must give a and b back
within its interval, refuse to fit what it cannot ("-" with a reason), draw its charts, and
REPORT.md must get its section. The batch sweep itself must cover XOR and digits.
"""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nnbench.bench import fixed_cost, results, tables
from nnbench.bench.cli import main
from nnbench.bench.test_scaling import first_rows
from nnbench.bench.workloads import MODES

ROOT = Path(__file__).parent.parent
RUN_A = Path(__file__).parent / "data" / "bench_run_a.json"
SWEEP = (1, 4, 8, 64, 512)
SHAPES = {"xor": [2, 2, 1], "mnist": [784, 128, 10], "digits": [64, 30, 10]}


def points(batches, call_s, ranked=True) -> pd.DataFrame:
    """call_points' frame for one variant on XOR."""
    return pd.DataFrame({"variant": "v", "network": "xor", "shape": "2-2-1", "batch": batches,
                         "rows": np.asarray(batches, dtype=float), "call_s": call_s,
                         "ranked": ranked})


def fitted(batches, call_s, ranked=True) -> fixed_cost.Fit:
    return fixed_cost.fit_points("v", "xor", points(batches, call_s, ranked))


# ---- the fit ----


@settings(max_examples=60, deadline=None)
@given(a=st.floats(1e-7, 1e-2), b=st.floats(1e-10, 1e-5),
       batches=st.sets(st.integers(1, 2048), min_size=3, max_size=8))
def test_the_fit_gives_back_a_and_b_of_exact_points(a, b, batches):
    batches = sorted(batches)
    fit = fitted(batches, [a + b * x for x in batches])
    assert fit.reason == "" and fit.points == len(batches)
    assert fit.a.value == pytest.approx(a, rel=1e-6)
    assert fit.b.value == pytest.approx(b, rel=1e-6)
    assert fit.crossover().value == pytest.approx(a / b, rel=1e-5)
    assert fit.share(4).value == pytest.approx(a / (a + 4 * b), rel=1e-5)


def noisy(a, b, seed, noise=0.05, batches=SWEEP):
    """Calls of a + b·B, each off by a random share of its time (lognormal, seeded)."""
    rng = np.random.default_rng(seed)
    return [(a + b * x) * math.exp(rng.normal(0, noise)) for x in batches]


def test_the_interval_holds_a_and_b_of_noisy_points():
    a, b = 20e-6, 50e-9
    fit = fitted(SWEEP, noisy(a, b, seed=0))
    assert fit.a.includes(a) and fit.b.includes(b)
    assert fit.a.low < fit.a.value < fit.a.high and fit.a.n == len(SWEEP)
    assert fit.share(4).includes(a / (a + 4 * b)) and fit.crossover().includes(a / b)
    assert 0 <= fit.share(1078).low <= fit.share(1078).high <= 1


def test_the_intervals_hold_the_truth_about_95_times_in_100():
    a, b, draws = 5e-6, 1e-6, 400
    found = [fitted(SWEEP, noisy(a, b, seed)) for seed in range(draws)]
    for hits in ([f.a.includes(a) for f in found], [f.b.includes(b) for f in found],
                 [f.share(4).includes(a / (a + 4 * b)) for f in found]):
        assert 0.91 <= np.mean(hits) <= 0.99


def test_a_fit_on_fewer_than_three_batch_sizes_is_refused_with_its_reason():
    fit = fitted([1, 64], [1e-6, 2e-6])
    assert fit.line is None and fit.reason == "2 batch sizes: the fit needs 3"
    assert not math.isfinite(fit.a.value) and not math.isfinite(fit.share(4).value)
    row = fixed_cost.fit_row(fit, 4)
    assert row["a: µs per call"] == row["b: ns per sample"] == row["B* = a / b"] == "-"
    assert row["fixed share at B = 4"] == "-" and row["note"] == fit.reason


def test_points_that_disagree_with_numpy_are_left_out():
    fit = fitted(SWEEP, [1e-6 + 1e-8 * x for x in SWEEP], ranked=[True, True, False, False, True])
    assert fit.points == 3 and fit.line is not None
    assert fit.reason == "2 points left out (disagree with numpy)"
    short = fitted(SWEEP, [1e-6] * 5, ranked=[True, False, False, False, True])
    assert short.reason == "2 batch sizes: the fit needs 3; 3 points left out (disagree with numpy)"


def test_a_time_that_does_not_grow_with_the_batch_is_no_fit():
    fit = fitted(SWEEP, [1e-3 - 1e-7 * x for x in SWEEP])
    assert fit.line is None and fit.reason.startswith("b ≤ 0")
    assert set(fixed_cost.fit_row(fit, None).values()) == {"v", "5", "-", fit.reason}


def test_a_negative_fixed_cost_shows_a_and_b_but_no_crossover_or_share():
    fit = fitted(SWEEP, [-1e-7 + 1e-6 * x for x in SWEEP])
    assert fit.b.value == pytest.approx(1e-6) and fit.reason.startswith("a ≤ 0")
    row = fixed_cost.fit_row(fit, 4)
    assert row["a: µs per call"].startswith("-0.1") and row["b: ns per sample"].startswith("1,000")
    assert row["B* = a / b"] == row["fixed share at B = 4"] == "-"


def test_the_workload_batch_is_the_full_batch_of_xor_and_digits():
    assert fixed_cost.work_batch("xor", "default") == 4
    assert fixed_cost.work_batch("digits", "quick") == 1078
    assert fixed_cost.work_batch("mnist", "default") is None  # swept at another width


# ---- the points, from a run's cases ----


def sweep_case(variant, network, batch, a, b, samples=None, ranked=True):
    """A batch-sweep case of pytest-benchmark's JSON whose calls take a + b·(rows per call)."""
    samples = samples or max(4 * batch, 128)
    calls = math.ceil(samples / batch)
    median = calls * a + b * samples
    return {"name": f"test_batch[{variant}-{network}-{batch}]", "group": "",
            "extra_info": {"kind": "batch", "op": "train", "variant": variant, "impl": variant,
                           "network": network, "dtype": "float64", "sizes": SHAPES[network],
                           "refused": "", "samples": samples, "full_samples": samples,
                           "sampled": False, "batch_size": min(batch, samples), "epochs": 1,
                           "batch": batch, "verification": "ok" if ranked else "mismatch"},
            "stats": {"min": median, "max": median, "mean": median, "median": median,
                      "iqr": 0.0, "rounds": 3, "iterations": 1}}


# Per variant and network: (a, b) of its calls.
TRUTH = {("numpy", "xor"): (20e-6, 10e-9), ("numba", "xor"): (0.5e-6, 40e-9),
         ("numpy", "mnist"): (100e-6, 60e-6), ("numba", "mnist"): (2e-6, 80e-6),
         ("numpy", "digits"): (25e-6, 1e-6), ("numba", "digits"): (1e-6, 4e-6)}


@pytest.fixture
def sweep_run(tmp_path):
    """Run A with a batch sweep of numpy and numba on the three networks, and of python on
    XOR at two batch sizes only."""
    document = json.loads(RUN_A.read_text())
    document["benchmarks"] += [sweep_case(v, n, batch, a, b)
                               for (v, n), (a, b) in TRUTH.items() for batch in SWEEP]
    document["benchmarks"] += [sweep_case("python", "xor", batch, 1e-6, 20e-6)
                               for batch in (1, 8)]
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps(document))
    return path


def test_the_fits_of_a_run_recover_each_variant_on_each_network(sweep_run):
    cases = tables.cases_frame(results.load_run(sweep_run))
    calls = fixed_cost.call_points(cases)
    assert len(calls) == len(TRUTH) * len(SWEEP) + 2
    found = {(f.variant, f.network): f for f in fixed_cost.fits(cases)}
    for key, (a, b) in TRUTH.items():
        assert found[key].a.value == pytest.approx(a, rel=1e-6), key
        assert found[key].b.value == pytest.approx(b, rel=1e-6), key
    assert found["python", "xor"].reason == "2 batch sizes: the fit needs 3"
    assert [f.network for f in fixed_cost.fits(cases)][:3] == ["xor"] * 3  # NETWORKS' order


def test_a_sampled_subset_smaller_than_the_batch_is_a_point_at_the_rows_it_ran(tmp_path):
    document = json.loads(RUN_A.read_text())
    document["benchmarks"] = [sweep_case("python", "xor", 512, 1e-6, 20e-6, samples=12),
                              sweep_case("numpy", "xor", 8, 1e-6, 20e-6, samples=20)]
    path = tmp_path / "subset.json"
    path.write_text(json.dumps(document))
    calls = fixed_cost.call_points(tables.cases_frame(results.load_run(path)))
    # python's 12 rows in one call; numpy's 20 rows in 3 calls (8, 8 and 4): 6.67 a call.
    assert calls.set_index("variant")["rows"].to_dict() == pytest.approx(
        {"python": 12.0, "numpy": 20 / 3})
    assert calls.set_index("variant")["call_s"].to_dict() == pytest.approx(
        {"python": 1e-6 + 12 * 20e-6, "numpy": 1e-6 + 20 / 3 * 20e-6})


def test_one_chart_per_swept_network_is_drawn(sweep_run, tmp_path):
    cases = tables.cases_frame(results.load_run(sweep_run))
    drawn = fixed_cost.draw(cases, tmp_path, "default")
    assert [p.name for p in drawn] == ["fixed_cost_xor.png", "fixed_cost_mnist.png",
                                       "fixed_cost_digits.png"]
    assert all(p.stat().st_size > 1000 for p in drawn)
    assert fixed_cost.draw(cases.iloc[:0], tmp_path / "none", "default") == []


def test_report_md_gets_the_section_its_table_and_its_charts(sweep_run, tmp_path):
    out = tmp_path / "out"
    assert main(["report", str(sweep_run), "--out", str(out)]) == 0
    text = (out / "REPORT.md").read_text()
    section = text.split("## The fixed cost of a call")[1].split("\n## ")[0]
    assert "| implementation | points | a: µs per call | b: ns per sample | B* = a / b |" in section
    assert "| numpy | 5 | 20 (20 to 20) | 10 (10 to 10) | 2,000 (2,000 to 2,000) | 100% " in section
    assert "| python | 2 | - | - | - | - | 2 batch sizes: the fit needs 3 |" in section
    # numba on XOR: a / (a + 4 b) = 0.5 / 0.66 µs.
    assert "- XOR (2-2-1, 4 rows per call): share of time that is fixed cost: numpy 100%" in section
    assert f"numba {0.5 / 0.66:.0%}" in section
    assert "- Digits (64-30-10, 1,078 rows per call)" in section and "- MNIST" not in section
    for network in ("xor", "mnist", "digits"):
        assert f"![fixed_cost_{network}](charts/fixed_cost_{network}.png)" in section
        assert (out / "charts" / f"fixed_cost_{network}.png").stat().st_size > 1000
    assert text.index("## The fixed cost of a call") > text.index("## Scaling")


def test_a_run_without_a_batch_sweep_has_no_section(tmp_path):
    out = tmp_path / "out"
    assert main(["report", str(RUN_A), "--out", str(out)]) == 0
    assert "## The fixed cost of a call" not in (out / "REPORT.md").read_text()
    assert not list((out / "charts").glob("fixed_cost_*.png"))


# ---- the sweep ----


def test_the_xor_rows_are_tiled_to_the_batch():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    assert first_rows(X, 10).tolist() == [*X.tolist(), *X.tolist(), *X[:2].tolist()]
    assert first_rows(X, 3).tolist() == X[:3].tolist()


def collected(*options: str) -> list[str]:
    """The batch sweep's case ids, as a benchmark process collects them."""
    done = subprocess.run([sys.executable, "-m", "pytest", "bench/test_scaling.py", "--co", "-q",
                           "-p", "no:cacheprovider", "--nnbench-variant", "numpy", "-k",
                           "test_batch", *options], capture_output=True, text=True, cwd=ROOT,
                          check=True)
    return [line.split("[")[1].rstrip("]") for line in done.stdout.splitlines()
            if line.startswith("bench/test_scaling.py::test_batch[")]


def test_the_default_batch_sweep_runs_xor_and_digits_too():
    sizes = MODES["default"].sweeps.batch_sizes
    assert set(MODES["default"].sweeps.batch_networks) == {"mnist", "xor", "digits"}
    assert len(sizes) >= fixed_cost.MIN_POINTS
    ids = collected()
    assert ids == [f"numpy-{network}-{batch}" for network in ("xor", "mnist", "digits")
                   for batch in sizes]
    assert collected("--nnbench-network", "digits") == [f"numpy-digits-{b}" for b in sizes]


def test_the_quick_batch_sweep_is_small_but_fits():
    quick = MODES["quick"].sweeps
    assert set(quick.batch_networks) == {"mnist", "xor"}
    assert len(quick.batch_sizes) == fixed_cost.MIN_POINTS
    assert collected("--nnbench-mode", "quick") == [
        f"numpy-{network}-{batch}" for network in ("xor", "mnist") for batch in quick.batch_sizes]
