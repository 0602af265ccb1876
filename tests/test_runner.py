"""`nnbench run` when implementations misbehave: reported with the reason, never ranked, and
the run goes on to the next one.

Three misbehaving implementations join the run as plugins from a file
(tests/plugins/misbehaving.py): one that crashes its process, one whose training raises, one
that computes something slightly different. A quick run on XOR takes them beside numpy. No
timing is asserted.
"""

import json
import os
import sys
from pathlib import Path

import nnbench
import pandas as pd
import pytest
from nnbench.bench import machine, runner, threads
from nnbench.bench.child import run_child
from nnbench.bench.cli import main

MISBEHAVING = Path(__file__).resolve().parent / "plugins" / "misbehaving.py"


@pytest.fixture(scope="module")
def misbehaving_run(tmp_path_factory):
    """A quick XOR run of numpy and the three doubles, through the real command."""
    scratch = tmp_path_factory.mktemp("fakes")
    patch = pytest.MonkeyPatch()
    for name, value in (("_joined", {}), ("_discovered", False),
                        ("_classes", dict(nnbench._classes))):
        patch.setattr(nnbench, name, value)
    patch.delenv(nnbench.plugins.ENV, raising=False)
    out = scratch / "results"
    status = main(["run", "--quick", "--claims-budget", "0", "--impl", "numpy",
                   f"{MISBEHAVING}:Crashes", f"{MISBEHAVING}:Raises", f"{MISBEHAVING}:Disagrees",
                   "--network", "xor", "--dtype", "float64", "--out", str(out),
                   "--no-progress"])
    patch.undo()
    run_dir = next(out.glob("runs/*/*"))
    manifest = json.loads((run_dir / "manifest.json").read_text())
    return status, out, run_dir, {step["name"]: step for step in manifest["steps"]}


def test_each_misbehaviour_gets_its_status_and_reason(misbehaving_run):
    status, _, _, steps = misbehaving_run
    assert status == 1  # the command says something went wrong ...
    assert steps["gemm"]["status"] == "ok" and steps["numpy"]["status"] == "ok"
    assert steps["crashes"]["status"] == "crashed"
    assert "SIGABRT" in steps["crashes"]["reason"]
    assert steps["raises"]["status"] == "partial"
    assert "injected failure" in steps["raises"]["reason"]
    assert steps["disagrees"]["status"] == "mismatch"
    assert "differs from numpy" in steps["disagrees"]["reason"]


def test_the_run_goes_on_after_a_crash(misbehaving_run):
    _, _, run_dir, steps = misbehaving_run
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert list(steps) == manifest["blocks"]["orders"][0]  # every step ran, in the drawn order
    assert set(steps) == {"gemm", "numpy", "crashes", "raises", "disagrees"}
    for name in ("numpy", "raises", "disagrees"):  # ... but every result is kept
        assert (run_dir / steps[name]["json"]).is_file()
        assert steps[name]["peak_rss_bytes"] > 0
    assert not steps["crashes"]["json"]
    assert (run_dir / steps["crashes"]["log"]).read_text()  # the crash's output is kept
    assert not list(run_dir.glob("raw/.*partial"))


def test_misbehaving_cases_are_reported_and_not_ranked(misbehaving_run):
    _, out, _, _ = misbehaving_run
    summary = pd.read_csv(out / "summary.csv")
    rows = summary.set_index(["variant", "op"])
    assert rows.loc[("numpy", "train"), "ranked"]
    assert rows.loc[("numpy", "train"), "ratio_to_fastest"] == 1.0
    assert rows.loc[("raises", "predict"), "ranked"]  # its predict works
    assert not rows.loc[("raises", "train"), "ranked"]
    assert "injected failure" in rows.loc[("raises", "train"), "note"]
    for op in ("predict", "train"):
        assert rows.loc[("disagrees", op), "verification"] == "mismatch"
        assert not rows.loc[("disagrees", op), "ranked"]
        assert pd.isna(rows.loc[("disagrees", op), "ratio_to_fastest"])
    assert "crashes" not in set(summary["variant"])
    report = (out / "REPORT.md").read_text()
    assert "| crashes | crashed |" in report and "SIGABRT" in report


def test_the_report_can_be_rebuilt_from_the_raw_json_alone(misbehaving_run, tmp_path):
    _, out, run_dir, _ = misbehaving_run
    assert main(["report", str(run_dir), "--out", str(tmp_path)]) == 0
    assert (tmp_path / "summary.csv").read_text() == (out / "summary.csv").read_text()


def test_an_unknown_implementation_is_refused_before_anything_runs(tmp_path, capsys):
    assert main(["run", "--impl", "nope", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown implementation 'nope'" in err[0]
    assert not list(tmp_path.iterdir())


def test_two_runs_in_the_same_second_get_two_directories(tmp_path):
    first = runner.new_run_directory(tmp_path, "machine")
    second = runner.new_run_directory(tmp_path, "machine")
    assert first[0] != second[0] and first[1].is_dir() and second[1].is_dir()
    assert Path(first[1]).parent == tmp_path / "runs" / "machine"


# Quick mode lengthens every short round to 0.02 s and takes 3 of them: 0.06 s (XOR's cases).
# A sampled paradigm's round is at least about 0.04 s, one pure-Python MNIST sample, taken
# twice or more: 0.08 s or more. A limit between the two skips pure Python's MNIST training
# and keeps the XOR cases, whatever the machine's speed.
LIMIT_S = 0.07


def test_max_case_seconds_skips_the_cases_estimated_over_it(tmp_path):
    out = tmp_path / "results"
    assert main(["run", "--quick", "--impl", "python", "numpy", "--network", "xor", "mnist",
                 "--max-case-seconds", str(LIMIT_S), "--out", str(out), "--no-progress"]) == 0
    run_dir = next(out.glob("runs/*/*"))
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["max_case_s"] == LIMIT_S
    ran, skipped = {}, {}
    for step in (step for step in manifest["steps"] if step["kind"] == "variant"):
        assert step["status"] == "ok", step  # a skipped case is not a failed one
        document = json.loads((run_dir / step["json"]).read_text())
        ran |= {b["name"]: b["extra_info"]["estimate_s"] for b in document["benchmarks"]
                if "estimate_s" in b["extra_info"]}
        skipped |= {case["nodeid"].split("::")[-1]: case
                    for case in document["nnbench"]["skipped"]}
    assert "test_train[python-float64-mnist]" in skipped
    for name in ("test_train[python-float64-xor]", "test_predict[numpy-float64-xor]"):
        assert name in ran
    # The rule itself, case by case: run within the limit, skipped over it.
    assert all(estimate <= LIMIT_S for estimate in ran.values())
    assert all(case["estimate_s"] > LIMIT_S and case["limit_s"] == LIMIT_S
               for case in skipped.values())
    summary = pd.read_csv(out / "summary.csv").set_index(["variant", "network", "op"])
    assert ("python", "xor", "train") in summary.index
    assert ("python", "mnist", "train") not in summary.index
    report = (out / "REPORT.md").read_text()
    estimate = skipped["test_train[python-float64-mnist]"]["estimate_s"]
    assert (f"- python: `test_train[python-float64-mnist]`: skipped: estimated ~{estimate:.2g} "
            f"s, over --max-case-seconds {LIMIT_S:g}") in report
    assert "Partial run" not in report


def test_the_claims_are_a_step_of_the_run(tmp_path):
    """With a budget, `nnbench run` checks the claims in a process of its own: claims.json in
    the run directory, the step's verdict counts in the manifest, the section in REPORT.md."""
    out = tmp_path / "results"
    assert main(["run", "--quick", "--impl", "numpy", "--network", "xor", "--claims-budget",
                 "0.5", "--out", str(out), "--no-progress"]) == 0
    run_dir = next(out.glob("runs/*/*"))
    manifest = json.loads((run_dir / "manifest.json").read_text())
    step = manifest["steps"][-1]
    assert step["name"] == "claims" and step["status"] == "ok"
    findings = json.loads((run_dir / "claims.json").read_text())
    assert step["cases"] == len(findings) and "reproduced" in step["reason"]
    assert {row["impl"] for row in findings if row["id"] == "B1"} == {"numpy"}  # the run's
    assert "## The seed write-ups' claims, re-measured" in (out / "REPORT.md").read_text()


def test_a_claims_step_that_leaves_no_findings_is_reported_as_crashed(tmp_path):
    (tmp_path / "raw").mkdir()
    log = tmp_path / "claims.log"
    log.write_text("$ nnbench claims ...\nSegmentation fault\n")
    step = runner.claims_step(3.0, ["numpy"])
    step.returncode = -11
    runner.judge_claims(step, tmp_path / "raw" / ".claims.json.partial", tmp_path, log)
    assert step.status == "crashed" and "SIGSEGV" in step.reason
    assert "Segmentation fault" in step.reason and not (tmp_path / "claims.json").exists()
    assert step.arguments == ["--budget", "3", "--quick", "--impl", "numpy"]


PRINT_CPUS = "import os; print(sorted(os.sched_getaffinity(0)))"
needs_two_cpus = pytest.mark.skipif(machine.cores() < 2, reason="needs two CPUs or more")


@needs_two_cpus
def test_a_child_can_be_held_to_some_cpus_and_the_caller_is_not(tmp_path):
    before = os.sched_getaffinity(0)
    first = machine.cpus()[:1]
    seen = tmp_path / "cpus"
    with open(seen, "w") as stdout:
        result = run_child([sys.executable, "-c", PRINT_CPUS], dict(os.environ), None, tmp_path,
                           stdout=stdout, cpus=first)
    assert result.returncode == 0
    assert seen.read_text().strip() == str(first)
    assert os.sched_getaffinity(0) == before


@needs_two_cpus
def test_fewer_threads_than_cores_hold_every_step_to_that_many_cpus(tmp_path):
    out = tmp_path / "results"
    assert main(["run", "--quick", "--impl", "numpy", "--network", "xor", "--threads", "1",
                 "--out", str(out), "--no-progress"]) == 0
    run_dir = next(out.glob("runs/*/*"))
    manifest = json.loads((run_dir / "manifest.json").read_text())
    first = machine.cpus()[:1]
    assert manifest["threads"]["cpus"] == first
    for step in manifest["steps"]:
        document = json.loads((run_dir / step["json"]).read_text())
        ours = document["machine_info"]["nnbench"]
        assert ours["cpus"] == first and ours["threads"]["setting"] == 1, step["name"]
        assert ours["threads"]["environment"]["OPENBLAS_THREAD_TIMEOUT"] == "24"
    report = (out / "REPORT.md").read_text()
    assert f"every step held to CPU {first[0]})" in report
    assert f"{machine.cores()} cores usable" in report  # the machine's, not a held step's


def test_as_many_threads_as_cores_hold_nothing():
    assert threads.held_cpus(machine.cores()) is None
    assert threads.held_cpus(machine.cores() + 1) is None
