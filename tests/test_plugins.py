"""Implementations from outside the package: found by file path and by entry point, listed,
trained, verified, refused where they declare a limit, and measured by a quick run.

The plugins live in tests/plugins/: `tiny.py` (a small, correct NumPy network that declares
what it cannot do), `misbehaving.py` (one way of going wrong each) and `broken.py` (fails at
import). No timing is asserted.
"""

import json
import os
from pathlib import Path

import nnbench
import pytest
from nnbench.bench.cli import main

PLUGINS = Path(__file__).resolve().parent / "plugins"
TINY = f"{PLUGINS / 'tiny.py'}:Tiny"
MISBEHAVING = PLUGINS / "misbehaving.py"


@pytest.fixture(autouse=True)
def fresh_registry(monkeypatch):
    """Each test starts from the built-in implementations and leaves them so."""
    for name, value in (("_joined", {}), ("_refused", []), ("_discovered", False),
                        ("_classes", dict(nnbench._classes)),
                        ("_failures", dict(nnbench._failures))):
        monkeypatch.setattr(nnbench, name, value)
    monkeypatch.delenv(nnbench.plugins.ENV, raising=False)


def run_cli(capsys, *args) -> tuple[int, str, str]:
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


# ---- a file path ----


def test_a_file_plugin_is_listed_with_its_limits(capsys):
    status, out, _ = run_cli(capsys, "list", "--impl", TINY)
    assert status == 0
    line = next(line for line in out.splitlines() if line.split()[:2] == ["tiny", "available"])
    assert "A plain NumPy network" in line and "[float64]" in line and "tiny.py" in line
    assert any("not supported: mnist, mnist-leaky, mnist-best: tiny has only sigmoid" in line
               for line in out.splitlines())


def test_a_file_plugin_trains(capsys):
    status, out, _ = run_cli(capsys, "train", "--impl", TINY, "--network", "xor-bias-column",
                             "--epochs", "3000", "--no-progress")
    assert status == 0
    assert "tiny (float64) on xor-bias-column" in out and "test accuracy 100.00%" in out


def test_a_declared_limit_is_refused_in_one_line(capsys):
    status, out, err = run_cli(capsys, "train", "--impl", TINY, "--network", "mnist")
    assert status == 2 and out == ""
    assert err.strip() == ("nnbench train: error: tiny does not support mnist in float64: tiny "
                           "has only sigmoid, tanh and linear layers")
    status, _, err = run_cli(capsys, "verify", "--impl", TINY, "--network", "mnist",
                             "--no-charts")
    assert status == 2 and "tiny has only sigmoid, tanh and linear layers" in err
    assert len(err.strip().splitlines()) == 1


def test_verify_passes_a_correct_plugin_and_writes_its_json_and_charts(capsys, tmp_path):
    status, out, _ = run_cli(capsys, "verify", "--impl", TINY, "--network", "xor", "digits",
                             "mnist", "--json", tmp_path / "v.json", "--charts",
                             tmp_path / "charts", "--epochs", "20")
    assert status == 0
    findings = json.loads((tmp_path / "v.json").read_text())
    statuses = {(f["preset"], f["dtype"]): f["status"] for f in findings}
    assert statuses[("xor", "float64")] == statuses[("digits", "float64")] == "ok"
    assert statuses[("mnist", "float64")] == statuses[("xor", "float32")] == "not supported"
    assert all(f["largest"] <= f["tolerance"] for f in findings if f["status"] == "ok")
    assert {p.name for p in (tmp_path / "charts").iterdir()} == {"verify_heatmap.png",
                                                                 "verify_drift.png"}
    assert "2 ok, 4 not supported" in out


def test_verify_checks_the_small_case_a_memory_limit_allows(capsys):
    """784-512-10 is over the Jacobian's budget, but verify's MNIST case is 784-16-10."""
    status, out, _ = run_cli(capsys, "verify", "--impl", "jacobian", "--network", "mnist",
                             "--dtype", "float64", "--no-charts", "--epochs", "2")
    assert status == 0 and "1 ok" in out


def test_verify_names_the_first_quantity_that_disagrees(capsys):
    status, _, err = run_cli(capsys, "verify", "--impl", f"{MISBEHAVING}:WrongGradient",
                             "--network", "xor-keras", "--dtype", "float64", "--no-charts")
    assert status == 1
    assert err.startswith("nnbench verify: wrong-gradient xor-keras float64: mismatch: "
                          "gradient of W1 at (")
    assert "against numpy's" in err and "> tolerance 1e-09" in err


@pytest.mark.parametrize("cls,expected", [
    ("Raises", "failed: RuntimeError: injected failure in _train_step"),
    ("ReturnsNaN", "mismatch: outputs at (0, 0): nan against numpy's"),
    ("WrongShape", "mismatch: outputs: shape"),
])
def test_verify_reports_a_misbehaving_plugin(capsys, cls, expected):
    status, out, err = run_cli(capsys, "verify", "--impl", f"{MISBEHAVING}:{cls}", "--network",
                               "xor", "--dtype", "float64", "--no-charts")
    assert status == 1 and expected in err


def test_the_claims_table_says_what_a_plugin_does_not_support():
    from nnbench.bench import claims

    name = nnbench.join(TINY)
    (row,) = claims.run_claims(claims.Context([name], quick=True), ["A1"])
    assert row["impl"] == "tiny" and row["verdict"] == claims.NOT_RUN
    assert row["reason"] == "not supported: tiny has only sigmoid, tanh and linear layers"


# ---- an entry point ----


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    """A distribution on sys.path declaring two entry points: `tiny`, and one that takes the
    name of a built-in implementation."""
    info = tmp_path / "tinyplugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tinyplugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[nnbench.implementations]\ntiny = tiny:Tiny\nnumpy = tiny:Tiny\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(PLUGINS))
    return tmp_path


def test_an_entry_point_joins_and_a_clashing_one_is_refused(installed_plugin, capsys):
    assert "tiny" in nnbench.names() and nnbench.available()["tiny"]
    assert nnbench.entry("tiny").origin == "entry point of tinyplugin"
    assert nnbench.get_class("numpy").__module__ == "nnbench.numpy_vec"
    (refusal,) = nnbench.refused()
    assert "entry point 'numpy' of tinyplugin" in refusal and "built in" in refusal
    status, out, _ = run_cli(capsys, "verify", "--impl", "tiny", "--network", "xor",
                             "--dtype", "float64", "--no-charts", "--epochs", "5")
    assert status == 0 and "1 ok" in out
    status, out, _ = run_cli(capsys, "list")
    line = next(line for line in out.splitlines() if line.split()[:2] == ["tiny", "available"])
    assert "A plain NumPy network" in line and "(entry point of tinyplugin)" in line
    assert "refused: entry point 'numpy'" in out


def test_a_reference_to_a_built_in_class_is_that_implementation():
    assert nnbench.join("nnbench.numpy_vec:NumpyVectorised") == "numpy"
    assert nnbench.names().count("numpy") == 1


# ---- bad references, and paths ----


@pytest.mark.parametrize("reference,expected", [
    (f"{PLUGINS}/missing.py:Tiny", "no such file"),
    (f"{PLUGINS}:Tiny", "is not a file"),
    ("./tiny.py:not-a-class", "expected NAME, module:Class or ./file.py:Class"),
    (f"{MISBEHAVING}:NamedLikeNumpy", "the name 'numpy' is taken by a built-in implementation"),
])
def test_a_bad_reference_is_one_line_and_exit_2(capsys, reference, expected):
    for command in (["train", "--network", "xor"], ["verify", "--no-charts"]):
        status, out, err = run_cli(capsys, command[0], "--impl", reference, *command[1:])
        assert status == 2 and expected in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("reference,expected", [
    (f"{PLUGINS / 'broken.py'}:Broken", "raised RuntimeError: this plugin fails at import"),
    (f"{MISBEHAVING}:Missing", "defines no Missing"),
    (f"{MISBEHAVING}:NotAnImplementation", "is not a subclass of nnbench.base.Implementation"),
    (f"{MISBEHAVING}:NoName", "its name 'has a space' is not usable"),
    ("no_such_module_here:Cls", "there is no module no_such_module_here here"),
])
def test_a_plugin_that_cannot_load_is_unavailable_in_list_and_refused_elsewhere(
        capsys, reference, expected):
    status, out, _ = run_cli(capsys, "list", "--impl", reference)
    assert status == 0 and expected in out and "unavailable" in out
    status, _, err = run_cli(capsys, "train", "--impl", reference, "--network", "xor")
    assert status == 2 and expected in err and len(err.strip().splitlines()) == 1


def test_an_unreadable_plugin_file_is_refused(capsys, monkeypatch):
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path).name != "tiny.py"
                        and real_access(path, mode))
    status, _, err = run_cli(capsys, "list", "--impl", TINY)
    assert status == 2 and "cannot be read (permission denied)" in err


# ---- measured by a quick run, beside built-in ones that go on ----


def test_a_quick_run_measures_a_plugin_and_reports_each_misbehaviour(tmp_path, capsys):
    out = tmp_path / "results"
    status = main(["run", "--quick", "--claims-budget", "0", "--network", "xor", "--timeout",
                   "40", "--out", str(out), "--no-progress", "--impl", "numpy", TINY,
                   f"{MISBEHAVING}:Raises", f"{MISBEHAVING}:ReturnsNaN",
                   f"{MISBEHAVING}:Hangs", f"{PLUGINS / 'broken.py'}:Broken"])
    capsys.readouterr()
    assert status == 1
    run_dir = next(out.glob("runs/*/*"))
    steps = {s["name"]: s for s in json.loads((run_dir / "manifest.json").read_text())["steps"]}
    assert steps["numpy"]["status"] == steps["tiny"]["status"] == "ok"
    assert steps["raises"]["status"] == "partial"
    assert "injected failure" in steps["raises"]["reason"]
    assert steps["returns-nan"]["status"] == "mismatch"
    assert steps["hangs"]["status"] == "timed out"
    broken = steps[f"{PLUGINS / 'broken.py'}:Broken"]
    assert broken["status"] == "failed" and "fails at import" in broken["reason"]
    report = (out / "REPORT.md").read_text()
    assert "| tiny |" in report  # measured beside numpy, and verified
    summary = (out / "summary.csv").read_text()
    assert ",tiny," in summary
