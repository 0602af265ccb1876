"""What the claims table measures on a network and how it judges it: the four verdicts, the
Finding that carries one, the quantities read from a network (`accuracy`, `outputs`, ...),
and the judges that hold a quantity against the published figure (`Range`, `Near`, ...).

A quantity's `quantity(run)` gives (value, the words the table shows for it); a judge's
`judge(value)` gives (holds, the words the reason gives); `verdict_of` turns judgements into
a verdict and reason, and `judge_run` does all of it for one claim on one network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from nnbench import networks

from .formatting import ratio_text, seconds_text

REPRODUCED = "reproduced"  # the published figure holds here (to rounding)
WITHIN = "reproduced within tolerance"  # it holds within the tolerance the reason states
DIFFERS = "differs"  # it does not hold here, and the reason says why
NOT_RUN = "not run"  # it could not run here, and the reason says why


@dataclass
class Finding:
    measured: str
    verdict: str
    impl: str = ""
    reason: str = ""
    value: float | None = None  # the headline number, for charts
    seconds: float | None = None  # how long the measurement took
    data: dict | None = None  # the numbers behind `measured`, for charts (plain JSON values)


def fmt_outputs(values) -> str:
    return "[" + ", ".join(f"{v:.3f}" for v in np.ravel(values)) + "]"


# ---- what is measured on a trained network: quantity(run) gives (value, its words) ----


@dataclass
class Trained:
    """One implementation's network for a claim: trained (`history`), or untrained (None)."""
    impl: object
    history: object | None
    data: object
    preset: networks.Preset

    def outputs(self) -> np.ndarray:
        return np.ravel(self.impl.predict(self.data.X_test))


def accuracy(run: Trained):
    value = run.impl.evaluate(run.data.X_test, run.data.Y_test)[1]
    return value, f"{value:.2%} test accuracy"


def outputs(run: Trained):
    value = run.outputs()
    return value, f"outputs {fmt_outputs(value)}"


def classes(run: Trained):
    value = (run.outputs() > 0.5).astype(int).tolist()
    return value, f"classes {value}"


def loss(run: Trained):
    value = run.history.loss[-1]
    return value, f"loss {value:.1e}"


def plateau(run: Trained):
    """How much lower the cost ended than it was a tenth of the epochs before the end."""
    curve = run.history.loss
    earlier, last = curve[int(len(curve) * 0.9)], curve[-1]
    value = (earlier - last) / earlier
    return value, (f"cost {curve[0]:.3f} -> {last:.4f}, {value:.1%} lower over the last tenth "
                   "of the iterations")


def first_output(run: Trained):
    value = float(run.impl.predict(run.data.X_train)[0, 0])
    return value, f"output {value:.6f}"


def new_bit_untouched(run: Trained):
    """A7: the first input is 0 in every training string, so its weights never move."""
    value = bool(np.array_equal(run.impl.get_weights()[0][0][0],
                                run.preset.initial_params()[0][0][0]))
    return value, f"weights of the new bit untouched: {value}"


QUANTITIES = {quantity.__name__: quantity for quantity in (
    accuracy, outputs, classes, loss, plateau, first_output, new_bit_untouched)}


# ---- how a quantity is judged ----


def verdict_of(judged: list[tuple[bool, str]], hit: str, note: str = "") -> tuple[str, str]:
    """(verdict, reason) from judgements (holds, words): `hit` if every one holds, else
    DIFFERS; the reason is their words, then `note`."""
    verdict = hit if all(holds for holds, _ in judged) else DIFFERS
    return verdict, "; ".join([words for _, words in judged] + ([note] if note else []))


@dataclass(frozen=True)
class Range:
    """A number from `low` to `high`, both included; `label` names the range."""
    low: float
    high: float
    label: str

    def judge(self, value) -> tuple[bool, str]:
        holds = self.low <= value <= self.high
        return holds, f"{'within' if holds else 'outside'} {self.label}"


@dataclass(frozen=True)
class Near:
    """Outputs each within `tolerance` of the published ones: an absolute difference, as they
    were published to three decimals."""
    published: tuple[float, ...]
    tolerance: float

    def judge(self, outputs) -> tuple[bool, str]:
        off = float(np.max(np.abs(np.ravel(outputs) - np.array(self.published))))
        return off <= self.tolerance, (f"largest difference to the published outputs {off:.3f} "
                                       f"(tolerance {self.tolerance:g})")


@dataclass(frozen=True)
class Factor:
    """A positive number within `factor` times the published one, either way; `label` is the
    published figure as the reason names it."""
    published: float
    factor: float
    label: str

    def judge(self, value) -> tuple[bool, str]:
        ratio = value / self.published
        holds = 1 / self.factor <= ratio <= self.factor
        return holds, (f"{ratio_text(ratio)} the published {self.label}; within "
                       f"{ratio_text(self.factor)} either way counts")


@dataclass(frozen=True)
class Classes:
    """Outputs on the right side of 0.5: the classes `expected`."""
    expected: tuple[int, ...]

    def judge(self, classes) -> tuple[bool, str]:
        if list(classes) == list(self.expected):
            return True, "every output on the right side of 0.5"
        return False, f"classes {list(classes)}, not {list(self.expected)}"


@dataclass(frozen=True)
class Cut:
    """A number that, cut to `digits` decimals as the write-up printed it, is the published one."""
    published: float
    digits: int

    def judge(self, value) -> tuple[bool, str]:
        scale = 10 ** self.digits
        holds = math.floor(value * scale) / scale == self.published
        return holds, f"the write-up printed it cut to {self.digits} decimals"


@dataclass(frozen=True)
class Holds:
    """A property that must be true; `label` says what it is."""
    label: str

    def judge(self, value) -> tuple[bool, str]:
        return bool(value), self.label if value else f"not so: {self.label}"


def judge_run(claim, run: Trained) -> Finding:
    """A claim's quantities (`claim.compare`, `claim.shown`: names in QUANTITIES) read from
    `run` and judged: `claim.hit` if every comparison holds, else DIFFERS. The Finding's value
    is the first compared quantity, when that is a number."""
    compared = [(QUANTITIES[name](run), judge) for name, judge in claim.compare]
    words = [text for (_, text), _ in compared] + [QUANTITIES[name](run)[1]
                                                    for name in claim.shown]
    seconds = None
    if run.history is not None:
        seconds = run.history.seconds
        words.append(f"{run.preset.epochs:,} epochs in {seconds_text(seconds)}")
    verdict, reason = verdict_of([judge.judge(value) for (value, _), judge in compared],
                                 claim.hit, claim.note)
    first = compared[0][0][0]
    value = float(first) if np.ndim(first) == 0 and not isinstance(first, bool) else None
    return Finding("; ".join(words), verdict, reason=reason, value=value, seconds=seconds)
