"""How a benchmark round is sized (bench/measure.py), on a model clock: no timing is taken."""

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from nnbench import networks
from nnbench.bench import measure, threads, workloads


class ModelClock:
    """`run(k)` "takes" overhead + k * per_repeat seconds; `seconds` reports that."""

    def __init__(self, overhead, per_repeat, noise=()):
        self.overhead, self.per_repeat, self.noise = overhead, per_repeat, list(noise)
        self.k = 0

    def run(self, k):
        self.k = k

    def seconds(self, call):
        call()
        return self.overhead + self.k * self.per_repeat + (self.noise.pop(0) if self.noise
                                                           else 0.0)


@pytest.fixture
def clock(monkeypatch):
    def install(*args, **kwargs):
        model = ModelClock(*args, **kwargs)
        monkeypatch.setattr(measure, "seconds", model.seconds)
        return model
    return install


def test_without_overhead_the_round_is_the_target(clock):
    model = clock(0.0, 1e-4)
    assert measure.repeats_for(model.run, 100_000, 0.2) == pytest.approx(2000, rel=0.01)


def test_a_fixed_overhead_does_not_decide_the_count(clock):
    """Octave's XOR: 65 ms per call whatever the epochs, 1 ms per epoch. Dividing the first
    call by its one epoch would give 3 epochs (a time per epoch that is mostly overhead); the
    slope gives the 200 epochs whose work takes the target."""
    model = clock(0.064, 0.001)
    assert measure.repeats_for(model.run, 100_000, 0.2) == pytest.approx(200, rel=0.01)


def test_noise_on_a_short_run_moves_the_count_little(clock):
    """The first run measured 30 ms short (50 ms repeats): the slope is only taken over a
    difference of at least a tenth of the target, so the count stays within 2x of right."""
    model = clock(0.0, 0.05, noise=[-0.03])
    assert 2 <= measure.repeats_for(model.run, 100_000, 0.2) <= 8  # right: 4


def test_never_more_than_most_nor_less_than_one(clock):
    assert measure.repeats_for(clock(0.0, 1e-9).run, 500, 0.2) == 500
    assert measure.repeats_for(clock(0.0, 1.0).run, 500, 0.2) == 1


class RecordingBenchmark:
    """Stands in for pytest-benchmark's fixture: keeps what `pedantic` was asked to do."""

    def __init__(self):
        self.extra_info, self.group, self.asked = {}, None, {}

    def pedantic(self, target, **asked):
        self.asked = asked


@pytest.mark.parametrize(("warm_up_s", "timings", "rounds"), [
    (0.31, 2, 20),  # mostly compiling: timed again, warm (0.01 s), and sized by that
    (1.5, 1, 3),  # over RETIME_BELOW_S: sized by the warm-up, the fewest rounds either way
])
def test_a_warm_up_that_compiled_does_not_size_the_case(monkeypatch, warm_up_s, timings,
                                                        rounds):
    taken = []

    def model_seconds(call):
        call()
        taken.append(warm_up_s if not taken else 0.01)
        return taken[-1]

    monkeypatch.setattr(measure, "seconds", model_seconds)
    preset = networks.get("xor")
    variant = workloads.select_variants(["numpy"])[0]
    impl = variant.create(preset.spec, preset.initial_params(), "float64")
    built = measure.Built(impl, preset.spec, preset.initial_params(), "")
    data = preset.load_data()
    default = workloads.get_mode("default")
    mode = dataclasses.replace(default, timing=dataclasses.replace(default.timing,
                                                                   case_checks=False))
    benchmark = RecordingBenchmark()
    measure.run_train_case(benchmark, variant, "xor", "float64", built, data.X_train,
                           data.Y_train, preset.lr, None, 1, mode)
    assert len(taken) == timings
    assert benchmark.asked["rounds"] == rounds == measure.rounds_for(taken[-1], mode)


def test_every_case_pauses_the_garbage_collector_while_it_is_timed(tmp_path):
    """A real benchmark process (the GEMM step, quick mode): pytest-benchmark records each
    case's options, and the collector was off during its rounds."""
    out = tmp_path / "gemm.json"
    subprocess.run([sys.executable, "-m", "pytest", "bench/test_gemm.py", "-q",
                    "-p", "no:cacheprovider", "--nnbench-mode", "quick",
                    f"--benchmark-json={out}"], check=True, capture_output=True,
                   cwd=Path(__file__).parent.parent)
    cases = json.loads(out.read_text())["benchmarks"]
    assert cases and all(case["options"]["disable_gc"] is True for case in cases)


# ---- the timed rounds wait for OpenBLAS's threads to stop spinning ----


@pytest.mark.parametrize("count, setting, naps", [
    (2, "24", [2 ** 24 / 1e9]),  # the runner's setting: 17 ms
    (2, None, [2 ** 28 / 1e9]),  # OpenBLAS's own default, outside the runner
    (2, "31", [2 ** 30 / 1e9]),  # OpenBLAS takes no more than 30
    (1, "24", []),  # one thread: OpenBLAS has no threads of its own to wait for
])
def test_the_wait_for_the_blas_threads_follows_their_setting(monkeypatch, count, setting, naps):
    monkeypatch.setenv(threads.THREADS_ENV, str(count))
    if setting is None:
        monkeypatch.delenv(threads.BLAS_SPIN_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(threads.BLAS_SPIN_VARIABLE, setting)
    slept = []
    monkeypatch.setattr(threads.time, "sleep", slept.append)
    threads.wait_for_blas_threads()
    assert slept == pytest.approx(naps)


SPIN_PROBE = """
import os
import time
import numpy as np
from nnbench.bench.threads import wait_for_blas_threads
a = np.random.default_rng(0).random((512, 512))
for _ in range(3):
    a @ a  # wakes OpenBLAS's second thread
if {wait}:
    wait_for_blas_threads()
others = [tid for tid in os.listdir("/proc/self/task") if int(tid) != os.getpid()]
runnable = 0
for _ in range(10):  # is a BLAS thread running (or waiting to), rather than asleep?
    for tid in others:
        state = open(f"/proc/self/task/{{tid}}/stat").read().rsplit(")", 1)[1].split()[0]
        runnable += state == "R"
    time.sleep(0.005)
print(runnable / 10)
"""


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")
def test_openblas_threads_stop_spinning_before_the_rounds_start():
    """A real process with two BLAS threads and the runner's environment: after a product, the
    second thread spins for 0.1 s by OpenBLAS's default (always runnable: it would take the
    other core while a case ran); with the runner's setting and the wait, it is asleep."""
    def runnable_share(runner_setting: bool) -> float:
        env = {**os.environ, **threads.thread_environment(2)}
        if not runner_setting:
            del env[threads.BLAS_SPIN_VARIABLE]
        done = subprocess.run([sys.executable, "-c", SPIN_PROBE.format(wait=runner_setting)],
                              env=env, capture_output=True, text=True, check=True,
                              cwd=Path(__file__).parent.parent)
        return float(done.stdout)

    assert runnable_share(runner_setting=False) >= 0.5  # OpenBLAS's default: spinning
    assert runnable_share(runner_setting=True) == 0
