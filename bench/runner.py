"""`nnbench run`: every variant's benchmark cases, each in its own process, then the report.

A run is a sequence of steps, each one process, in blocks (`--repeats`, the mode's
`Scope.repeats` unless given). Each block runs, in an order drawn from a seeded generator
(`block_order`; the seed and the orders are in the manifest), one step of each of:

- `gemm`: NumPy's matrix-multiply rate, float64 and float32 (bench/test_gemm.py), the
  machine's own limit that the report measures every implementation against (the first
  block's also takes numpy_vec's MNIST step apart, bench/test_breakdown.py);
- every selected variant: `python -m pytest bench/test_*.py --benchmark-json ...` with the
  selection in the environment (bench/conftest.py reads it), so one library's threads,
  caches and memory never affect another's figures.

So every case is measured in as many processes as there are blocks, and a slow minute of the
machine falls on every implementation alike; bench/stats.py turns the processes into
intervals. The first block is also the calibration: it sizes each case (samples, epochs,
calls, rounds), and the later blocks' processes read those sizes from its JSON
(`SIZING_ENV`) and time the same work. The sweeps, loss curves and memory probes run in the
first block only (`ONCE_FILES`); cold start in every block for the variants whose first
start was cheap (`ColdStart.repeat_below_s`). With more than one block a step
is named `<variant>.<block>`. After the blocks, `claims` (when given a budget): `nnbench
claims --json ...`, the seed write-ups' figures re-measured (bench/claims.py), written to the
run directory's `claims.json`, which the report turns into its claims section.

Every step runs with the same thread setting, handed to BLAS, OpenMP, Numba and TensorFlow
through their environment variables, and recorded; with fewer threads than cores, every step
is also held to that many CPUs (`held_cpus`). The runner reads each step's peak
resident memory from `wait4`, kills it after the mode's timeout, and shows which step and
case is running and for how long. A step that crashes, times out, fails cases or disagrees
with numpy is recorded with the reason; the run goes on with the next. With a
`max_case_s` (`--max-case-seconds`), a case whose timed rounds are estimated to take longer is
skipped, and the step's JSON lists it with its estimate (bench/measure.py).

The manifest is rewritten as each step starts ("running") and ends, so a runner killed hard
leaves behind what finished and what was running (and no "finished" time). SIGINT (Ctrl-C)
or SIGTERM stops the run within seconds (bench/child.py): the running step's process and
everything it started are stopped, the step is recorded as "interrupted" (what it measured
is not kept), the manifest gets `"interrupted": "SIGINT"` and its end time, and `run` raises
`RunInterrupted`. The report of the results directory is left as it was; `nnbench report`
on the run directory reports what finished, and says the run is partial.

What a run leaves behind, under `results/` (or `--out DIR`):

    runs/<machine>/<run-id>/manifest.json     command, threads, times, each step's status,
                                              peak memory, cold start and files
    runs/<machine>/<run-id>/raw/<step>.json   pytest-benchmark's JSON, as written
    runs/<machine>/<run-id>/logs/<step>.log   each process's output
    summary.csv, REPORT.md, charts/*.png      the report (bench/report.py), rebuilt from
                                              the raw JSON by `nnbench report`
"""

from __future__ import annotations

import datetime
import math
import os
import secrets
import shlex
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nnbench
from nnbench.errors import InputError, NNBenchError

from . import machine
from .child import Interrupted, interrupt_signals, run_child
from .formatting import bytes_text
from .results import (
    CLAIMS_STEP,
    GEMM_STEP,
    MANIFEST,
    MANIFEST_FORMAT,
    TROUBLE,
    UNFINISHED,
    Info,
    Kind,
    RunDataError,
    Section,
    Status,
    StepKind,
    Verified,
    read_benchmark_json,
    read_manifest,
    save_manifest,
)
from .threads import held_cpus, thread_environment
from .workloads import (
    BLOCK_ENV,
    DATA_CACHE_ENV,
    SELECTION_ENV,
    SIZING_ENV,
    choose,
    environment_of,
)

BENCH_DIR = Path(__file__).resolve().parent
GEMM_FILES = ["test_gemm.py"]
BREAKDOWN_FILES = ["test_breakdown.py"]  # the first GEMM step also takes the MNIST step apart
CASE_FILES = ["test_speed.py", "test_startup.py"]  # every block
TTA_FILES = ["test_time_to_accuracy.py"]  # every block, when the run measures time to accuracy
# the first block: sweeps, loss curves, memory, and `nnbench verify` of the variant
ONCE_FILES = ["test_scaling.py", "test_convergence.py", "test_memory.py", "test_verify.py"]


@dataclass
class RunOptions:
    variants: list[str] | None = None  # variant or implementation names; None: all
    broken: dict[str, str] = field(default_factory=dict)  # plugins that failed to load: why
    networks: list[str] | None = None
    dtypes: list[str] | None = None
    threads: int | None = None  # None: every core this process may use
    quick: bool = False
    out: Path = Path("results")
    timeout_s: float | None = None  # per step; None: the mode's
    max_case_s: float | None = None  # skip a case whose timed rounds would take longer
    claims_budget: float = 0.0  # seconds per claim and implementation; 0: no claims step
    progress: bool = True
    command: str = "nnbench run"
    repeats: int | None = None  # blocks: processes per variant; None: the mode's
    seed: int | None = None  # of the blocks' order; None: drawn, and recorded
    time_to_accuracy: bool | None = None  # train to the accuracy targets; None: the mode's


@dataclass
class Step:
    name: str
    kind: str  # a StepKind
    files: list[str]  # the benchmark files its pytest runs
    group: str = ""  # the variant (or `gemm`) whose process this is; "" for the claims
    block: int = 1
    arguments: list[str] = field(default_factory=list)  # the claims command's options
    timeout_s: float | None = None  # its own time limit, where not the run's per-step one
    cpus: list[int] | None = None  # the CPUs its process is held to (None: all): held_cpus
    status: str = Status.PENDING  # then RUNNING, then how it ended (results.Status)
    reason: str = ""
    returncode: int | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # well above `seconds`: threads at work; below: a busy machine
    load_average: list[float] = field(default_factory=list)  # 1-minute, at start and end
    peak_rss_bytes: int = 0  # the benchmark process's own peak (its JSON says)
    peak_rss_tree_bytes: int = 0  # with the probes it started (wait4; an upper bound)
    json: str = ""  # relative to the run directory
    log: str = ""
    cases: int = 0
    cold_start_s: dict[str, float] = field(default_factory=dict)


# ---- where a run goes ----


def new_run_directory(out: Path, machine_name: str) -> tuple[str, Path]:
    """A fresh `out/runs/<machine>/<run-id>`: the UTC time and a random suffix, created
    exclusively, so two runs started in the same second still get two directories."""
    parent = out / "runs" / machine_name
    parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    while True:
        run_id = f"{stamp}-{secrets.token_hex(2)}"
        try:
            (parent / run_id).mkdir()
            return run_id, parent / run_id
        except FileExistsError:
            continue


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


# ---- one step ----


def step_environment(step: Step, selection: dict[str, str], threads: int, scratch: Path,
                     sizes: Path | None) -> dict[str, str]:
    """A step's environment: the threads, the selection, its block, where the progress and
    the run's datasets are kept (`scratch`), and the first block's JSON to time again."""
    env = {**os.environ, **thread_environment(threads), **selection,
           "NNBENCH_PROGRESS_FILE": str(scratch / "case"), DATA_CACHE_ENV: str(scratch / "data"),
           BLOCK_ENV: str(step.block),
           "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
    if step.kind == StepKind.VARIANT:
        env[SELECTION_ENV["variants"]] = step.group
    if sizes is not None:
        env[SIZING_ENV] = str(sizes)
    return env


def run_step(step: Step, run_dir: Path, env: dict[str, str], timeout_s: float,
             display: Display) -> None:
    """Run one step's process and fill in `step` from its exit and its JSON."""
    raw, logs = run_dir / "raw", run_dir / "logs"
    raw.mkdir(exist_ok=True)
    logs.mkdir(exist_ok=True)
    final = raw / f"{step.name}.json"
    partial = partial_json(run_dir, step)
    log = logs / f"{step.name}.log"
    step.log = str(log.relative_to(run_dir))
    if step.kind == StepKind.CLAIMS:
        command = [sys.executable, "-m", "nnbench.bench.cli", "claims", "--json", str(partial),
                   *step.arguments]
    else:
        command = [sys.executable, "-m", "pytest", *[str(BENCH_DIR / f) for f in step.files],
                   "-q", "-p", "no:cacheprovider", f"--benchmark-json={partial}",
                   "--benchmark-sort=name"]
    log.write_text(f"$ {shlex.join(command)}\n")
    display.start(step.name)
    step.load_average = [os.getloadavg()[0]]
    result = run_child(command, env, log, run_dir, timeout_s,
                       on_tick=lambda elapsed: display.tick(step.name, elapsed), cpus=step.cpus)
    step.returncode, step.seconds = result.returncode, result.seconds
    step.cpu_seconds = result.cpu_seconds
    step.load_average.append(os.getloadavg()[0])
    step.peak_rss_tree_bytes = step.peak_rss_bytes = result.peak_rss_bytes
    if result.timed_out:
        step.status, step.reason = Status.TIMED_OUT, f"killed after {timeout_s:g} s"
        partial.unlink(missing_ok=True)
        return
    if step.kind == StepKind.CLAIMS:
        judge_claims(step, partial, run_dir, log)
        return
    try:
        document = read_benchmark_json(partial)
    except RunDataError:
        step.status, step.reason = Status.CRASHED, crash_reason(result.returncode, log)
        partial.unlink(missing_ok=True)
        return
    partial.replace(final)
    step.json = str(final.relative_to(run_dir))
    judge_step(step, document)


def judge_claims(step: Step, partial: Path, run_dir: Path, log: Path) -> None:
    """The claims step: its findings become the run's claims.json, their verdicts its reason."""
    from . import claims

    try:
        rows = claims.read_json(partial)
    except NNBenchError:
        step.status, step.reason = Status.CRASHED, crash_reason(step.returncode, log)
        partial.unlink(missing_ok=True)
        return
    final = run_dir / claims.RUN_FILE
    partial.replace(final)
    step.json = str(final.relative_to(run_dir))
    step.cases = len(rows)
    step.status = Status.OK if step.returncode == 0 else Status.FAILED
    step.reason = claims.verdict_counts(rows)


def partial_json(run_dir: Path, step: Step) -> Path:
    """Where the step's process writes its JSON; renamed to raw/<step>.json once it is read."""
    return run_dir / "raw" / f".{step.name}.json.partial"


def crash_reason(returncode: int, log: Path) -> str:
    if returncode < 0:
        how = f"killed by {signal.Signals(-returncode).name}"
    else:
        how = f"exit status {returncode}"
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return f"{how}, no results written; last output: {lines[-1][:200] if lines else 'none'}"


def judge_step(step: Step, document: dict) -> None:
    """The step's status from what its JSON says about its cases."""
    section = document.get(Section.NAME, {})
    benchmarks = document.get("benchmarks", [])
    failures = section.get(Section.FAILURES, [])
    step.cases = len(benchmarks)
    step.peak_rss_bytes = section.get(Section.PEAK_RSS, step.peak_rss_bytes)
    for bench in benchmarks:
        info = bench.get("extra_info", {})
        if info.get(Info.KIND) == Kind.COLD_START:
            step.cold_start_s[info.get(Info.NETWORK, "?")] = bench["stats"]["median"]
    mismatches = [b for b in benchmarks if b.get("extra_info", {}).get(Info.VERIFICATION)
                  == Verified.MISMATCH]
    disagreed = [f for f in section.get(Section.VERIFY, [])
                 if f.get("status") in ("mismatch", "failed")]
    unavailable = section.get(Section.UNAVAILABLE, {})
    if step.name in unavailable:
        step.status, step.reason = Status.UNAVAILABLE, unavailable[step.name]
    elif failures and not benchmarks:
        step.status, step.reason = Status.FAILED, f"every case failed: {failures[0]['reason']}"
    elif failures:
        step.status = Status.PARTIAL
        step.reason = f"{len(failures)} case(s) failed, e.g. {failures[0]['reason']}"
    elif mismatches:
        step.status = Status.MISMATCH
        step.reason = (f"{len(mismatches)} case(s) disagree with numpy, e.g. "
                       f"{mismatches[0]['extra_info'].get(Info.VERIFICATION_DETAIL, '')}")
    elif disagreed:
        step.status = Status.MISMATCH
        first = disagreed[0]
        step.reason = (f"nnbench verify: {first['preset']} {first['dtype']}: {first['status']}: "
                       f"{first['problem']}")
    elif step.returncode not in (0, None):
        step.status, step.reason = Status.FAILED, f"pytest exit status {step.returncode}"
    else:
        step.status = Status.OK
    skipped = section.get(Section.SKIPPED, [])
    if skipped:  # not a failure: the limit the run was given
        note = f"{len(skipped)} case(s) skipped, estimated over --max-case-seconds"
        step.reason = f"{step.reason}; {note}" if step.reason else note


# ---- the progress display ----


class Display:
    """One bar over the steps: which step, which of its cases, and for how long so far."""

    def __init__(self, steps: list[Step], progress_file: Path, enabled: bool):
        from tqdm.auto import tqdm

        self.tqdm = tqdm
        self.progress_file = progress_file
        self.started = time.perf_counter()
        # On a terminal the bar redraws in place; in a log (CI) only the finished lines show.
        self.bar = tqdm(total=len(steps), unit="step", dynamic_ncols=True, leave=False,
                        disable=None if enabled else True,
                        bar_format="{n_fmt}/{total_fmt} done | {desc}{postfix}")

    def start(self, name: str) -> None:
        self.progress_file.unlink(missing_ok=True)
        self.bar.set_description_str(name, refresh=False)
        self.tick(name, 0.0)

    def tick(self, name: str, elapsed: float) -> None:
        try:
            case = f"case {self.progress_file.read_text().strip()}"
        except OSError:
            case = "starting"
        total = time.perf_counter() - self.started
        self.bar.set_postfix_str(f"{case}, {elapsed:.0f} s (whole run {total:.0f} s)")

    def finish(self, step: Step) -> None:
        memory = bytes_text(step.peak_rss_bytes)
        line = (f"{step.name:<16} {step.status:<11} {step.cases:>3} cases  "
                f"{step.seconds:6.1f} s (CPU {step.cpu_seconds:6.1f} s)  peak RSS {memory:>9}")
        self.tqdm.write(line + (f"  {step.reason}" if step.reason else ""), file=sys.stderr)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


# ---- the whole run ----


def run(options: RunOptions) -> Path:
    """Run the benchmark as `options` say; return the run directory (the report is written)."""
    choice = choose(options.variants, options.networks, options.dtypes,
                    "quick" if options.quick else "default", options.max_case_s)
    mode, variants = choice.mode, choice.variants
    threads = machine.cores() if options.threads is None else options.threads
    if threads < 1:
        raise InputError(f"--threads must be at least 1, got {threads}")
    timeout_s = mode.timing.timeout_s if options.timeout_s is None else options.timeout_s
    if not (math.isfinite(timeout_s) and timeout_s > 0):  # NaN would never time out
        raise InputError(f"--timeout must be a finite number of seconds > 0, got {timeout_s}")
    repeats = mode.scope.repeats if options.repeats is None else options.repeats
    if not isinstance(repeats, int) or repeats < 1:
        raise InputError(f"--repeats must be a whole number of at least 1, got {repeats}")
    seed = secrets.randbits(32) if options.seed is None else options.seed
    machine_name = machine.machine_slug()
    run_id, run_dir = new_run_directory(Path(options.out).resolve(), machine_name)

    orders = block_order([GEMM_STEP, *(v.name for v in variants)], repeats, seed)
    time_to_accuracy = (mode.scope.time_to_accuracy if options.time_to_accuracy is None
                        else options.time_to_accuracy)
    steps = planned_steps(orders, time_to_accuracy)
    steps += [Step(text, StepKind.VARIANT, [], group=text, status=Status.FAILED,
                   reason=f"could not be loaded: {reason}")
              for text, reason in options.broken.items()]
    if options.claims_budget > 0:
        steps.append(claims_step(options.claims_budget, [v.impl for v in variants]
                                 if options.variants else None))
    cpus = held_cpus(threads)
    for step in steps:
        step.cpus = cpus
    selection = environment_of(choice)
    manifest = {
        "nnbench_run": MANIFEST_FORMAT, "run_id": run_id, "machine": machine_name,
        "cpu_model": machine.cpu_model(), "cores": machine.cores(),
        "command": options.command, "mode": mode.name, "timeout_s": timeout_s,
        "max_case_s": mode.timing.max_case_s,
        "threads": {"setting": threads, "cpus": cpus,
                    "environment": thread_environment(threads)},
        "selection": {"variants": [v.name for v in variants],
                      "networks": list(choice.networks), "dtypes": list(choice.dtypes)},
        "blocks": {"repeats": repeats, "seed": seed, "orders": orders},
        "time_to_accuracy": time_to_accuracy,
        "started": now(), "finished": None, "seconds": None,
        "planned_steps": [step.name for step in steps], "steps": [],
    }
    save_manifest(run_dir, manifest, steps)

    started = time.perf_counter()
    with interrupt_signals():  # SIGINT, SIGTERM: Interrupted, caught in run_steps
        interrupted = run_steps(steps, run_dir, manifest, selection, threads, timeout_s,
                                options.progress)
        manifest.update(finished=now(), seconds=time.perf_counter() - started)
        if interrupted is not None:
            manifest["interrupted"] = interrupted.signal_name
        save_manifest(run_dir, manifest, steps)
    if interrupted is not None:
        raise RunInterrupted(interrupted.signum, run_dir, steps)
    return run_dir


def block_order(names: list[str], repeats: int, seed: int) -> list[list[str]]:
    """`repeats` blocks, each holding every name once, in an order drawn from `seed`: the same
    seed gives the same orders."""
    import numpy as np

    generator = np.random.default_rng(seed)
    return [[names[i] for i in generator.permutation(len(names))] for _ in range(repeats)]


def planned_steps(orders: list[list[str]], time_to_accuracy: bool = False) -> list[Step]:
    """The steps of the blocks, in their order: a GEMM step or a variant's, named after the
    block when there is more than one; a variant's trains to the accuracy targets too when
    `time_to_accuracy`."""
    steps = []
    for block, order in enumerate(orders, start=1):
        for group in order:
            name = group if len(orders) == 1 else f"{group}.{block}"
            gemm = group == GEMM_STEP
            files, once = (GEMM_FILES, BREAKDOWN_FILES) if gemm else (
                CASE_FILES + (TTA_FILES if time_to_accuracy else []), ONCE_FILES)
            steps.append(Step(name, StepKind.GEMM if gemm else StepKind.VARIANT,
                              files + (once if block == 1 else []), group=group, block=block))
    return steps


def claims_step(budget: float, implementations: list[str] | None) -> Step:
    """The step that checks the seed write-ups' claims: `nnbench claims` with a time budget
    per claim and implementation (a small one, 3 s or less, is `--quick`: only the cheap
    claims run in full), on the run's implementations (None: every one available)."""
    from .claims import CLAIMS

    arguments = ["--budget", f"{budget:g}", *(["--quick"] if budget <= 3 else [])]
    if implementations:
        arguments += ["--impl", *dict.fromkeys(implementations)]
    # Its limit: the budget for every claim and implementation, and the time the cheap
    # claims take besides (about a minute here).
    most = len(CLAIMS) * len(implementations or nnbench.REGISTRY)
    return Step(CLAIMS_STEP, StepKind.CLAIMS, [], arguments=arguments,
                timeout_s=300 + budget * most)


def run_steps(steps: list[Step], run_dir: Path, manifest: dict, selection: dict[str, str],
              threads: int, timeout_s: float, progress: bool) -> Interrupted | None:
    """Run the steps in order; on SIGINT or SIGTERM, stop and return the `Interrupted`.

    run_child has stopped the step's process by the time the exception arrives here; the
    step is recorded as interrupted, and what its process wrote is removed: a step's JSON is
    kept only when the step ran to its end.
    """
    with tempfile.TemporaryDirectory(prefix="nnbench-run-") as scratch:
        scratch = Path(scratch)
        (scratch / "data").mkdir()  # the datasets, loaded once (bench/conftest.py)
        display = Display(steps, scratch / "case", progress)
        try:
            for step in steps:
                if step.status != Status.PENDING:  # decided before the run (a broken plugin)
                    continue
                step_started = time.perf_counter()
                step.status = Status.RUNNING
                save_manifest(run_dir, manifest, steps)  # a runner killed hard leaves this
                env = step_environment(step, selection, threads, scratch,
                                       first_block_json(steps, step, run_dir))
                run_step(step, run_dir, env, step.timeout_s or timeout_s, display)
                display.finish(step)
                save_manifest(run_dir, manifest, steps)
        except Interrupted as exc:
            if step.status == Status.RUNNING:  # else the signal came between two steps
                step.status = Status.INTERRUPTED
                step.reason = f"stopped by {exc.signal_name}; what it measured is not kept"
                step.seconds = time.perf_counter() - step_started
                partial_json(run_dir, step).unlink(missing_ok=True)
                display.finish(step)
            return exc
        finally:
            display.close()
    return None


def first_block_json(steps: list[Step], step: Step, run_dir: Path) -> Path | None:
    """The JSON of the first block's step of the same variant, whose sizes a later block's
    step times again (None for the first block, or when that step left no JSON)."""
    if step.kind != StepKind.VARIANT or step.block == 1:
        return None
    first = next((s for s in steps if s.group == step.group and s.block == 1), None)
    return run_dir / first.json if first is not None and first.json else None


class RunInterrupted(Interrupted):
    """`run` stopped by a signal; the message says what finished and where it was kept."""

    def __init__(self, signum: int, run_dir: Path, steps: list[Step]):
        done = [step.name for step in steps if step.status not in UNFINISHED]
        stopped = [step.name for step in steps if step.status == Status.INTERRUPTED]
        not_run = [step.name for step in steps if step.status == Status.PENDING]
        parts = [f"done: {', '.join(done) or 'none'}"]
        parts += [f"stopped: {', '.join(stopped)}"] if stopped else []
        parts += [f"not run: {', '.join(not_run)}"] if not_run else []
        name = signal.Signals(signum).name
        super().__init__(signum, f"interrupted by {name} after {len(done)} of {len(steps)} "
                                 f"steps ({'; '.join(parts)}); what finished is kept in "
                                 f"{run_dir} (`nnbench report {run_dir}` reports on it)")
        self.run_dir = run_dir


def troubled_steps(run_dir: Path) -> list[dict]:
    """Steps of a finished run that did not end well (unavailable ones are not trouble)."""
    return [s for s in read_manifest(run_dir / MANIFEST)["steps"] if s["status"] in TROUBLE]
