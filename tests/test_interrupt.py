"""Stopping `nnbench run`: SIGINT (Ctrl-C) and SIGTERM stop it within seconds, with nothing
left running, what finished kept and marked partial, and every earlier result untouched.

The processes are followed through /proc (Linux): every process that descended from the
command is noted, by pid and start time (a pid can be reused), while it runs; after the
command has exited, none of them may still be alive (a zombie waiting for init counts as
gone). No timing is asserted beyond generous bounds on stopping at all.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from nnbench.bench.cli import main

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(),
                                reason="follows processes through /proc (Linux)")

STOP_WITHIN_S = 30  # generous: the runner's grace is 2 s


# ---- processes, from /proc ----


def process_table() -> dict[int, tuple[int, str, str]]:
    """pid -> (parent pid, state, start time) of every process."""
    table = {}
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{name}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        table[int(name)] = (int(fields[1]), fields[0], fields[19])
    return table


def descendants(pid: int) -> set[tuple[int, str]]:
    """(pid, start time) of every living descendant of `pid`."""
    table = process_table()
    found, parents = set(), [pid]
    while parents:
        parent = parents.pop()
        for child, (ppid, state, started) in table.items():
            if ppid == parent and state != "Z":
                found.add((child, started))
                parents.append(child)
    return found


def still_alive(processes: set[tuple[int, str]]) -> set[tuple[int, str]]:
    table = process_table()
    return {(pid, started) for pid, started in processes
            if pid in table and table[pid][2] == started and table[pid][1] != "Z"}


def stop_leftovers(processes: set[tuple[int, str]]) -> None:
    """Kill what a failed test (or a runner killed on purpose) left running."""
    for pid, _ in still_alive(processes):
        try:
            os.killpg(os.getpgid(pid), signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


# ---- the real command, interrupted while a step runs ----


def nnbench_run(out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "nnbench.bench.cli", "run", "--quick", "--impl", "python", "numpy",
         "--network", "xor", "--out", str(out), "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def manifest_of(out: Path) -> dict:
    found = [path for path in out.glob("runs/*/*/manifest.json") if "earlier" not in str(path)]
    return json.loads(found[0].read_text()) if found else {}


def wait_for_a_second_step(runner: subprocess.Popen, out: Path, seen: set,
                           then_s: float = 0.0) -> None:
    """Until a step has finished and the next one's process has been running for `then_s`."""
    deadline = time.monotonic() + 120
    running_since = None
    while True:
        children = descendants(runner.pid)
        seen |= children
        steps = manifest_of(out).get("steps", [])
        if children and len(steps) >= 2 and steps[-1]["status"] == "running":
            running_since = running_since or time.monotonic()
            if time.monotonic() - running_since >= then_s:
                return
        if runner.poll() is not None:
            pytest.fail(f"the run ended before it could be stopped: {runner.stderr.read()}")
        if time.monotonic() > deadline:
            pytest.fail("no second step started within 120 s")
        time.sleep(0.02)


def wait_for_exit(runner: subprocess.Popen, seen: set) -> float:
    """Seconds until `runner` exits, noting its descendants meanwhile."""
    sent = time.monotonic()
    while runner.poll() is None:
        seen |= descendants(runner.pid)
        if time.monotonic() - sent > STOP_WITHIN_S:
            runner.kill()
            pytest.fail(f"still running {STOP_WITHIN_S} s after the signal")
        time.sleep(0.02)
    return time.monotonic() - sent


@pytest.fixture
def results_with_history(tmp_path):
    """A results directory holding an earlier report and an earlier run."""
    out = tmp_path / "results"
    earlier = {"REPORT.md": "# an earlier report\n", "summary.csv": "run_id\nearlier\n",
               "charts/speed_xor.png": "not really a png\n",
               "runs/machine/earlier/manifest.json": '{"nnbench_run": 1, "steps": []}\n'}
    for name, text in earlier.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text)
    return out, earlier


# SIGINT as the step's process starts (the moment a child is hardest to catch), SIGTERM
# while it works (a second is about the whole step).
@pytest.mark.parametrize("signum,then_s", [(signal.SIGINT, 0.0), (signal.SIGTERM, 0.3)],
                         ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_run_and_keeps_what_finished(results_with_history, tmp_path,
                                                        signum, then_s):
    out, earlier = results_with_history
    runner, seen = nnbench_run(out), set()
    try:
        wait_for_a_second_step(runner, out, seen, then_s)
        runner.send_signal(signum)
        wait_for_exit(runner, seen)
        left = still_alive(seen)
    finally:
        stop_leftovers(seen)
        runner.kill()
    stderr = runner.stderr.read()

    name = signal.Signals(signum).name
    assert runner.returncode == 128 + signum, stderr  # 130 for SIGINT, 143 for SIGTERM
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith(f"nnbench run: interrupted by {name} "
                                                      f"after ")
    assert seen and not left  # the step's process, its probes: all gone

    manifest = manifest_of(out)
    run_dir = next(p.parent for p in out.glob(f"runs/*/{manifest['run_id']}/manifest.json"))
    assert manifest["interrupted"] == name and manifest["finished"]
    *done, stopped = manifest["steps"]
    assert done and all(step["status"] == "ok" for step in done)
    for step in done:
        assert (run_dir / step["json"]).is_file()
    assert stopped["status"] == "interrupted" and not stopped["json"]
    assert name in stopped["reason"]
    assert not list((run_dir / "raw").glob(".*"))  # no half-written JSON
    for path, text in earlier.items():  # the report and the runs before: as they were
        assert (out / path).read_text() == text, path

    assert main(["report", str(run_dir), "--out", str(tmp_path / "report")]) == 0
    report = (tmp_path / "report" / "REPORT.md").read_text()
    planned = len(manifest["planned_steps"])
    assert (f"**Partial run**: interrupted by {name}, after {len(done)} of {planned} steps; "
            f"missing: {stopped['name']} (interrupted)") in report


def test_a_run_killed_hard_is_reported_as_partial(tmp_path):
    """SIGKILL leaves the runner no say: its manifest has no end, and the report says so."""
    out = tmp_path / "results"
    runner, seen = nnbench_run(out), set()
    try:
        wait_for_a_second_step(runner, out, seen)
        runner.kill()
        runner.wait(timeout=STOP_WITHIN_S)
    finally:
        stop_leftovers(seen | descendants(runner.pid))  # its orphans: nobody stops them
    manifest = manifest_of(out)
    assert manifest["finished"] is None and manifest["steps"][-1]["status"] == "running"
    run_dir = next(out.glob(f"runs/*/{manifest['run_id']}"))
    assert main(["report", str(run_dir), "--out", str(tmp_path / "report")]) == 0
    report = (tmp_path / "report" / "REPORT.md").read_text()
    assert "**Partial run**: never finished" in report
    assert f"{manifest['steps'][-1]['name']} (was running)" in report


# ---- run_child alone: a child that does not listen, and one of its own session ----

# Runs CHILD (argv[1]) through run_child with the signals caught, as `nnbench run` does.
RUNNER = textwrap.dedent("""\
    import os, sys
    from pathlib import Path
    from nnbench.bench.child import Interrupted, interrupt_signals, run_child
    try:
        with interrupt_signals():
            run_child([sys.executable, "-c", sys.argv[1]], dict(os.environ), None, Path.cwd())
    except Interrupted as exc:
        sys.exit(exc.exit_status)
    """)

SLEEPER = "import time; time.sleep(120)"
DEAF = "import signal; signal.signal(signal.SIGINT, signal.SIG_IGN); "

CHILDREN = {
    # A benchmark process: stops its own child (a probe) when interrupted.
    "listening": f"""
import os, sys
from pathlib import Path
from nnbench.bench.child import run_child
run_child([sys.executable, "-c", {SLEEPER!r}], dict(os.environ), None, Path.cwd())
""",
    # Ignores SIGINT, and leaves behind a grandchild of its own session that ignores it too.
    "deaf": f"""
import subprocess, sys
{DEAF}
subprocess.Popen([sys.executable, "-c", {DEAF + SLEEPER!r}], start_new_session=True)
{SLEEPER}
""",
}


@pytest.mark.parametrize("kind", CHILDREN)
def test_run_child_stops_the_childs_whole_tree(kind, tmp_path):
    runner, seen = subprocess.Popen([sys.executable, "-c", RUNNER, CHILDREN[kind]],
                                    cwd=tmp_path), set()
    try:
        deadline = time.monotonic() + 60
        while len(seen) < 2:  # the child and its own child
            seen |= descendants(runner.pid)
            assert time.monotonic() < deadline and runner.poll() is None
            time.sleep(0.02)
        runner.send_signal(signal.SIGTERM)
        wait_for_exit(runner, seen)
        left = still_alive(seen)
    finally:
        stop_leftovers(seen)
        runner.kill()
    assert runner.returncode == 143
    assert not left



def test_a_signal_as_the_child_starts_still_stops_it(monkeypatch, tmp_path):
    """A signal whose exception would leave Popen between fork and return (the child started,
    its Popen never returned): run_child holds it until it knows the child, then stops it."""
    from nnbench.bench import child

    started, popen = [], subprocess.Popen

    def popen_interrupted_on_return(*args, **kwargs):
        process = popen(*args, **kwargs)
        started.append((process.pid, process_table()[process.pid][2]))
        os.kill(os.getpid(), signal.SIGINT)  # its exception comes before the return
        return process

    monkeypatch.setattr(child.subprocess, "Popen", popen_interrupted_on_return)
    try:
        with pytest.raises(child.Interrupted), child.interrupt_signals():
            child.run_child([sys.executable, "-c", SLEEPER], dict(os.environ), None, tmp_path)
        left = still_alive(set(started))
    finally:
        stop_leftovers(set(started))
    assert started and not left


def test_a_signal_while_held_waits_for_the_end_of_the_block():
    """What `nnbench run` and `nnbench report` do while they write the report's files."""
    from nnbench.bench.child import Interrupted, interrupt_signals, signals_held

    written = []
    with pytest.raises(Interrupted), interrupt_signals():
        with signals_held():
            os.kill(os.getpid(), signal.SIGINT)
            written.append("summary.csv")
            written.append("REPORT.md")  # still reached: the signal waits
    assert written == ["summary.csv", "REPORT.md"]
