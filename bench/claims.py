"""The claims table: every figure the seed write-ups published, re-measured here through the
common interface and judged (bench/verdicts.py).

CLAIMS holds one row per claim: its seed id (docs/seeds.md), the write-up (by title), the
figure as published, the preset and settings that reproduce it, and which quantities are
compared with the figure and how. Most rows run through one shared check, `check_trained`
(the preset trained by every implementation, each run judged); A2, A3, A5 and B2 measure
something else and have a check of their own (bench/claim_checks.py). A training run
over the time budget per (claim, implementation), estimated before it starts, is not run. A
Finding's `data` holds the numbers that the claims' charts draw (A2, B2).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nnbench
from nnbench import networks
from nnbench.errors import DataError, NNBenchError, UnknownNameError, UnsupportedError

from . import files, timing
from .claim_checks import check_a2, check_a3, check_a5, check_b2
from .verdicts import (
    DIFFERS,
    NOT_RUN,
    REPRODUCED,
    WITHIN,
    Classes,
    Cut,
    Factor,
    Finding,
    Holds,
    Near,
    Range,
    Trained,
    judge_run,
)
from .workloads import is_sampled

RUN_FILE = "claims.json"  # a run directory's findings, which its report shows
VERDICTS = (REPRODUCED, WITHIN, DIFFERS, NOT_RUN)  # every verdict a finding can carry

A = '"Solving MNIST with a Neural Network from the ground up"'
B = "a neural networks tutorial (feed-forward, backpropagation, digits)"
C = '"Code a Neural Network"'
D = '"Building a program that actually learns"'


@dataclass
class Context:
    impls: list[str]  # the implementations to run, all available here
    quick: bool = False
    budget: float = 300.0  # seconds per (claim, implementation): Keras's 100,000-epoch XOR fits
    log: Callable[[str], None] = lambda message: None


class TooSlow(Exception):
    def __init__(self, seconds: float):
        self.seconds = seconds


# ---- the claims, as data ----


@dataclass(frozen=True)
class Claim:
    id: str
    source: str
    claimed: str  # the published figure, as published
    check: Callable[[Context, Claim], list[Finding]] = field(repr=False)
    preset: str = ""  # the preset that reproduces it
    settings: tuple[tuple[str, object], ...] = ()  # the preset's settings changed for it
    compare: tuple[tuple[str, object], ...] = ()  # (quantity, judge): every one must hold
    shown: tuple[str, ...] = ()  # quantities measured and shown, not judged
    hit: str = WITHIN  # the verdict when every comparison holds; otherwise DIFFERS
    note: str = ""  # what the reason adds, whatever the verdict

    def get_preset(self) -> networks.Preset:
        return dataclasses.replace(networks.get(self.preset), **dict(self.settings))


# ---- the shared pieces: within the budget, per implementation, judged ----


def estimate_fit_seconds(name, preset, X, Y, epochs, lr, batch_size,
                         budget: float = math.inf) -> float:
    """Seconds `fit` would take: steps on one mini-batch (after a warm-up that pays any
    compilation), 1, 10, 100, ... of them until the steps added take 0.05 s, scaled to the
    samples and epochs of the real run. A fixed cost per call (Octave's round trip to its
    process) is counted once, as the real run pays it once (`timing.cost_of`). The sampled
    paradigms compile nothing and skip the warm-up. A probe grows by less where the rate so
    far says it would take over `budget`, and probing stops once one takes it: the real run
    would take longer still."""
    batch = min(batch_size or len(X), len(X), 256)
    if is_sampled(name):  # one sample at a time: its cost per sample is the same in any batch
        batch = min(batch, 2)
    probe = nnbench.create(name, preset.spec, preset.initial_params())
    Xb, Yb = X[:batch], Y[:batch]

    def seconds_for(steps: int) -> float:  # one full-batch step per epoch
        return timing.seconds(lambda: probe.fit(Xb, Yb, epochs=steps, lr=lr))

    if not is_sampled(name):
        seconds_for(1)  # warm-up: JIT compilation, graph tracing
    steps = len(X) * epochs / batch  # the real run's work, in steps of this probe's batch
    cost = timing.cost_of(seconds_for, math.ceil(steps), 0.05, growth=10, long_enough_s=budget,
                          cap_s=budget)
    return cost.seconds_for(steps)


def train(ctx: Context, name: str, preset: networks.Preset, data) -> Trained:
    """`preset` trained on `data` with implementation `name`, or TooSlow if over the budget."""
    estimate = estimate_fit_seconds(name, preset, data.X_train, data.Y_train, preset.epochs,
                                    preset.lr, preset.batch_size, ctx.budget)
    if estimate > ctx.budget:
        raise TooSlow(estimate)
    ctx.log(f"{name}: training {preset.name} for {preset.epochs} epochs (~{estimate:.0f} s)")
    impl = nnbench.create(name, preset.spec, preset.initial_params())
    history = impl.fit(data.X_train, data.Y_train, epochs=preset.epochs, lr=preset.lr,
                       batch_size=preset.batch_size, shuffle=preset.shuffle, seed=preset.seed)
    return Trained(impl, history, data, preset)


def per_implementation(ctx: Context, measure: Callable[[str], Finding]) -> list[Finding]:
    """`measure(name)` for each implementation, a refusal or a slow one reported, not raised."""
    findings = []
    for name in ctx.impls:
        try:
            finding = measure(name)
        except TooSlow as slow:
            finding = Finding("", NOT_RUN, reason=f"would take ~{slow.seconds:.0f} s, over the "
                              f"budget of {ctx.budget:g} s per claim and implementation")
        except UnsupportedError as exc:
            finding = Finding("", NOT_RUN, reason=f"not supported: {exc.reason}")
        except NNBenchError as exc:
            finding = Finding("", NOT_RUN, reason=str(exc))
        except Exception as exc:  # an implementation that breaks is reported, not fatal
            finding = Finding("", NOT_RUN, reason=f"failed: {type(exc).__name__}: {exc}")
        finding.impl = name
        findings.append(finding)
    return findings


def check_trained(ctx: Context, claim: Claim) -> list[Finding]:
    """The claim's preset trained by every implementation, each run judged."""
    preset = claim.get_preset()
    data = preset.load_data()  # once: MNIST takes over a second to load
    return per_implementation(ctx, lambda name: judge_run(claim, train(ctx, name, preset, data)))


def check_untrained(ctx: Context, claim: Claim) -> list[Finding]:
    """The claim's preset from its starting weights, untrained, in every implementation."""
    preset = claim.get_preset()
    data = preset.load_data()

    def measure(name: str) -> Finding:
        impl = nnbench.create(name, preset.spec, preset.initial_params())
        return judge_run(claim, Trained(impl, None, data, preset))

    return per_implementation(ctx, measure)


# ---- the table ----

MNIST_LEAKY = "the notebook's 94.36% came from another random start"
NO_SEED = "the write-up gave no seed: our random start is another"
XOR = (0, 1, 1, 0)

CLAIMS = [
    Claim("A1", A, "MNIST 784-512-10, leaky ReLU, 5 epochs: \"usually 92% to 95%\" test accuracy "
          "(the notebook's run: 94.36%)", check_trained, "mnist-leaky",
          compare=(("accuracy", Range(0.92, 0.95, "the published 92-95%")),), note=MNIST_LEAKY),
    Claim("A2", A, "long-form backpropagation (explicit Jacobians) gives the short form's "
          "gradient but \"runs into problems with speed and memory\"; the notebook kernel "
          "crashes at a decent batch size", check_a2, "mnist"),
    Claim("A3", A, "the softmax Jacobian diag(S) - S S^T is symmetric, its rows sum to 0, its "
          "diagonal is S_i (1 - S_i)", check_a3),
    Claim("A4", A, "XOR in Octave: 2-2-1 sigmoid, logistic cost, lr 0.01, 100,000 iterations "
          "learns XOR (settings published, no figure)", check_trained, "xor",
          compare=(("classes", Classes(XOR)),), shown=("outputs",), hit=REPRODUCED),
    Claim("A5", A, "Octave and the Python port give identical weights after 1,000 epochs; "
          "Octave ~9.5 s, Python ~5.4 s (1.76x)", check_a5, "xor"),
    Claim("A6", A, "Keras XOR (mse, SGD, batch 4, 100,000 epochs) predicts about "
          "[0.079, 0.914, 0.925, 0.069]", check_trained, "xor-keras",
          compare=(("outputs", Near((0.079, 0.914, 0.925, 0.069), 0.05)),), shown=("classes",),
          note=NO_SEED),
    Claim("A7", A, "a linear Dense(4) trained to reverse 4-bit strings starting with 0 ignores "
          "the new bit on strings starting with 1", check_trained, "binary-reversal",
          compare=(("accuracy", Range(0.0, 0.99, "0-99%: not every string reversed right")),
                   ("new_bit_untouched", Holds("the new bit's weights never move"))),
          hit=REPRODUCED),
    Claim("B1", B, "the 3-3-1 example's output is 0.8354", check_untrained, "feedforward-example",
          compare=(("first_output", Cut(0.8354, 4)),), hit=REPRODUCED),
    Claim("B2", B, "looped feed-forward 40 us (3-layer); 70 us vs 46 us vectorised (4-layer); "
          "41 ms vs 84 us vectorised for 100-100-50-10, \"500 fold\"", check_b2),
    Claim("B3", B, "digits, 64-30-10 sigmoid, 3,000 iterations: 86% test accuracy, cost "
          "plateauing by 3,000", check_trained, "digits",
          compare=(("accuracy", Range(0.83, 0.89, "3 points of the published 86%")),),
          shown=("plateau",), note="our split and random start are not the write-up's"),
    Claim("C1", C, "XOR with a bias column: cost falls to about 0, outputs about "
          "[0.018, 0.984, 0.986, 0.015]", check_trained, "xor-bias-column",
          compare=(("outputs", Near((0.018, 0.984, 0.986, 0.015), 0.02)),), shown=("loss",),
          note=NO_SEED),
    # Keras's mse is a mean: its SGD at 1.0 is lr 1.0 here, not the preset's 2.
    Claim("C2", C, "the same network in Keras: loss about 5.7e-4 at epoch 5,000, classes "
          "[0, 1, 1, 0]", check_trained, "xor-bias-column", (("lr", 1.0),),
          compare=(("loss", Factor(5.7e-4, 3, "5.7e-4")), ("classes", Classes(XOR))), note=NO_SEED),
    Claim("D1", D, "no hidden layer, 10,000 iterations: outputs close to 0, 0, 1, 1",
          check_trained, "copy-first-input", compare=(("outputs", Near((0, 0, 1, 1), 0.05)),),
          hit=REPRODUCED),
    Claim("A1+", "nnbench (beyond the seeds)", "plain SGD on 784-512-10 can reach at least "
          "98.0% (preset mnist-best), against A1's \"92% to 95%\"", check_trained, "mnist-best",
          compare=(("accuracy", Range(0.98, 1.0, "our target, 98.0% or more")),)),
]


def get_claims(ids: list[str] | None = None) -> list[Claim]:
    known = {claim.id: claim for claim in CLAIMS}
    for wanted in ids or []:
        if wanted not in known:
            raise UnknownNameError("claim id", wanted, known)
    return [claim for claim in CLAIMS if not ids or claim.id in ids]


def run_claims(ctx: Context, ids: list[str] | None = None) -> list[dict]:
    """Every selected claim checked: one row per finding, ready for JSON and pandas."""
    rows = []
    for claim in get_claims(ids):
        ctx.log(f"claim {claim.id}")
        started = time.perf_counter()
        try:
            findings = claim.check(ctx, claim)
        except NNBenchError as exc:
            findings = [Finding("", NOT_RUN, reason=str(exc))]
        except ImportError as exc:
            findings = [Finding("", NOT_RUN, reason=f"needs {exc.name or exc}")]
        except Exception as exc:  # a broken check is reported; the other claims still run
            findings = [Finding("", NOT_RUN, reason=f"failed: {type(exc).__name__}: {exc}")]
        seconds = time.perf_counter() - started
        for finding in findings:
            rows.append({"id": claim.id, "source": claim.source, "claimed": claim.claimed,
                         **asdict(finding), "claim_seconds": seconds})
    return rows


# ---- output ----


def format_table(rows: list[dict]) -> str:
    """The findings as a plain-text table, one block per claim."""
    lines = []
    for claim_id in dict.fromkeys(row["id"] for row in rows):
        block = [row for row in rows if row["id"] == claim_id]
        first = block[0]
        lines.append(f"{claim_id}  {first['source']}")
        lines.append(f"    claimed:  {first['claimed']}")
        for row in block:
            who = f"[{row['impl']}] " if row["impl"] else ""
            lines.append(f"    {row['verdict'].upper():<28} {who}{row['measured']}".rstrip())
            if row["reason"]:
                lines.append(f"    {'':<28} ({row['reason']})")
        lines.append("")
    lines.append(f"verdicts: {verdict_counts(rows)}")
    return "\n".join(lines)


def verdict_counts(rows: list[dict]) -> str:
    """How many findings got each verdict, e.g. "30 reproduced, 2 differs"."""
    counts = Counter(row["verdict"] for row in rows)
    return ", ".join(f"{n} {verdict}" for verdict, n in counts.items())


def write_json(rows: list[dict], path) -> None:
    """Write the findings to `path` through a temporary file, so a crash leaves no half file."""
    files.write_json(Path(path), rows)


def read_json(path) -> list[dict]:
    """Findings written by `write_json`, or a clear error if the file is not such a list."""
    path = Path(path)
    try:
        rows = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read claims from {str(path)!r}: {exc}") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) and "verdict" in r
                                             for r in rows):
        raise DataError(f"{str(path)!r} is not a claims file (a list of findings)")
    return rows
