"""The benchmark suite's selection, fixtures and hooks (pytest-benchmark underneath).

    pytest bench/ --benchmark-json=out.json                          everything available
    pytest bench/ --benchmark-json=out.json --nnbench-variant numpy --nnbench-mode quick

`nnbench run` runs the suite once per variant, each in its own process, this way. Selection,
by option or by the environment variable the runner sets:

    --nnbench-variant NAME,...   NNBENCH_VARIANTS   variant or implementation names (all)
    --nnbench-network NAME,...   NNBENCH_NETWORKS   xor, mnist, digits (all)
    --nnbench-dtype NAME,...     NNBENCH_DTYPES     float64, float32 (all)
    --nnbench-mode MODE          NNBENCH_MODE       default or quick
    --nnbench-max-case-seconds S NNBENCH_MAX_CASE_SECONDS  skip a case estimated to take
                                                    longer than S seconds (no limit)
                                 NNBENCH_PROGRESS_FILE  where the current case is written
                                 NNBENCH_DATA_CACHE     where the datasets are kept between
                                                        a run's processes
                                 NNBENCH_SIZING         the first block's JSON, whose sizes a
                                                        later block's process times again
                                 NNBENCH_BLOCK          the block of the run (1)

Fixtures that the cases ask for by name are parametrised here: `variant` with `dtype` (each
dtype the variant's implementation has), `network` (beside `batch`: those of the mode's
`Sweeps.batch_networks` that are selected), and the axes `width`, `batch`,
`memory_variant`, `memory_width`, `cold_variant`, `cold_network`, `gemm_shape`, `gemm_dtype`
(bench/workloads.py says which values each mode uses); `mnist_selected` skips a case that
needs MNIST when MNIST is not selected.

The JSON pytest-benchmark writes gets an `nnbench` section: the mode and selection, what could
not run here and why, the failed cases with their reasons, the cases skipped for the case
limit (`skipped`: each with its estimate and the limit), the cases the variant does not
support (`unsupported`, with its reason), `verify` (`nnbench verify`'s findings for the
variant), `records` (results that are not timings: memory probes, sweep points refused by a
memory budget), the process's own peak
memory, and `machine_check`: the machine's speed when the process started and when it ended
(bench/steadiness.py). When no case was timed at all, this file writes that JSON itself, so
a variant whose every case failed still leaves the reasons behind.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import importlib.util
import json
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path

import nnbench
import numpy as np
import pytest
from nnbench import networks
from nnbench.data import Dataset
from nnbench.errors import NNBenchError

from . import machine, steadiness
from .child import peak_rss_self
from .measure import NotSupported, TooLong, first_block_cold_start_s
from .results import Section
from .workloads import (
    DATA_CACHE_ENV,
    DTYPES,
    SELECTION_ENV,
    Mode,
    Variant,
    choice_from,
    current_block,
)

JSON_FORMAT = 1  # the version of the `nnbench` section


@dataclass
class Selection:
    mode: Mode
    asked: list[Variant]
    networks: list[str]
    dtypes: list[str]
    unavailable: dict[str, str] = field(default_factory=dict)  # variant or network -> why
    records: list[dict] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)  # over the mode's max_case_s
    unsupported: list[dict] = field(default_factory=list)  # cases the variant declines
    verified: list[dict] = field(default_factory=list)  # nnbench verify's findings
    machine_check: dict = field(default_factory=dict)  # "start" and "end": bench/steadiness.py
    available: list[Variant] | None = None  # None until `variants` has checked

    @property
    def variants(self) -> list[Variant]:
        """The asked variants that can run here. Checking imports each one's library, so it
        happens only when a collected case needs variants (never in the GEMM step)."""
        if self.available is None:
            self.available = []
            for variant in self.asked:
                try:
                    nnbench.get_class(variant.impl)
                    self.available.append(variant)
                except NNBenchError as exc:
                    self.unavailable[variant.name] = str(exc)
        return self.available


SELECTION = pytest.StashKey[Selection]()


def pytest_addoption(parser):
    group = parser.getgroup("nnbench", "nnbench benchmark selection")
    group.addoption("--nnbench-variant", help="variants or implementations, comma-separated")
    group.addoption("--nnbench-network", help="networks, comma-separated")
    group.addoption("--nnbench-dtype", help="dtypes, comma-separated")
    group.addoption("--nnbench-mode", help="default or quick")
    group.addoption("--nnbench-max-case-seconds", metavar="S",
                    help="skip a case whose timed rounds are estimated to take longer")


OPTIONS = {"variants": "nnbench_variant", "networks": "nnbench_network",
           "dtypes": "nnbench_dtype", "mode": "nnbench_mode",
           "max_case_s": "nnbench_max_case_seconds"}


def pytest_configure(config):
    def given(key: str) -> str | None:  # an option, else the runner's environment variable
        return config.getoption(OPTIONS[key]) or os.environ.get(SELECTION_ENV[key])

    try:
        choice = choice_from(given)
        selection = Selection(choice.mode, list(choice.variants), list(choice.networks),
                              list(choice.dtypes))
    except NNBenchError as exc:
        raise pytest.UsageError(str(exc)) from None
    if "digits" in selection.networks and importlib.util.find_spec("sklearn") is None:
        selection.networks.remove("digits")
        selection.unavailable["digits"] = "scikit-learn is not installed (nnbench[digits])"
    config.stash[SELECTION] = selection


def pytest_sessionstart(session):
    """The machine's speed before the first case (bench/steadiness.py)."""
    session.config.stash[SELECTION].machine_check["start"] = steadiness.check()


def pytest_collection_modifyitems(items):
    """Every case's rounds run with the cyclic garbage collector waiting (bench/measure.py)."""
    for item in items:
        item.add_marker(pytest.mark.benchmark(disable_gc=True))


def dtypes_of(variant: Variant) -> tuple[str, ...]:
    return nnbench.get_class(variant.impl).dtypes


def pytest_generate_tests(metafunc):
    selection = metafunc.config.stash[SELECTION]
    mode, names = selection.mode, metafunc.fixturenames
    if "variant" in names and "dtype" in names:
        pairs = [(v, d) for v in selection.variants for d in selection.dtypes
                 if d in dtypes_of(v)]
        metafunc.parametrize(("variant", "dtype"), pairs,
                             ids=[f"{v.name}-{d}" for v, d in pairs])
    elif "variant" in names:
        metafunc.parametrize("variant", selection.variants,
                             ids=[v.name for v in selection.variants])
    if "cold_variant" in names:
        chosen = [v for v in selection.variants if mode.cold_start.variants is None
                  or v.name in mode.cold_start.variants]
        if current_block() > 1:  # again only where the first block's start was cheap
            chosen = [v for v in chosen if all(
                (first := first_block_cold_start_s(v.name, network)) is not None
                and first < mode.cold_start.repeat_below_s for network in mode.cold_start.networks)]
        metafunc.parametrize("cold_variant", chosen, ids=[v.name for v in chosen])
    if "memory_variant" in names:
        chosen = [v for v in selection.variants if v.name in mode.memory.variants]
        metafunc.parametrize("memory_variant", chosen, ids=[v.name for v in chosen])
    if "network" in names:  # the batch sweep: the selected networks it runs on
        metafunc.parametrize("network", [n for n in selection.networks if "batch" not in names
                                         or n in mode.sweeps.batch_networks])
    if "cold_network" in names:
        metafunc.parametrize("cold_network", [n for n in mode.cold_start.networks
                                              if n in selection.networks])
    if "width" in names:
        metafunc.parametrize("width", mode.sweeps.widths)
    if "batch" in names:
        metafunc.parametrize("batch", mode.sweeps.batch_sizes)
    if "tta_target" in names:
        targets = mode.time_to_accuracy.targets
        metafunc.parametrize("tta_target", targets,
                             ids=[f"{preset}-{target:.0%}" for preset, target in targets])
    if "memory_width" in names:
        metafunc.parametrize("memory_width", mode.memory.widths)
    if "gemm_dtype" in names:
        metafunc.parametrize("gemm_dtype", DTYPES)
    if "gemm_shape" in names:
        metafunc.parametrize("gemm_shape", mode.scope.gemm_shapes,
                             ids=["x".join(map(str, s)) for s in mode.scope.gemm_shapes])


# ---- fixtures ----


@pytest.fixture(scope="session")
def selection(request) -> Selection:
    return request.config.stash[SELECTION]


@pytest.fixture(scope="session")
def mode(selection) -> Mode:
    return selection.mode


@pytest.fixture(scope="session")
def block() -> int:
    """The block of the run this process belongs to (1 outside a run)."""
    return current_block()


SPLITS = ("X_train", "Y_train", "X_test", "Y_test")


@functools.cache
def load_dataset(network: str) -> Dataset:
    """The preset's data. Under the runner, the first process to load a dataset leaves its
    arrays in the run's scratch directory, and the later ones read them back: loading MNIST
    (decompress, checksum, scale) or importing scikit-learn for the digits takes seconds."""
    cache = os.environ.get(DATA_CACHE_ENV)
    if not cache:
        return networks.get(network).load_data()
    path = Path(cache) / f"{network}.npz"
    if path.is_file():
        with np.load(path) as arrays:
            return Dataset(network, *(arrays[split] for split in SPLITS))
    data = networks.get(network).load_data()
    temporary = path.with_suffix(f".{os.getpid()}.npz")
    np.savez(temporary, **{split: getattr(data, split) for split in SPLITS})
    temporary.replace(path)
    return data


@pytest.fixture(scope="session")
def dataset():
    """`dataset(network)`: the preset's data, loaded once per process."""
    return load_dataset


@pytest.fixture
def mnist_selected(selection):
    """The sweeps, memory probes and loss curves train the MNIST shape: skip them without it."""
    if "mnist" not in selection.networks:
        pytest.skip("this case trains the MNIST shape, and MNIST is not selected")


@pytest.fixture
def record(request, selection):
    """`record(kind=..., **fields)`: keep a result that is not a timing, in the JSON."""
    def add(**fields):
        selection.records.append({"nodeid": request.node.nodeid, **fields})
    return add


@pytest.fixture
def verified(selection):
    """`verified(finding)`: keep one of `nnbench verify`'s findings (bench/verify.py)."""
    return lambda finding: selection.verified.append(dataclasses.asdict(finding))


# ---- the machine info in the JSON ----


def pytest_benchmark_generate_machine_info(config):
    """pytest-benchmark's own fields, without py-cpuinfo's probe of the CPU (a second or more
    per process, and the CPU model is all the report uses of it)."""
    return {"node": platform.node(), "processor": platform.processor(),
            "machine": platform.machine(), "python_implementation":
            platform.python_implementation(), "python_version": platform.python_version(),
            "release": platform.release(), "system": platform.system(),
            "cpu": {"brand_raw": machine.cpu_model(), "count": machine.cores()}}


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info["nnbench"] = machine.describe()


# ---- progress, for the runner's display ----

_progress = {"done": 0, "total": 0}  # one session per process


def pytest_collection_finish(session):
    _progress["total"] = len(session.items)


def pytest_runtest_logstart(nodeid, location):
    """Write "3/24 test_train[numpy-float64-mnist]" where the runner looks for it."""
    path = os.environ.get("NNBENCH_PROGRESS_FILE")
    if not path:
        return
    _progress["done"] += 1
    temporary = Path(f"{path}.tmp")
    temporary.write_text(f"{_progress['done']}/{_progress['total']} {nodeid.split('::')[-1]}")
    temporary.replace(path)


# ---- failures, and the nnbench section of the JSON ----


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    selection = item.config.stash[SELECTION]
    if report.skipped and call.excinfo is not None and isinstance(call.excinfo.value, TooLong):
        skip = call.excinfo.value
        selection.skipped.append({**case_fields(item), "reason": skip.msg,
                                  "estimate_s": skip.estimate_s, "limit_s": skip.limit_s})
    if report.skipped and call.excinfo is not None and isinstance(call.excinfo.value,
                                                                    NotSupported):
        selection.unsupported.append({**case_fields(item),
                                      "reason": call.excinfo.value.reason})
    if not report.failed:
        return
    crash = getattr(report.longrepr, "reprcrash", None)
    reason = crash.message if crash is not None else str(report.longrepr).strip()
    selection.failures.append({
        **case_fields(item), "when": report.when,
        "reason": reason.strip().splitlines()[0] if reason.strip() else "failed",
    })


def case_fields(item) -> dict:
    """A case's node id, test function and parameters (variant, network, dtype, width, ...)."""
    params = getattr(item, "callspec", None)
    params = {key: getattr(value, "name", value)
              for key, value in (params.params.items() if params else [])}
    return {"nodeid": item.nodeid, "test": item.originalname,
            **{key: value for key, value in params.items() if isinstance(value, (str, int))}}


def nnbench_section(config) -> dict:
    selection = config.stash[SELECTION]
    if "end" not in selection.machine_check:  # the machine's speed after the last case
        selection.machine_check["end"] = steadiness.check()
    return {
        Section.FORMAT: JSON_FORMAT,
        Section.MODE: selection.mode.name,
        Section.VARIANTS: [v.name for v in selection.available or []],
        Section.VARIANT_NOTES: {v.name: v.note for v in selection.available or [] if v.note},
        Section.NETWORKS: selection.networks,
        Section.DTYPES: selection.dtypes,
        Section.UNAVAILABLE: selection.unavailable,
        Section.FAILURES: selection.failures,
        Section.SKIPPED: selection.skipped,
        Section.UNSUPPORTED: selection.unsupported,
        Section.VERIFY: selection.verified,
        Section.RECORDS: selection.records,
        Section.PEAK_RSS: peak_rss_self(),
        Section.MACHINE_CHECK: selection.machine_check,
    }


def pytest_benchmark_update_json(config, benchmarks, output_json):
    output_json[Section.NAME] = nnbench_section(config)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    """pytest-benchmark writes no JSON when nothing was timed; write the reasons anyway."""
    target = session.config.getoption("benchmark_json", None)
    # pytest-benchmark up to 5.2 hands over an open file (closed once it wrote the JSON);
    # later versions a path (which exists once it wrote the JSON).
    if target is None or (hasattr(target, "closed") and target.closed):
        return
    if isinstance(target, (str, os.PathLike)):
        if Path(target).exists():
            return
        handle = open(target, "wb")  # noqa: SIM115 - closed by the `with` below
    else:
        handle = target
    config = session.config
    machine_info = config.hook.pytest_benchmark_generate_machine_info(config=config)
    config.hook.pytest_benchmark_update_machine_info(config=config, machine_info=machine_info)
    document = {"machine_info": machine_info, "commit_info": {}, "benchmarks": [],
                "datetime": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                Section.NAME: nnbench_section(config)}
    with handle:
        handle.write(json.dumps(document, indent=4, default=str).encode())
