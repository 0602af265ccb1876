"""The machine check (bench/steadiness.py): measured in every benchmark process, shown in the
report beside each step, and set beside the cases by `compare`."""

import contextlib
import json
import math
from pathlib import Path

import pytest
from nnbench.bench import compare, machine, report, results, steadiness, tables, targets
from nnbench.bench.checks import check_text, implementations_table, machine_checks
from nnbench.bench.cli import main
from threadpoolctl import threadpool_info, threadpool_limits

RUN_A = Path(__file__).parent / "data" / "bench_run_a.json"


def test_the_check_measures_every_rate(monkeypatch):
    monkeypatch.setattr(steadiness, "CALLS", 3)
    check = steadiness.check()
    assert check["threads"] >= 1 and check["time"] > 0
    for rate in ("run_threads_gflops", "one_thread_gflops", "python_mops"):
        assert math.isfinite(check[rate]) and check[rate] > 0


def test_on_one_thread_the_two_rates_are_one_measurement(monkeypatch):
    monkeypatch.setattr(steadiness, "CALLS", 3)
    monkeypatch.setattr(steadiness, "threads_in_effect", lambda: 1)
    check = steadiness.check()
    assert check["one_thread_gflops"] == check["run_threads_gflops"]


@pytest.mark.skipif(machine.cores() < 2, reason="needs two CPUs or more")
def test_a_check_inside_a_one_thread_block_still_measures_the_runs_threads(monkeypatch):
    """The GEMM step's one-thread cases are timed inside threadpoolctl's one-thread block; the
    check made around them must still time the run's threads, then one."""
    seen = []
    limit = steadiness.threadpool_limits

    @contextlib.contextmanager
    def watched(limits, user_api):
        with limit(limits=limits, user_api=user_api):
            seen.append(max(pool["num_threads"] for pool in threadpool_info()
                            if pool["user_api"] == "blas"))
            yield

    monkeypatch.setattr(steadiness, "CALLS", 3)
    monkeypatch.setattr(steadiness, "threadpool_limits", watched)
    monkeypatch.setattr(steadiness, "threads_in_effect", lambda: 2)
    with threadpool_limits(limits=1, user_api="blas"):
        steadiness.check()
    assert seen == [2, 1]


def with_checks(tmp_path: Path, name: str, start: float, end: float, scale: float = 1.0,
                python: float | None = None) -> Path:
    """Run A's JSON with a machine check (run's threads `start` -> `end` GFLOP/s, one thread
    half of that, and `python` million multiply-adds per second when given, as runs made
    before that check have none), every median multiplied by `scale`."""
    document = json.loads(RUN_A.read_text())
    document["nnbench"]["machine_check"] = {
        when: {"time": 0.0, "threads": 2, "run_threads_gflops": rate,
               "one_thread_gflops": rate / 2, **({"python_mops": python} if python else {})}
        for when, rate in (("start", start), ("end", end))}
    for bench in document["benchmarks"]:
        bench["stats"] = {key: value * scale if key in ("min", "max", "mean", "median", "iqr")
                          else value for key, value in bench["stats"].items()}
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(document))
    return path


def test_the_report_shows_each_steps_check_and_how_far_it_moved(tmp_path):
    path = with_checks(tmp_path, "run", 100.0, 80.0)
    run = results.load_run(path)
    checks = machine_checks(run).set_index("rate")
    assert checks.loc["run_threads_gflops", "mean"] == pytest.approx(90.0)
    assert checks.loc["one_thread_gflops", "start"] == pytest.approx(50.0)
    lines = report.steadiness_lines(run)
    # the 90th percentile of 80 and 100 is 98; 80 is more than 5% below it
    assert ("- run's threads: 80 to 100 GFLOP/s over 2 checks; 50% of them more than 5% below "
            "the 90th percentile (98)") in lines
    assert ("- one thread: 40 to 50 GFLOP/s over 2 checks; 50% of them more than 5% below the "
            "90th percentile (49)") in lines
    assert check_text(machine_checks(run), run.name, "run_threads_gflops") == \
        "100 → 80"


def test_a_one_thread_run_shows_its_check_once(tmp_path):
    """With --threads 1 the check on the run's threads and the one-thread check are the same
    measurement: one line, one column."""
    run = results.load_run(with_checks(tmp_path, "run", 100.0, 80.0))
    step = next(iter(run.documents))
    run.manifest = {"threads": {"setting": 1}, "steps": [{"name": step, "status": "ok"}]}
    shown = [line for line in report.steadiness_lines(run) if line.startswith("- ")]
    assert shown == ["- run's threads (one): 80 to 100 GFLOP/s over 2 checks; 50% of them more "
                     "than 5% below the 90th percentile (98)"]
    table = implementations_table(run)
    assert [column for column in table if column.startswith("check")] == [
        "check, run's threads (one)"]
    assert table["check, run's threads (one)"].tolist() == ["100 → 80"]


def test_a_run_without_checks_has_no_steadiness_section(tmp_path):
    run = results.load_run(RUN_A)
    assert report.steadiness_lines(run) == []
    out = tmp_path / "out"
    assert main(["report", str(RUN_A), "--out", str(out)]) == 0
    assert "How steady the machine was" not in (out / "REPORT.md").read_text()


def test_compare_sets_the_machines_move_beside_the_cases(tmp_path, capsys):
    """B ran every case 1.5x slower on a machine whose check was 1.5x slower: every case over
    1 ms moved, and every one of them in a step whose check moved too."""
    a = with_checks(tmp_path, "a", 100.0, 100.0)
    b = with_checks(tmp_path, "b", 100 / 1.5, 100 / 1.5, scale=1.5)
    merged, summary = compare.compare(results.load_run(a), results.load_run(b))
    assert merged["ratio"].to_numpy() == pytest.approx(1.5)
    assert merged["check_ratio"].to_numpy() == pytest.approx(1.5)
    assert merged["check_ratio_one"].to_numpy() == pytest.approx(1.5)
    n = summary["over_1ms"]
    assert summary["moved_over_5pc"] == summary["unsteady_moved"] == summary["unsteady_cases"] \
        == n > 0
    assert summary["steady_cases"] == 0 and summary["unsteady_median_move"] == pytest.approx(0.5)
    assert summary["steps_machine_moved"] == summary["steps_checked"] == 1
    assert main(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "1.500 / 1.500" in out
    assert "The machine check moved by more than 5% in 1 of the 1 steps" in out
    assert (f"Cases over 1 ms whose machine check moved by more than 5%: {n} of {n} moved by "
            f"more than 5% (median move 50.0%)") in out
    assert "whose machine check stayed within 5%" not in out


def test_a_move_of_the_pure_python_check_alone_is_the_machine_moving(tmp_path, capsys):
    """B ran every case 1.5x slower; its products ran as fast as A's, but its pure-Python check
    1.5x slower: the machine moved."""
    a = with_checks(tmp_path, "a", 100.0, 100.0, python=30.0)
    b = with_checks(tmp_path, "b", 100.0, 100.0, scale=1.5, python=20.0)
    merged, summary = compare.compare(results.load_run(a), results.load_run(b))
    assert merged["check_ratio"].to_numpy() == pytest.approx(1.0)
    assert merged["check_ratio_python"].to_numpy() == pytest.approx(1.5)
    assert summary["moved_over_5pc"] == summary["unsteady_moved"] > 0
    assert summary["steady_cases"] == 0 and summary["steps_machine_moved"] == 1
    assert main(["compare", str(a), str(b)]) == 0
    assert "1.000 / 1.000 / 1.500" in capsys.readouterr().out
    # The report: a line and a column for it; none in a run made before the pure-Python check.
    for path, python in ((b, True), (with_checks(tmp_path, "older", 100.0, 100.0), False)):
        run = results.load_run(path)
        run.manifest = {"threads": {"setting": 2},
                        "steps": [{"name": next(iter(run.documents)), "status": "ok"}]}
        line = ("- pure Python: 20 to 20 M multiply-adds/s over 2 checks; 0% of them more than "
                "5% below the 90th percentile (20)")
        assert (line in report.steadiness_lines(run)) == python
        table = implementations_table(run)
        assert ("check, pure Python" in table) == python
        assert "check, one thread" in table
        if python:
            assert table["check, pure Python"].tolist() == ["20 → 20"]


def test_a_steady_machine_explains_no_move(tmp_path):
    a = with_checks(tmp_path, "a", 100.0, 100.0)
    b = with_checks(tmp_path, "b", 101.0, 99.0, scale=1.5)
    _, summary = compare.compare(results.load_run(a), results.load_run(b))
    assert summary["moved_over_5pc"] == summary["steady_moved"] == summary["steady_cases"] > 0
    assert summary["unsteady_cases"] == 0 and summary["steps_machine_moved"] == 0


def test_runs_from_before_the_check_still_compare(tmp_path):
    a = with_checks(tmp_path, "a", 100.0, 100.0)
    merged, summary = compare.compare(results.load_run(a), results.load_run(RUN_A))
    assert merged["check_ratio"].isna().all() and summary["checked"] == 0
    assert summary["moved_over_5pc"] == 0


def test_the_benchmark_json_carries_the_check_of_its_start_and_end(tmp_path):
    """A real benchmark process (the GEMM step, quick mode) writes both checks."""
    import subprocess
    import sys

    out = tmp_path / "gemm.json"
    subprocess.run([sys.executable, "-m", "pytest", "bench/test_gemm.py", "-q",
                    "-p", "no:cacheprovider", "--nnbench-mode", "quick",
                    f"--benchmark-json={out}"], check=True, capture_output=True,
                   cwd=Path(__file__).parent.parent)
    check = json.loads(out.read_text())["nnbench"]["machine_check"]
    assert set(check) == {"start", "end"}
    assert check["end"]["time"] >= check["start"]["time"]
    assert all(check[when]["run_threads_gflops"] > 0 for when in check)


def test_compare_uses_the_checks_made_around_each_case(tmp_path):
    """B ran numpy's cases 1.5x slower, each with a machine check 1.5x slower around it; the
    steps' own checks did not move: the cases' checks explain numpy's moves."""
    a = with_checks(tmp_path, "a", 100.0, 100.0)
    document = json.loads(with_checks(tmp_path, "b", 100.0, 100.0).read_text())
    for bench in document["benchmarks"]:
        slow = bench["extra_info"].get("variant") == "numpy"
        rate = 100 / 1.5 if slow else 100.0
        bench["extra_info"]["machine_check"] = {
            when: {"run_threads_gflops": rate, "one_thread_gflops": rate / 2}
            for when in ("start", "end")}
        if slow:
            bench["stats"] = {key: value * 1.5 if key in ("min", "max", "mean", "median", "iqr")
                              else value for key, value in bench["stats"].items()}
    b = tmp_path / "b_cases.json"
    b.write_text(json.dumps(document))
    merged, summary = compare.compare(results.load_run(a), results.load_run(b))
    # A has no checks around its cases: where B has them alone, the step's stand in.
    assert merged["check_ratio"].to_numpy() == pytest.approx(1.0)
    assert summary["unsteady_moved"] == 0 < summary["moved_over_5pc"] == summary["steady_moved"]
    merged, summary = compare.compare(results.load_run(b), results.load_run(b))
    assert merged["check_ratio"].to_numpy() == pytest.approx(1.0)
    # Both with checks around the cases: numpy's moved with its own.
    c = tmp_path / "c.json"
    document_a = json.loads(b.read_text())
    for bench in document_a["benchmarks"]:
        bench["extra_info"]["machine_check"] = {
            when: {"run_threads_gflops": 100.0, "one_thread_gflops": 50.0}
            for when in ("start", "end")}
        if bench["extra_info"].get("variant") == "numpy":
            bench["stats"] = {key: value / 1.5 if key in ("min", "max", "mean", "median", "iqr")
                              else value for key, value in bench["stats"].items()}
    c.write_text(json.dumps(document_a))
    merged, summary = compare.compare(results.load_run(c), results.load_run(b))
    numpy_rows = merged["variant"] == "numpy"
    assert merged.loc[numpy_rows, "check_ratio"].to_numpy() == pytest.approx(1.5)
    assert merged.loc[~numpy_rows, "check_ratio"].to_numpy() == pytest.approx(1.0)
    assert summary["moved_over_5pc"] == summary["unsteady_moved"] == summary["unsteady_cases"] > 0
    assert summary["steady_moved"] == 0 < summary["steady_cases"]
    assert summary["steps_machine_moved"] == 0
    lines = report.steadiness_lines(results.load_run(b))
    checks = 2 + 2 * len(document["benchmarks"])  # the process's, and two per case
    assert any(f"over {checks} checks" in line for line in lines)


class RecordingBenchmark:
    """What `timed` needs of pytest-benchmark's fixture."""

    def __init__(self):
        self.extra_info, self.calls = {}, 0

    def pedantic(self, function, args=(), rounds=1, iterations=1):
        for _ in range(rounds * iterations):
            function(*args)
            self.calls += 1


@pytest.mark.parametrize("case_checks", [True, False])
def test_a_case_is_timed_between_two_checks_when_the_mode_says_so(monkeypatch, case_checks):
    import dataclasses

    from nnbench.bench import measure
    from nnbench.bench.measure import timed
    from nnbench.bench.workloads import get_mode

    quick = get_mode("quick")
    mode = dataclasses.replace(quick, timing=dataclasses.replace(quick.timing,
                                                                 case_checks=case_checks))
    benchmark = RecordingBenchmark()
    events = []
    monkeypatch.setattr(steadiness, "check", lambda: events.append("check") or {"rate": 1.0})
    monkeypatch.setattr(measure, "wait_for_blas_threads", lambda: events.append("wait"))
    timed(benchmark, mode, lambda n: events.append("round"), args=(3,), rounds=2)
    assert benchmark.calls == 2
    # the rounds start once the BLAS threads woken by the check are asleep
    assert events == (["check", "wait", "round", "round", "check"] if case_checks
                      else ["wait", "round", "round"])
    check = benchmark.extra_info["machine_check"]
    assert set(check) == ({"start", "end"} if case_checks else set())
    assert get_mode("default").timing.case_checks and not get_mode("quick").timing.case_checks


def test_the_figures_section_says_how_quiet_the_machine_was(tmp_path):
    run = results.load_run(with_checks(tmp_path, "run", 100.0, 80.0))
    cases = tables.cases_frame(run)
    lines = targets.target_lines(run, tables.main_table(run, cases), cases)
    assert any(line.startswith("- Repeatability (target:") and
               "its check on the run's threads 80 to 100 GFLOP/s over 2 checks; 50% of them "
               "more than 5% below the 90th percentile (98)" in line for line in lines)
