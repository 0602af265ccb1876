"""What the benchmark measures: the variants, the networks and their workloads, the two modes.

Everything that decides *what* is timed lives here, once, and is read by the benchmark cases
(bench/test_*.py), the cold-start probe, the runner and the report:

- a **variant** is an implementation with constructor options. Every registered
  implementation is a variant of its own name with its defaults; `EXTRA_VARIANTS` adds
  settings worth measuring beside the default (Keras with XLA and many steps per execution:
  its fastest honest setting, so nobody can say it was handicapped);
- a **workload** says, per network, how much one `predict` and one training round handle;
- a **mode** (`default` or `quick`) says what is timed and how long each measurement may
  take, in named parts (`Timing`, `Sweeps`, `ColdStart`, `Memory`, `Scope`); a run may add a
  limit of its own on one case (`--max-case-seconds`, `Timing.max_case_s`): a case whose
  timed rounds are estimated to take longer is skipped (bench/measure.py).

The slow paradigms (those that declare `per_sample`: pure Python, the explicit Jacobian)
process one sample at a time, so their time per sample does not depend on how many samples
they get: they are timed on a subset sized to take about `Timing.subset_s` per round, and
their per-sample figure is what is compared. Everybody else runs the full workload, unless
one epoch of it would take longer than `Timing.full_s` (a slow implementation, or a busy
machine): then whole batches up to that.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass

import nnbench
from nnbench import networks
from nnbench.errors import InputError, UnknownNameError

# ---- variants: an implementation and the options it is built with ----


@dataclass(frozen=True)
class Variant:
    name: str  # what the tables call it
    impl: str  # the registered implementation
    options: tuple[tuple[str, object], ...] = ()  # constructor keyword arguments
    note: str = ""

    @property
    def kwargs(self) -> dict:
        return dict(self.options)

    def create(self, spec, params, dtype: str):
        return nnbench.create(self.impl, spec, params, dtype=dtype, **self.kwargs)


# Settings measured beside an implementation's default. Keras's default `fit` dispatches one
# step at a time through a traced graph; XLA compilation and many steps per dispatch are what
# a Keras user would switch on to make it fast, and they compute the same thing (the
# verification checks that).
EXTRA_VARIANTS = (
    Variant("keras-fast", "keras", (("jit_compile", True), ("steps_per_execution", 64)),
            "XLA jit_compile=True, steps_per_execution=64"),
)


def all_variants() -> list[Variant]:
    """Every variant of every registered implementation, available here or not."""
    variants = []
    for name in nnbench.names():
        variants.append(Variant(name, name))
        variants.extend(extra for extra in EXTRA_VARIANTS if extra.impl == name)
    return variants


def select_variants(asked: list[str] | None = None) -> list[Variant]:
    """The variants named in `asked` (an implementation's name is its default variant's), or
    all of them; availability is not checked here."""
    variants = all_variants()
    if not asked:
        return variants
    known = [v.name for v in variants]
    for name in asked:
        if name not in known:
            raise UnknownNameError("implementation", name, known)
    return [v for v in variants if v.name in asked]


def get_variant(name: str) -> Variant:
    for variant in all_variants():
        if variant.name == name:
            return variant
    raise UnknownNameError("implementation", name, [v.name for v in all_variants()])


def is_sampled(impl: str) -> bool:
    """Whether an implementation walks a batch one sample at a time (`per_sample`), and so is
    timed on a subset."""
    return nnbench.get_class(impl).per_sample

# ---- networks and what one call of each operation handles ----

NETWORKS = ("xor", "mnist", "digits")
DTYPES = ("float64", "float32")
# Learning rate of the timed training (the presets' own; the MNIST preset's 0.1 is stable at
# batch 128 too). Scaling sweeps and the loss curves train the MNIST shape.
SWEEP_NETWORK = "mnist"


@dataclass(frozen=True)
class Workload:
    network: str  # preset name
    predict_rows: int  # test rows one predict call handles (at most the test set)
    train_samples: int  # training samples of one epoch (at most the training set)
    batch_size: int | None  # mini-batch size; None: the whole batch at once
    max_epochs: int  # a training round repeats epochs up to this (the preset's full run)

    @property
    def preset(self) -> networks.Preset:
        return networks.get(self.network)


@dataclass(frozen=True)
class LossCurve:
    """A short MNIST run, from the same weights, whose loss per epoch every variant reports."""

    samples: int
    epochs: int
    hidden: int
    batch_size: int


@dataclass(frozen=True)
class Timing:
    """How long each measurement may take."""

    round_s: float  # short rounds repeat epochs (train) or calls (predict) up to about this
    subset_s: float  # a sampled paradigm's round is sized to take about this
    full_s: float  # anybody else's epoch is cut to whole batches taking this, if it is longer
    case_s: float  # seconds of timed rounds per case: rounds = case_s / one round
    min_rounds: int
    max_rounds: int
    timeout_s: float  # per implementation process
    case_checks: bool  # a machine check before and after each case timed by measure.timed
    # (in a run's first block: the later blocks' processes check at their start and end only)
    max_case_s: float | None = None  # skip a case estimated to take longer (None: no limit)


@dataclass(frozen=True)
class Sweeps:
    """The scaling sweeps: hidden width (the MNIST shape), and batch size (the networks of
    `batch_networks`; bench/fixed_cost.py fits the fixed cost of a call to it)."""

    samples: int  # samples a sweep point trains on (MNIST's; the batch sweep's other
    # networks tile their training rows to as many)
    batch: int  # the batch size of the width sweep
    width: int  # the hidden width of the batch sweep's MNIST (one the Jacobian can afford)
    widths: tuple[int, ...]
    batch_sizes: tuple[int, ...]
    batch_networks: tuple[str, ...]  # what the batch sweep trains (XOR and digits: the presets)


@dataclass(frozen=True)
class ColdStart:
    """Fresh processes timed from import to the first step."""

    networks: tuple[str, ...]
    variants: tuple[str, ...] | None  # None: every variant
    rounds: int
    # A later block starts a variant again only if its first block's start took less: a
    # Numba compile or a TensorFlow start costs seconds in every block.
    repeat_below_s: float = 2.0


@dataclass(frozen=True)
class TimeToAccuracy:
    """Fresh processes trained until the test accuracy reaches a target (bench/tta.py)."""

    targets: tuple[tuple[str, float], ...]  # (preset, test accuracy)
    dtype: str
    limit_s: float  # a variant whose preset epochs would take longer stops after its first
    train: int | None = None  # training samples (None: the whole set)
    test: int | None = None  # test samples evaluated after each epoch (None: the whole set)
    hidden: int | None = None  # the hidden width (None: the preset's)
    estimated: tuple[str, ...] = ()  # variants estimated from their time per sample instead


@dataclass(frozen=True)
class Memory:
    """Peak-memory probes: one training step in a fresh process, at growing hidden widths."""

    widths: tuple[int, ...]
    batch: int  # samples of the one training step a probe takes
    variants: tuple[str, ...]


@dataclass(frozen=True)
class Scope:
    """What else a run covers by default."""

    dtypes: tuple[str, ...]  # the dtypes run unless asked for others
    extra_variants: bool  # EXTRA_VARIANTS too, unless variants are named
    repeats: int  # blocks: processes per variant (bench/runner.py)
    verify_epochs: int = 100  # of each preset's schedule, for the drift (bench/test_verify.py)
    time_to_accuracy: bool = False  # train to the accuracy targets unless asked not to
    gemm_shapes: tuple[tuple[int, int, int], ...] = ((128, 784, 512), (1024, 1024, 1024))


@dataclass(frozen=True)
class Mode:
    """One way to run the suite (`default` or `quick`): what is timed and for how long."""

    name: str
    workloads: dict[str, Workload]
    timing: Timing
    sweeps: Sweeps
    loss_curve: LossCurve
    cold_start: ColdStart
    time_to_accuracy: TimeToAccuracy
    memory: Memory
    scope: Scope

    def limited(self, max_case_s: float | None) -> Mode:
        """This mode with a limit on one case's timed rounds."""
        return dataclasses.replace(self, timing=dataclasses.replace(self.timing,
                                                                    max_case_s=max_case_s))


def _workloads(mnist_train: int, mnist_predict: int) -> dict[str, Workload]:
    xor, digits = networks.get("xor"), networks.get("digits")
    return {
        # XOR: the 4 rows, one full-batch step per epoch, up to the preset's 100,000 epochs.
        "xor": Workload("xor", 4, 4, None, xor.epochs),
        # MNIST: 1,000 test images; mini-batch SGD at batch 128 over the first
        # `mnist_train` training images, one pass per round.
        "mnist": Workload("mnist", mnist_predict, mnist_train, 128, 1),
        # Digits: the 719 test images; full-batch steps on the 1,078 training images.
        "digits": Workload("digits", 719, 1078, None, digits.epochs),
    }


MODES = {
    "default": Mode(
        # 100 batches of MNIST's training set per round: every case runs in three processes
        # (Scope.repeats), and the run still takes minutes.
        "default", _workloads(mnist_train=12_800, mnist_predict=1000),
        Timing(round_s=0.1, subset_s=0.3, full_s=4.0, case_s=0.3, min_rounds=3, max_rounds=20,
               timeout_s=480, case_checks=True),
        # Five batch sizes on each network: the fit of the fixed cost of a call needs three,
        # and rests on n - 2 degrees of freedom; batch 4 is XOR's own workload.
        Sweeps(samples=1024, batch=128, width=128, widths=(16, 64, 256, 1024),
               batch_sizes=(1, 4, 8, 64, 512), batch_networks=("mnist", "xor", "digits")),
        LossCurve(samples=256, epochs=8, hidden=16, batch_size=32),
        # One start per implementation, on the network the suite is about: a Numba compile
        # or a TensorFlow start costs seconds, and its spread is not what is asked.
        ColdStart(networks=("mnist",), variants=None, rounds=1),
        # The whole of MNIST, float32 (the frameworks' default), to the two targets users of
        # this network quote.
        TimeToAccuracy(targets=(("mnist", 0.97), ("mnist-best", 0.98)), dtype="float32",
                       limit_s=120.0, estimated=("octave",)),
        # The Jacobian beside the implementations that start in a second: a framework's
        # memory is mostly the framework (its cold start shows it, at the MNIST shape).
        Memory(widths=(16, 64, 256, 1024), batch=8,
               variants=("python", "numpy", "numba", "jacobian")),
        Scope(dtypes=DTYPES, extra_variants=True, repeats=3),
    ),
    "quick": Mode(
        "quick", _workloads(mnist_train=1024, mnist_predict=256),
        # The machine check is made at each process's start and end only (bench/steadiness.py).
        Timing(round_s=0.02, subset_s=0.08, full_s=1.0, case_s=0.06, min_rounds=2,
               max_rounds=10, timeout_s=60, case_checks=False),
        # Three batch sizes, the fewest a fit of the fixed cost takes, on the cheap networks.
        Sweeps(samples=256, batch=128, width=64, widths=(16, 256), batch_sizes=(1, 8, 64),
               batch_networks=("mnist", "xor")),
        LossCurve(samples=64, epochs=3, hidden=16, batch_size=32),
        # A fresh TensorFlow or a Numba compile costs seconds: the smoke test starts only the
        # light implementations (the code path is the same).
        ColdStart(networks=("xor",), variants=("python", "numpy"), rounds=1),
        # The same path on a slice of MNIST and a narrow network, to a lower target.
        TimeToAccuracy(targets=(("mnist", 0.85),), dtype="float32", limit_s=20.0,
                       train=2000, test=1000, hidden=64),
        Memory(widths=(16, 64), batch=4, variants=("numpy", "jacobian")),
        # The smoke test covers every implementation and network once: float32 and the
        # extra settings of an implementation would only double its time; the GEMM rate is
        # taken at the MNIST layer's shape alone.
        Scope(dtypes=("float64",), extra_variants=False, repeats=1, verify_epochs=10,
              time_to_accuracy=True,
              gemm_shapes=((128, 784, 512),)),
    ),
}


def get_mode(name: str) -> Mode:
    if name not in MODES:
        raise UnknownNameError("mode", name, MODES)
    return MODES[name]


MAX_CASE_ENV = "NNBENCH_MAX_CASE_SECONDS"  # how the runner hands --max-case-seconds on
SIZING_ENV = "NNBENCH_SIZING"  # a later block's process: the first block's JSON of its variant
DATA_CACHE_ENV = "NNBENCH_DATA_CACHE"  # where a run's processes share the loaded datasets
BLOCK_ENV = "NNBENCH_BLOCK"  # the block of the run a benchmark process belongs to


def current_block() -> int:
    """The block of the run this process belongs to (1 outside a run)."""
    value = os.environ.get(BLOCK_ENV, "1")
    return int(value) if value.isdigit() else 1


def check_max_case_seconds(value) -> float | None:
    """--max-case-seconds as a float, None when not given; anything but a finite number > 0
    is refused (a limit of 0 or NaN would skip every case, or none, without saying so)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise InputError(f"--max-case-seconds must be a finite number of seconds > 0, "
                         f"got {value!r}")
    return seconds


def check_networks(asked: list[str] | None) -> list[str]:
    if not asked:
        return list(NETWORKS)
    for name in asked:
        if name not in NETWORKS:
            raise UnknownNameError("benchmark network", name, NETWORKS)
    return [name for name in NETWORKS if name in asked]


def check_dtypes(asked: list[str] | None, default: tuple[str, ...] = DTYPES) -> list[str]:
    if not asked:
        return list(default)
    for name in asked:
        if name not in DTYPES:
            raise UnknownNameError("dtype", name, DTYPES)
    return [name for name in DTYPES if name in asked]


# ---- the selection: which variants, networks and dtypes a run measures, in which mode ----


@dataclass(frozen=True)
class Choice:
    """What a run measures, checked: the runner makes one from its options and hands it to each
    benchmark process through the environment (`environment`), where bench/conftest.py reads
    it back (`from_environment`) with the same checks."""

    mode: Mode
    variants: tuple[Variant, ...]
    networks: tuple[str, ...]
    dtypes: tuple[str, ...]


SELECTION_ENV = {"variants": "NNBENCH_VARIANTS", "networks": "NNBENCH_NETWORKS",
                 "dtypes": "NNBENCH_DTYPES", "mode": "NNBENCH_MODE",
                 "max_case_s": MAX_CASE_ENV}


def split_names(values) -> list[str] | None:
    """Names given as one comma-separated string or as words (each may hold commas); None when
    none were given."""
    if not values:
        return None
    words = [values] if isinstance(values, str) else values
    return [name.strip() for word in words for name in word.split(",") if name.strip()] or None


def choose(variants=None, networks=None, dtypes=None, mode: str = "default",
           max_case_s=None) -> Choice:
    """The selection, checked: unknown names and bad limits raise; None means the default
    (every variant, network and the mode's dtypes). A mode without extra variants measures
    each implementation's default only, unless variants are named."""
    chosen_mode = get_mode(mode).limited(check_max_case_seconds(max_case_s))
    asked = split_names(variants)
    chosen = select_variants(asked)
    if not asked and not chosen_mode.scope.extra_variants:
        chosen = [v for v in chosen if v.name == v.impl]
    return Choice(chosen_mode, tuple(chosen), tuple(check_networks(split_names(networks))),
                  tuple(check_dtypes(split_names(dtypes), chosen_mode.scope.dtypes)))


def environment_of(choice: Choice) -> dict[str, str]:
    """The environment variables that hand `choice` (all but its variants, which are set per
    process) to a benchmark process."""
    env = {SELECTION_ENV["mode"]: choice.mode.name,
           SELECTION_ENV["networks"]: ",".join(choice.networks),
           SELECTION_ENV["dtypes"]: ",".join(choice.dtypes)}
    if choice.mode.timing.max_case_s is not None:  # repr: the float exactly, read back
        env[SELECTION_ENV["max_case_s"]] = repr(choice.mode.timing.max_case_s)
    return env


def choice_from(get) -> Choice:
    """The selection from `get(key)`, a string or None for each key of SELECTION_ENV."""
    return choose(get("variants"), get("networks"), get("dtypes"), get("mode") or "default",
                  get("max_case_s"))
