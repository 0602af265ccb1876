"""The results format: every JSON file the suite writes and reads, and the names inside them.

A run directory holds `manifest.json` (the runner's record of the run and of each step) and
`raw/<step>.json` (pytest-benchmark's JSON of one step's process, with nnbench's own section
and each case's `extra_info`). The names here are the contract between the writers
(bench/runner.py, bench/measure.py, bench/conftest.py) and the readers (the report, compare,
CI's check). Reading a run needs no pandas and no matplotlib, so that the runner can judge a
step without them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nnbench.errors import DataError

from .files import write_json

# ---- the manifest ----

MANIFEST = "manifest.json"  # in every run directory
MANIFEST_FORMAT = 1  # the manifest's "nnbench_run"


# The steps that are not a variant's, by name.
GEMM_STEP, GEMM_AFTER_STEP, CLAIMS_STEP = "gemm", "gemm-after", "claims"


class StepKind:
    """A step's `kind`: NumPy's GEMM rate, one variant's benchmark cases, or the claims."""

    GEMM = "gemm"
    VARIANT = "variant"
    CLAIMS = "claims"


class Status:
    """A step's `status`: pending until it starts, running while it runs, then another."""

    PENDING = "pending"
    RUNNING = "running"
    OK = "ok"
    PARTIAL = "partial"  # some cases failed
    FAILED = "failed"  # every case failed, or the process's exit status says so
    MISMATCH = "mismatch"  # a case disagrees with numpy
    UNAVAILABLE = "unavailable"  # its implementation cannot run here (not trouble)
    CRASHED = "crashed"  # no results written
    TIMED_OUT = "timed out"
    INTERRUPTED = "interrupted"  # stopped by SIGINT or SIGTERM; what it measured is not kept
    RAN = "ran"  # a lone JSON file's variant: there is no manifest to say more


# Not run to its end: its results, if any, are not in the run.
UNFINISHED = (Status.PENDING, Status.RUNNING, Status.INTERRUPTED)
# Ended, but not well.
TROUBLE = (Status.FAILED, Status.PARTIAL, Status.MISMATCH, Status.CRASHED, Status.TIMED_OUT)


# ---- a benchmark JSON ----


class Section:
    """The keys of a benchmark JSON's nnbench section (bench/conftest.py writes it)."""

    NAME = "nnbench"  # the section's own key
    FORMAT = "format"  # the section's version (bench/conftest.py's JSON_FORMAT)
    MODE = "mode"
    VARIANTS = "variants"
    VARIANT_NOTES = "variant_notes"
    NETWORKS = "networks"
    DTYPES = "dtypes"
    UNAVAILABLE = "unavailable"  # variant or network -> why it could not run
    FAILURES = "failures"  # the failed cases, each with its reason
    SKIPPED = "skipped"  # the cases over --max-case-seconds, each with its estimate
    UNSUPPORTED = "unsupported"  # cases the variant declares it cannot compute, with why
    VERIFY = "verify"  # `nnbench verify`'s findings for the variant (bench/verify.py)
    RECORDS = "records"  # results that are not timings (memory probes, refused points)
    PEAK_RSS = "peak_rss_self_bytes"
    MACHINE_CHECK = "machine_check"  # "start" and "end": bench/steadiness.py


class Info:
    """The keys of a case's `extra_info` (bench/measure.py, bench/test_*.py write them)."""

    KIND = "kind"  # a Kind
    OP = "op"  # Kind.PREDICT or Kind.TRAIN: the operation timed
    VARIANT = "variant"
    IMPL = "impl"
    VARIANT_NOTE = "variant_note"  # the variant's setting, in words
    NETWORK = "network"
    DTYPE = "dtype"
    SIZES = "sizes"  # the layer sizes it ran at
    THREADS = "threads"
    DEVICE = "device"
    REFUSED = "refused"  # why the requested shape was not built ("" when it was)
    SAMPLES = "samples"  # in one round
    FULL_SAMPLES = "full_samples"  # in the workload
    SAMPLED = "sampled"  # SAMPLES < FULL_SAMPLES
    BATCH_SIZE = "batch_size"
    EPOCHS = "epochs"  # in one round
    MAX_EPOCHS = "max_epochs"
    ITERATIONS = "iterations"  # calls in one round
    FLOPS = "flops"  # of one round
    WARM_UP_S = "warm_up_s"
    ESTIMATE_S = "estimate_s"  # what the timed rounds were expected to take
    VERIFICATION = "verification"  # a Verified
    MAX_ERROR = "max_error"
    TOLERANCE = "tolerance"
    VERIFICATION_DETAIL = "verification_detail"
    MACHINE_CHECK = "machine_check"  # the machine checks made around the case
    PHASE_KIND = "phase_kind"  # a Phase


class Kind:
    """A case's kind (`Info.KIND`); MEMORY is a record's, not a timed case's."""

    PREDICT = "predict"
    TRAIN = "train"
    WIDTH = "width"  # training, swept over the hidden width
    BATCH = "batch"  # training, swept over the batch size
    GEMM = "gemm"  # NumPy's matrix product
    PHASE = "phase"  # one phase of numpy_vec's training step (bench/test_breakdown.py)
    COLD_START = "cold_start"
    TIME_TO_ACCURACY = "time_to_accuracy"  # a fresh process trained to a test accuracy
    LOSS_CURVE = "loss_curve"
    MEMORY = "memory"


OPS = (Kind.PREDICT, Kind.TRAIN)
PER_SAMPLE_KINDS = (Kind.PREDICT, Kind.TRAIN, Kind.WIDTH, Kind.BATCH)  # timed per sample


class Phase:
    """A step phase's `Info.PHASE_KIND`: the whole training step, or a part of it."""

    STEP = "step"
    PRODUCT = "product"
    ELEMENTWISE = "elementwise"
    UPDATE = "update"


class Verified:
    """A case's verification against numpy_vec (`Info.VERIFICATION`)."""

    OK = "ok"
    MISMATCH = "mismatch"
    REFERENCE = "reference"  # numpy_vec itself


RANKABLE = (Verified.OK, Verified.REFERENCE)


class RunDataError(DataError):
    """A run directory or benchmark JSON that is missing, empty, truncated or not nnbench's."""


# ---- reading ----


def read_json_file(path: Path, what: str) -> dict:
    """The JSON object in `path`; `what` names the file in the error when it is not one."""
    path = Path(path)
    if not path.is_file():
        raise RunDataError(f"{what} {str(path)!r} does not exist")
    text = path.read_text(encoding="utf-8", errors="replace")
    if not text.strip():
        raise RunDataError(f"{what} {str(path)!r} is empty")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RunDataError(f"{what} {str(path)!r} is not valid JSON (truncated or corrupted?): "
                           f"{exc.msg} at line {exc.lineno}") from None
    if not isinstance(document, dict):
        raise RunDataError(f"{what} {str(path)!r} holds a JSON {type(document).__name__}, "
                           f"not an object")
    return document


def read_benchmark_json(path: Path) -> dict:
    """A raw JSON written by the benchmark suite (pytest-benchmark's, with nnbench's section),
    without the benchmarks that carry none of nnbench's fields."""
    document = read_json_file(path, "benchmark JSON")
    if not isinstance(document.get("benchmarks"), list):
        raise RunDataError(f"{str(path)!r} is not a pytest-benchmark JSON: it has no "
                           f"'benchmarks' list")
    if not isinstance(document.get(Section.NAME), dict):
        raise RunDataError(f"{str(path)!r} is a pytest-benchmark JSON but not nnbench's: it has "
                           f"no '{Section.NAME}' section (was it written by `pytest bench/`?)")
    for bench in document["benchmarks"]:
        if not (isinstance(bench, dict) and isinstance(bench.get("stats"), dict)
                and "median" in bench["stats"] and isinstance(bench.get("extra_info"), dict)):
            raise RunDataError(f"{str(path)!r} has a benchmark without pytest-benchmark's "
                               f"fields (stats.median, extra_info): {str(bench)[:80]}")
    # A case that failed after its timing leaves stats without nnbench's fields; its failure
    # is in the nnbench section, and its timing is not a result.
    document["benchmarks"] = [b for b in document["benchmarks"] if Info.KIND in b["extra_info"]]
    return document


def read_manifest(path: Path) -> dict:
    manifest = read_json_file(path, "run manifest")
    if "nnbench_run" not in manifest or not isinstance(manifest.get("steps"), list):
        raise RunDataError(f"{str(path)!r} is not an nnbench run manifest")
    return manifest


@dataclass
class Run:
    source: Path  # the run directory, or the one JSON file
    manifest: dict = field(default_factory=dict)  # empty for a lone JSON file
    documents: dict[str, dict] = field(default_factory=dict)  # step name -> raw JSON

    @property
    def name(self) -> str:
        return self.manifest.get("run_id") or self.source.stem

    @property
    def machine_info(self) -> dict:
        for document in self.documents.values():
            if document.get("machine_info"):
                return document["machine_info"]
        return {}

    @property
    def mode(self) -> str:
        """The run's mode (default, quick), from its manifest or else its first JSON."""
        return self.manifest.get("mode") or next(iter(self.documents.values()))[Section.NAME].get(
            Section.MODE, "")


def load_run(path) -> Run:
    """A run directory (or its manifest), or one raw benchmark JSON file."""
    path = Path(path)
    if not path.exists():
        raise RunDataError(f"{str(path)!r} does not exist; expected a run directory "
                           f"(results/runs/<machine>/<run-id>) or a benchmark JSON file")
    if path.is_file() and path.name != MANIFEST:
        return Run(path, {}, {path.stem: read_benchmark_json(path)})
    directory = path.parent if path.is_file() else path
    if not (directory / MANIFEST).is_file():
        raise RunDataError(f"{str(directory)!r} is not a run directory: it has no {MANIFEST}")
    manifest = read_manifest(directory / MANIFEST)
    run = Run(directory, manifest)
    for step in manifest["steps"]:
        if step.get("json") and step.get("kind") != StepKind.CLAIMS:  # claims.json: its own section
            run.documents[step["name"]] = read_benchmark_json(directory / step["json"])
    if not run.documents:
        raise RunDataError(f"run {str(directory)!r} has no benchmark results: every step "
                           f"failed or none has finished (see its {MANIFEST})")
    return run


def latest_run(root: Path) -> Path:
    """The most recently started run under `root/runs/`."""
    manifests = sorted(Path(root).glob(f"runs/*/*/{MANIFEST}"),
                       key=lambda p: (read_json_file(p, "run manifest").get("started") or "",
                                      p.parent.name))
    if not manifests:
        raise RunDataError(f"no runs under {str(Path(root) / 'runs')!r}; run `nnbench run` "
                           f"first, or name a run directory or benchmark JSON")
    return manifests[-1].parent


def default_output(run: Run) -> Path:
    """Where a report goes unless told: the results directory holding the run
    (`<root>/runs/<machine>/<run-id>` -> `<root>`), else beside the run."""
    directory = run.source if run.source.is_dir() else run.source.parent
    if directory.parent.parent.name == "runs":
        return directory.parent.parent.parent
    return directory


# ---- writing ----


def save_manifest(run_dir: Path, manifest: dict, steps: list) -> None:
    """Write the manifest with every step (a dataclass: bench/runner.py's Step) begun so far,
    and not the steps still to come."""
    manifest["steps"] = [asdict(step) for step in steps if step.status != Status.PENDING]
    write_json(run_dir / MANIFEST, manifest)
